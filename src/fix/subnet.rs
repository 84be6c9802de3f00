//! The kinds of edit a policy's `metadata.azaudit.fix` names for a subnet: its delegations
//! (`delegations`) and a one-entry `addressPrefixes` (`singleAddressPrefix`).

use super::text::{indentation, only_trivia, Layout};
use super::{inside, Delegation, Syntax, Target};
use crate::diagnostic::{Edit, Fix};
use crate::source::Span;
use crate::value::Value;

impl Target<'_> {
    /// [`FixEdit::Delegations`]: replace a wrong service name, add the missing delegation, or
    /// remove the delegations when none is needed.
    pub(super) fn delegation_fix(&self) -> Option<Fix> {
        let needed = self.needed()?;
        let properties = self.properties()?;
        let delegations = properties.get("delegations");
        match (needed, delegations) {
            (Delegation::To(service), Some(list)) => {
                let items = list.as_array()?;
                match items {
                    [] => self.replace_empty_delegations(properties, list, &service),
                    [only] => self.replace_service_name(only, &service),
                    _ => None,
                }
            }
            (Delegation::To(service), None) => self.add_delegations(properties, &service),
            (Delegation::Nothing, Some(list)) => {
                if list.as_array()?.is_empty() {
                    return None;
                }
                let edits = self.remove_property(list, "delegations")?;
                let title = match &self.spec.remove_title {
                    Some(t) => t.replace("{name}", self.subnet_name()),
                    None => format!("Remove the delegations of subnet '{}'", self.subnet_name()),
                };
                Some(Fix { title, edits })
            }
            (Delegation::Nothing, None) => None,
        }
    }

    pub(super) fn delegate_title(&self, service: &str) -> String {
        format!("Delegate subnet '{}' to {service}", self.subnet_name())
    }

    /// The one delegation names another service: name the right one.
    pub(super) fn replace_service_name(&self, delegation: &Value, service: &str) -> Option<Fix> {
        let name = delegation.pointer("properties.serviceName")?;
        let current = name.as_str()?;
        if current.eq_ignore_ascii_case(service) {
            return None;
        }
        let span = self.local(name)?;
        if self.file.slice(span) != self.quote(current) {
            return None;
        }
        Some(Fix {
            title: self.delegate_title(service),
            edits: vec![Edit {
                span,
                text: self.quote(service),
            }],
        })
    }

    /// `delegations: []`: fill it in.
    pub(super) fn replace_empty_delegations(
        &self,
        properties: &Value,
        list: &Value,
        service: &str,
    ) -> Option<Fix> {
        let span = self.local(list)?;
        let literal = self.file.slice(span);
        if !(literal.starts_with('[')
            && literal.ends_with(']')
            && only_trivia(literal.get(1..literal.len().checked_sub(1)?)?))
        {
            return None;
        }
        let line = self.file.line_index(span.start);
        let indent = indentation(self.file.line_text(line));
        let unit = self.layout(properties)?.unit;
        Some(Fix {
            title: self.delegate_title(service),
            edits: vec![Edit {
                span,
                text: self.delegations_array(service, indent, unit),
            }],
        })
    }

    /// No `delegations`: add the property as the last one of `properties`.
    pub(super) fn add_delegations(&self, properties: &Value, service: &str) -> Option<Fix> {
        let (_, last) = properties.as_object()?.last()?;
        let Layout {
            span,
            close_line_start,
            indent,
            unit,
        } = self.layout(properties)?;
        let text = self.text();
        let eol = self.eol();
        let mut edits = Vec::new();
        if self.syntax == Syntax::Json {
            // The last member needs a comma unless it has one.
            let trivia_after = |end: usize| {
                text.get(end..close_line_start as usize)
                    .is_some_and(only_trivia)
            };
            // Where its value ends; for a value from elsewhere or an expression inside a string
            // (`"[parameters('p')]"`), where the text before the closing brace's line ends, if no
            // comment is there.
            let scanned = || {
                let before = text.get(span.start as usize..close_line_start as usize)?;
                let before = before.trim_end();
                let last_line = before.rsplit('\n').next()?;
                if last_line.contains("//") || last_line.contains("*/") {
                    return None;
                }
                Some(span.start as usize + before.len())
            };
            let last_end = self
                .local(last)
                .map(|s| s.end as usize)
                .filter(|end| trivia_after(*end))
                .or_else(scanned)
                .filter(|end| trivia_after(*end))?;
            let rest = text.get(last_end..close_line_start as usize)?;
            if !rest.trim_start().starts_with(',') {
                edits.push(Edit {
                    span: Span::new(span.file, last_end, last_end),
                    text: ",".into(),
                });
            }
        }
        let insert = format!(
            "{indent}{}: {}{eol}",
            self.key("delegations"),
            self.delegations_array(service, indent, unit)
        );
        let at = close_line_start as usize;
        edits.push(Edit {
            span: Span::new(span.file, at, at),
            text: insert,
        });
        Some(Fix {
            title: self.delegate_title(service),
            edits,
        })
    }

    /// A `delegations` array with one delegation to `service`, starting at `[`, its closing
    /// bracket at `indent`.
    pub(super) fn delegations_array(&self, service: &str, indent: &str, unit: &str) -> String {
        let eol = self.eol();
        let i1 = format!("{indent}{unit}");
        let i2 = format!("{i1}{unit}");
        let i3 = format!("{i2}{unit}");
        let name = self.quote(&service.replace('/', "."));
        let service = self.quote(service);
        match self.syntax {
            Syntax::Bicep => format!(
                "[{eol}{i1}{{{eol}{i2}name: {name}{eol}{i2}properties: {{{eol}{i3}serviceName: {service}{eol}{i2}}}{eol}{i1}}}{eol}{indent}]"
            ),
            Syntax::Json => format!(
                "[{eol}{i1}{{{eol}{i2}\"name\": {name},{eol}{i2}\"properties\": {{{eol}{i3}\"serviceName\": {service}{eol}{i2}}}{eol}{i1}}}{eol}{indent}]"
            ),
        }
    }

    /// `addressPrefixes` with one entry becomes `addressPrefix`.
    pub(super) fn address_prefix_fix(&self) -> Option<Fix> {
        if !self.applies() {
            return None;
        }
        let properties = self.properties()?;
        if properties.get("addressPrefix").is_some() {
            return None;
        }
        let list = properties.get("addressPrefixes")?;
        let [entry] = list.as_array()? else {
            return None;
        };
        let list_span = self.local(list)?;
        let text = self.text();
        let alone = |entry: Span| {
            let open = text.get(list_span.start as usize..entry.start as usize)?;
            let close = text.get(entry.end as usize..list_span.end as usize)?;
            let open = open.strip_prefix('[')?;
            let close = close.strip_suffix(']')?;
            (only_trivia(open) && only_trivia(close)).then_some(entry)
        };
        // The entry's own text, else (an ARM expression in a string, whose value span is the
        // expression) the one string literal in the brackets.
        let entry_span = self
            .local(entry)
            .filter(|s| inside(*s, list_span))
            .and_then(alone)
            .or_else(|| self.string_literal_in(list_span).and_then(alone))?;
        let key = self.key_start(list_span, "addressPrefixes")?;
        let entry_text = self.file.slice(entry_span);
        Some(Fix {
            title: format!(
                "Replace addressPrefixes with addressPrefix {entry_text} on subnet '{}'",
                self.subnet_name()
            ),
            edits: vec![Edit {
                span: Span::new(list_span.file, key, list_span.end as usize),
                text: format!("{}: {entry_text}", self.key("addressPrefix")),
            }],
        })
    }
}
