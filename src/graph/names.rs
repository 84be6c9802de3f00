//! Resource names as a person reads them in a message: the evaluated name when it is known, else
//! the template's symbol and the evaluated part, with long placeholders abbreviated
//! (`'apiService' (apiservice{uniqueString(…)})`).

use crate::graph::Resource;

/// The resource's name for a message, quoted: `'apim-contoso'` when its name is known text, else
/// `'<symbol>' (<abbreviated name>)` (or just the abbreviated name in quotes without a symbol).
pub fn quoted(resource: &Resource) -> String {
    quoted_name(&resource.name, resource.symbol.as_deref())
}

/// [`quoted`] for a name and an optional symbol.
pub fn quoted_name(name: &str, symbol: Option<&str>) -> String {
    if !name.contains('{') {
        return format!("'{name}'");
    }
    let short = abbreviate(name);
    match symbol {
        Some(symbol) if !symbol.is_empty() => format!("'{symbol}' ({short})"),
        _ => format!("'{short}'"),
    }
}

/// Placeholders with arguments lose them: `x{uniqueString(/subscriptions/{subscriptionId})}` →
/// `x{uniqueString(…)}`; other text stays.
pub fn abbreviate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Depth of `{` and, inside the outermost placeholder, of `(`.
    let mut braces = 0usize;
    let mut parens = 0usize;
    for c in text.chars() {
        match c {
            '{' => {
                if parens == 0 {
                    out.push(c);
                }
                braces += 1;
            }
            '}' => {
                braces = braces.saturating_sub(1);
                if parens == 0 {
                    out.push(c);
                }
            }
            '(' if braces > 0 => {
                if parens == 0 {
                    out.push_str("(…");
                }
                parens += 1;
            }
            ')' if braces > 0 && parens > 0 => {
                parens -= 1;
                if parens == 0 {
                    out.push(')');
                }
            }
            c => {
                if parens == 0 {
                    out.push(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_stay() {
        assert_eq!(quoted_name("apim-contoso", Some("apim")), "'apim-contoso'");
    }

    #[test]
    fn placeholders_are_shortened_and_the_symbol_named() {
        let name = "apiservice{uniqueString(/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName})}";
        assert_eq!(
            quoted_name(name, Some("apiService")),
            "'apiService' (apiservice{uniqueString(…)})"
        );
        assert_eq!(quoted_name("{apimName}", None), "'{apimName}'");
        assert_eq!(
            abbreviate("vnet/{concat(a, f(b))}-{x}"),
            "vnet/{concat(…)}-{x}"
        );
        assert_eq!(abbreviate("a(b){"), "a(b){");
    }
}
