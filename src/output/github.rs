//! `--format github`: GitHub Actions workflow commands, one annotation per diagnostic.

use super::{escape_controls, locate, ordered, Located, RenderOptions};
use crate::diagnostic::Severity;
use crate::report::Report;
use std::io::{self, Write};

/// Writes one `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=<code>::message` per
/// diagnostic (`warning` and `notice` for the other severities).
pub fn render(report: &Report, options: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    for (d, at) in ordered(report, &options.cwd) {
        if d.suppression.is_some() {
            continue;
        }
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        for r in &d.related {
            let rel = locate(report, r.span, &options.cwd);
            message.push_str(&format!(
                "\nnote: {} ({}:{}:{})",
                r.kind.text(),
                rel.file,
                rel.range.start.line,
                rel.range.start.column
            ));
        }
        writeln!(out, "{}", command_line(command, &at, &d.code, &message))?;
    }
    if options.show_not_evaluated {
        for n in &report.not_evaluated {
            let at = locate(report, n.span, &options.cwd);
            let message = format!("not evaluated: {}", n.reason);
            writeln!(out, "{}", command_line("notice", &at, &n.code, &message))?;
        }
    }
    Ok(())
}

fn command_line(command: &str, at: &Located, title: &str, message: &str) -> String {
    format!(
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(&escape_controls(&at.file)),
        at.range.start.line,
        at.range.start.column,
        at.range.end.line,
        at.range.end.column,
        escape_property(title),
        escape_data(&escape_controls(message))
    )
}

/// Escapes a command's message as the runner expects: `%`, `\r`, `\n`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_github_defines() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
