//! `--format text` (the default): code frames with the offending lines underlined, the help line,
//! related locations and a summary line. Rendered with `annotate-snippets`.

use super::{display_path, escape_controls, ordered, RenderOptions, Summary};
use crate::diagnostic::Severity;
use crate::report::Report;
use crate::source::{SourceFile, Span};
use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};
use std::io::{self, Write};
use std::path::Path;

/// At most this many lines of one file are shown in a frame.
const MAX_FRAME_LINES: usize = 40;
/// A span over more lines than this is underlined on its first line only (a whole resource
/// declaration would otherwise fill the screen).
const MAX_SPAN_LINES: usize = 8;

/// One annotation to draw: its span and label, primary or context.
struct Mark<'a> {
    span: Span,
    label: &'a str,
    primary: bool,
}

/// Writes every diagnostic as a code frame, then the summary line.
pub fn render(report: &Report, options: &RenderOptions<'_>, out: &mut dyn Write) -> io::Result<()> {
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let cwd = &options.cwd;
    for (d, _) in ordered(report, cwd) {
        // Suppressed findings are counted in the summary, not shown.
        if d.suppression.is_some() {
            continue;
        }
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Info => Level::INFO,
        };
        // Template text reaches the terminal escaped (annotate-snippets cleans source lines).
        let texts: Vec<_> = d.related.iter().map(|r| r.kind.text()).collect();
        let labels: Vec<_> = texts.iter().map(|t| escape_controls(t)).collect();
        let mut marks = vec![Mark {
            span: d.span,
            label: "",
            primary: true,
        }];
        marks.extend(d.related.iter().zip(&labels).map(|(r, label)| Mark {
            span: r.span,
            label: label.as_ref(),
            primary: false,
        }));
        let title = escape_controls(&d.message);
        let help = d.help.as_deref().map(escape_controls);
        let mut group = level
            .clone()
            .primary_title(title.as_ref())
            .id(d.code.as_str())
            .elements(frames(report, &marks, cwd));
        if let Some(help) = &help {
            group = group.element(Level::HELP.message(help.as_ref()));
        }
        let docs = options
            .rules
            .iter()
            .find(|r| r.id == d.code)
            .and_then(|r| r.help_uri.clone())
            .or_else(|| crate::policy::published_doc_url(&d.code));
        if let Some(docs) = docs {
            group = group.element(Level::NOTE.with_name("docs").message(docs));
        }
        let deployment = deployment_note(report, d, cwd);
        if let Some(note) = &deployment {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        writeln!(out, "{}\n", renderer.render(&[group]))?;
    }
    if options.show_not_evaluated {
        render_not_evaluated(report, cwd, out)?;
    }
    writeln!(out, "{}", Summary::of(report).line())?;
    let undecided = report.not_evaluated.len();
    if undecided > 0 && !options.show_not_evaluated {
        let what = if undecided == 1 {
            "1 check (policy × resource)".to_string()
        } else {
            format!("{undecided} checks (policy × resource)")
        };
        writeln!(
            out,
            "{what} could not be evaluated; --show-not-evaluated shows why"
        )?;
    }
    Ok(())
}

/// The `--show-not-evaluated` listing: one block per cause (largest first) with its count, the
/// policies it held back, each check's location and resource, and what would decide them.
fn render_not_evaluated(report: &Report, cwd: &Path, out: &mut dyn Write) -> io::Result<()> {
    for group in super::not_evaluated::groups(report) {
        let n = group.items.len();
        let policies: Vec<String> = group
            .by_policy
            .iter()
            .map(|(code, k)| format!("{code} ×{k}"))
            .collect();
        writeln!(
            out,
            "note: {n} check{} not evaluated: {}",
            if n == 1 { "" } else { "s" },
            group.cause.title()
        )?;
        writeln!(out, "  policies: {}", policies.join(", "))?;
        if group.cause == super::not_evaluated::Cause::Parameter {
            let names: Vec<String> = super::not_evaluated::parameters(&group)
                .iter()
                .map(|(name, k)| format!("'{name}' ×{k}"))
                .collect();
            writeln!(out, "  parameters: {}", names.join(", "))?;
        }
        for item in &group.items {
            let at = super::locate(report, item.span, cwd);
            let what = item
                .resource
                .as_ref()
                .map(|r| {
                    format!(
                        " on {}",
                        crate::graph::names::quoted_name(&r.name, r.symbol.as_deref())
                    )
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  --> {}:{}:{} {}{what}: {}",
                at.file,
                at.range.start.line,
                at.range.start.column,
                item.code,
                crate::graph::names::abbreviate(&item.reason)
            )?;
        }
        writeln!(out, "  = help: {}\n", group.cause.help())?;
    }
    Ok(())
}

/// "in the deployment of main.bicepparam": the file a finding's deployment starts at (its
/// outermost module call or parameter file), when that is another file than the finding's.
fn deployment_note(
    report: &Report,
    d: &crate::diagnostic::Diagnostic,
    cwd: &Path,
) -> Option<String> {
    let start = d.related.iter().find(|r| {
        matches!(
            r.kind,
            crate::diagnostic::RelatedKind::Module | crate::diagnostic::RelatedKind::ParameterFile
        )
    })?;
    if start.span.file == d.span.file {
        return None;
    }
    let file = report.sources.get(start.span.file)?;
    Some(format!(
        "in the deployment of {}",
        display_path(&file.path, cwd)
    ))
}

/// One frame per file the marks touch, in order of first appearance (the primary's file first);
/// the frame that holds the primary mark comes first, so the `-->` header is its location.
fn frames<'a>(
    report: &'a Report,
    marks: &[Mark<'a>],
    cwd: &Path,
) -> Vec<annotate_snippets::Element<'a>> {
    let mut files = Vec::new();
    for m in marks {
        if !files.contains(&m.span.file) {
            files.push(m.span.file);
        }
    }
    let mut elements = Vec::new();
    let mut primary_frame = None;
    for file_id in files {
        let Some(file) = report.sources.get(file_id) else {
            continue;
        };
        let path = escape_controls(&display_path(&file.path, cwd)).into_owned();
        let mut here: Vec<&Mark<'a>> = marks.iter().filter(|m| m.span.file == file_id).collect();
        here.sort_by_key(|m| m.span.start);
        // Marks too far apart for one frame get frames of their own, so none is clipped.
        let mut group: Vec<&Mark<'a>> = Vec::new();
        let mut group_first_line = 0usize;
        for m in here {
            let line = file.line_index(m.span.start);
            if !group.is_empty() && line >= group_first_line + MAX_FRAME_LINES {
                elements.push(frame(file, path.clone(), &group));
                group.clear();
            }
            if m.primary {
                primary_frame = Some(elements.len());
            }
            if group.is_empty() {
                group_first_line = line;
            }
            group.push(m);
        }
        if !group.is_empty() {
            elements.push(frame(file, path, &group));
        }
    }
    if let Some(i) = primary_frame {
        if i > 0 && i < elements.len() {
            let primary = elements.remove(i);
            elements.insert(0, primary);
        }
    }
    elements
}

/// A snippet of `file` covering the lines of `marks` (or just the position when the file has no
/// text to show).
fn frame<'a>(
    file: &'a SourceFile,
    path: String,
    marks: &[&Mark<'a>],
) -> annotate_snippets::Element<'a> {
    let text: &'a str = &file.text;
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let shortened: Vec<Mark<'a>> = marks.iter().map(|m| shorten(file, m)).collect();
    let marks: Vec<&Mark<'a>> = shortened.iter().collect();
    let marks = marks.as_slice();
    let first = marks
        .iter()
        .map(|m| m.span.start.min(len))
        .min()
        .unwrap_or(0);
    let last = marks
        .iter()
        .map(|m| m.span.end.max(m.span.start).min(len))
        .max()
        .unwrap_or(0);
    if text.is_empty() {
        let at = file.line_col(first);
        return Origin::path(path)
            .line(at.line as usize)
            .char_column(at.column as usize)
            .into();
    }
    let first_line = file.line_index(first);
    let last_line = file
        .line_index(last)
        .min(first_line + MAX_FRAME_LINES.saturating_sub(1));
    let window_start = file.line_start(first_line) as usize;
    let window_end = if last_line + 1 < file.line_count() {
        file.line_start(last_line + 1) as usize
    } else {
        text.len()
    };
    let window_end = floor_boundary(text, window_end.max(window_start));
    let window = text.get(window_start..window_end).unwrap_or("");
    let mut snippet = Snippet::source(window)
        .line_start(first_line + 1)
        .path(path);
    for m in marks {
        let clip = |offset: u32| {
            let o = (offset as usize).clamp(window_start, window_end) - window_start;
            floor_boundary(window, o)
        };
        let start = clip(m.span.start);
        let end = clip(m.span.end).max(start);
        let kind = if m.primary {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        let annotation = kind.span(start..end);
        snippet = snippet.annotation(if m.label.is_empty() {
            annotation
        } else {
            annotation.label(m.label)
        });
    }
    snippet.into()
}

/// `m` with a span over more than [`MAX_SPAN_LINES`] lines cut to the end of its first line.
fn shorten<'a>(file: &SourceFile, m: &Mark<'a>) -> Mark<'a> {
    let first = file.line_index(m.span.start);
    let last = file.line_index(m.span.end);
    let mut span = m.span;
    if last.saturating_sub(first) > MAX_SPAN_LINES {
        let line_end = file.line_start(first) as usize + file.line_text(first).len();
        span.end = u32::try_from(line_end).unwrap_or(span.end).max(span.start);
    }
    Mark {
        span,
        label: m.label,
        primary: m.primary,
    }
}

/// The largest char boundary of `s` at or below `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::source::FileId;

    fn render_one(text: &str, spans: &[(u32, u32)]) -> String {
        let mut report = Report::default();
        let file = report.sources.add("/r/a.bicep".into(), text);
        for (start, end) in spans {
            let span = Span {
                file,
                start: *start,
                end: *end,
            };
            report
                .diagnostics
                .push(Diagnostic::new("x", Severity::Error, span, "m").with_related(span, "r"));
        }
        // A span in a file the report does not have.
        report.diagnostics.push(Diagnostic::new(
            "y",
            Severity::Warning,
            Span::new(FileId(9), 0, 1),
            "no file",
        ));
        let options = RenderOptions {
            cwd: "/r".into(),
            ..RenderOptions::default()
        };
        let mut out = Vec::new();
        render(&report, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn odd_spans_do_not_crash() {
        let text = "ab\nçd\n\n";
        let out = render_one(
            text,
            &[(5, 2), (4, 5), (0, 999), (999, 1000), (7, 7), (0, 0)],
        );
        assert!(out.contains("error[x]: m"), "{out}");
        assert!(out.contains("warning[y]: no file"), "{out}");
        assert!(render_one("", &[(0, 0), (3, 9)]).contains("a.bicep"));
    }

    #[test]
    fn crlf_lines_render_without_carriage_returns() {
        let out = render_one("a\r\nbad\r\nc\r\n", &[(3, 6)]);
        assert!(!out.contains('\r'), "{out:?}");
        assert!(out.contains("2 | bad\n"), "{out}");
    }

    #[test]
    fn long_spans_are_cut() {
        let text: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let len = u32::try_from(text.len()).unwrap();
        let out = render_one(&text, &[(0, len)]);
        assert!(out.lines().count() < 20, "{out}");
        assert!(out.contains("1 | line 0\n"), "{out}");
    }
}
