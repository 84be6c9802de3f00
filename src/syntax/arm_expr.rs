//! The ARM template expression language (`[concat(parameters('a'), 'b')]`) → expression tree.
//!
//! A recursive-descent parser over the text between the outer `[` and `]`. Calls keep their
//! original casing (the evaluator compares function names case-insensitively); `.name` becomes
//! [`ExprKind::Member`], `[index]` becomes [`ExprKind::Index`]. Errors become [`ExprKind::Error`]
//! whose span points at the offending text.

use crate::expr::{Expr, ExprKind};
use crate::source::{FileId, Span};

/// How deeply calls, indexes and member accesses may nest before parsing gives up.
const MAX_DEPTH: usize = 128;

/// The text between the brackets when `s` is an expression string (`[...]`); `None` for a plain
/// string, including one that starts with `[[` (a literal `[`).
pub fn expression_text(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    (!s.starts_with("[[")).then_some(inner)
}

/// Whether `s` is an expression string (`[...]`, not `[[...`).
pub fn is_expression(s: &str) -> bool {
    expression_text(s).is_some()
}

/// Parses the text inside `[` `]` of an ARM expression string; `offset` is the byte offset of that
/// text in the file (so spans point into the file). An error is the whole result: one
/// ExprKind::Error with a message, never an error inside a tree.
pub fn parse(file: FileId, text: &str, offset: usize) -> Expr {
    let mut p = Parser {
        file,
        offset,
        text,
        // A token takes three bytes or more in the common case (`'a'`, `f(`, `),`): sized once.
        tokens: Vec::with_capacity(text.len() / 3 + 2),
        pos: 0,
        end: text.len(),
    };
    if let Err(e) = p.lex() {
        return e;
    }
    if p.tokens.is_empty() {
        return Expr::new(
            ExprKind::Error("empty expression".into()),
            p.span(0, text.len()),
        );
    }
    let expr = match p.expr(0) {
        Ok(e) => e,
        Err(e) => return e,
    };
    match p.peek() {
        None => expr,
        Some(&t) => p.error_at(&t, format!("unexpected {}", p.describe(&t))),
    }
}

/// A token's kind; its text is read from the expression text by its span when needed, so tokens
/// are plain values and lexing allocates nothing but the token list.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Ident,
    /// A quoted string; `escaped` when it holds a doubled quote (`''`).
    Str {
        escaped: bool,
    },
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

struct Parser<'s> {
    file: FileId,
    offset: usize,
    text: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    /// Length of the expression text (for "unexpected end" spans).
    end: usize,
}

type PResult = Result<Expr, Expr>;

impl<'s> Parser<'s> {
    /// A token's text.
    fn text_of(&self, t: &Token) -> &'s str {
        self.text.get(t.start..t.end).unwrap_or("")
    }

    /// A string token's value: the text between its quotes, `''` read as `'`.
    fn string_of(&self, t: &Token, escaped: bool) -> String {
        let inner = self
            .text
            .get(t.start + 1..t.end.saturating_sub(1))
            .unwrap_or("");
        if escaped {
            inner.replace("''", "'")
        } else {
            inner.to_string()
        }
    }

    fn describe(&self, t: &Token) -> String {
        match t.tok {
            Tok::Ident => format!("`{}`", self.text_of(t)),
            Tok::Str { .. } => "string".into(),
            Tok::Int(_) | Tok::Float(_) => "number".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.offset + start, self.offset + end)
    }

    fn error(&self, start: usize, end: usize, message: String) -> Expr {
        Expr::new(ExprKind::Error(message), self.span(start, end))
    }

    fn error_at(&self, t: &Token, message: String) -> Expr {
        self.error(t.start, t.end, message)
    }

    fn lex(&mut self) -> Result<(), Expr> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            let start = i;
            let tok = match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    i += 1;
                    continue;
                }
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                b'[' => Tok::LBracket,
                b']' => Tok::RBracket,
                b',' => Tok::Comma,
                b'.' => Tok::Dot,
                b'\'' => {
                    let mut j = i + 1;
                    let mut closed = false;
                    // `''` is an escaped quote.
                    let mut escaped = false;
                    while let Some(q) = bytes.get(j..).and_then(|rest| memchr::memchr(b'\'', rest))
                    {
                        j += q;
                        if bytes.get(j + 1) == Some(&b'\'') {
                            escaped = true;
                            j += 2;
                            continue;
                        }
                        closed = true;
                        j += 1;
                        break;
                    }
                    if !closed {
                        return Err(self.error(start, text.len(), "unterminated string".into()));
                    }
                    self.tokens.push(Token {
                        tok: Tok::Str { escaped },
                        start,
                        end: j,
                    });
                    i = j;
                    continue;
                }
                b'0'..=b'9' | b'-' => {
                    let mut j = i + 1;
                    while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                        j += 1;
                    }
                    let mut float = false;
                    if bytes.get(j) == Some(&b'.')
                        && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                    {
                        float = true;
                        j += 1;
                        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                            j += 1;
                        }
                    }
                    let lit = text.get(start..j).unwrap_or("");
                    let tok = if float {
                        lit.parse::<f64>().ok().map(Tok::Float)
                    } else {
                        lit.parse::<i64>().ok().map(Tok::Int)
                    };
                    let Some(tok) = tok else {
                        return Err(self.error(start, j, format!("invalid number `{lit}`")));
                    };
                    self.tokens.push(Token { tok, start, end: j });
                    i = j;
                    continue;
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                    let mut j = i + 1;
                    while bytes
                        .get(j)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
                    {
                        j += 1;
                    }
                    self.tokens.push(Token {
                        tok: Tok::Ident,
                        start,
                        end: j,
                    });
                    i = j;
                    continue;
                }
                _ => {
                    let ch = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                    let end = i + ch.len_utf8();
                    return Err(self.error(start, end, format!("unexpected character `{ch}`")));
                }
            };
            self.tokens.push(Token {
                tok,
                start,
                end: i + 1,
            });
            i += 1;
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).copied();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn at(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn unexpected_end(&self, what: &str) -> Expr {
        self.error(
            self.end,
            self.end,
            format!("unexpected end of expression, expected {what}"),
        )
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, Expr> {
        match self.next() {
            Some(t) if t.tok == tok => Ok(t),
            Some(t) => {
                Err(self.error_at(&t, format!("expected {what}, found {}", self.describe(&t))))
            }
            None => Err(self.unexpected_end(what)),
        }
    }

    /// A primary expression followed by any number of `.name` and `[index]`.
    fn expr(&mut self, depth: usize) -> PResult {
        if depth > MAX_DEPTH {
            let (s, e) = self
                .peek()
                .map(|t| (t.start, t.end))
                .unwrap_or((self.end, self.end));
            return Err(self.error(s, e, "expression nested too deeply".into()));
        }
        let mut expr = self.primary(depth)?;
        let mut chain = depth;
        loop {
            if self.at(&Tok::Dot) {
                chain += 1;
                self.next();
                let t = self.next();
                let Some(
                    name @ Token {
                        tok: Tok::Ident,
                        end,
                        ..
                    },
                ) = t
                else {
                    return Err(match t {
                        Some(t) => self.error_at(
                            &t,
                            format!("expected a property name, found {}", self.describe(&t)),
                        ),
                        None => self.unexpected_end("a property name"),
                    });
                };
                let span = Span::new(self.file, expr.span.start as usize, self.offset + end);
                expr = Expr::new(
                    ExprKind::Member {
                        target: Box::new(expr),
                        name: self.text_of(&name).to_string(),
                        safe: false,
                    },
                    span,
                );
            } else if self.at(&Tok::LBracket) {
                chain += 1;
                self.next();
                let index = self.expr(chain + 1)?;
                let close = self.expect(Tok::RBracket, "`]`")?;
                let span = Span::new(self.file, expr.span.start as usize, self.offset + close.end);
                expr = Expr::new(
                    ExprKind::Index {
                        target: Box::new(expr),
                        index: Box::new(index),
                        safe: false,
                        from_end: false,
                    },
                    span,
                );
            } else {
                return Ok(expr);
            }
            if chain > MAX_DEPTH {
                return Err(Expr::new(
                    ExprKind::Error("expression nested too deeply".into()),
                    expr.span,
                ));
            }
        }
    }

    fn primary(&mut self, depth: usize) -> PResult {
        let Some(t) = self.next() else {
            return Err(self.unexpected_end("an expression"));
        };
        match t.tok {
            Tok::Str { escaped } => Ok(Expr::new(
                ExprKind::String(self.string_of(&t, escaped)),
                self.span(t.start, t.end),
            )),
            Tok::Int(i) => Ok(Expr::new(ExprKind::Int(i), self.span(t.start, t.end))),
            Tok::Float(f) => Ok(Expr::new(ExprKind::Float(f), self.span(t.start, t.end))),
            Tok::Ident => {
                let first = self.text_of(&t);
                // `ns.fn(` is a user-defined function call; otherwise `name(`.
                let (namespace, name) = if self.at(&Tok::Dot)
                    && matches!(
                        self.tokens.get(self.pos + 1),
                        Some(Token {
                            tok: Tok::Ident,
                            ..
                        })
                    )
                    && matches!(
                        self.tokens.get(self.pos + 2),
                        Some(Token {
                            tok: Tok::LParen,
                            ..
                        })
                    ) {
                    self.next();
                    let Some(
                        n @ Token {
                            tok: Tok::Ident, ..
                        },
                    ) = self.next()
                    else {
                        return Err(self.unexpected_end("a function name"));
                    };
                    (Some(first), self.text_of(&n))
                } else {
                    (None, first)
                };
                if !self.at(&Tok::LParen) {
                    if namespace.is_none() {
                        let lit = match name.to_ascii_lowercase().as_str() {
                            "true" => Some(ExprKind::Bool(true)),
                            "false" => Some(ExprKind::Bool(false)),
                            "null" => Some(ExprKind::Null),
                            _ => None,
                        };
                        if let Some(kind) = lit {
                            return Ok(Expr::new(kind, self.span(t.start, t.end)));
                        }
                    }
                    return Err(self.error(
                        t.start,
                        t.end,
                        format!("expected `(` after function name `{name}`"),
                    ));
                }
                self.next();
                let mut args = Vec::new();
                let close = loop {
                    if let Some(&c) = self.peek().filter(|c| c.tok == Tok::RParen) {
                        self.next();
                        break c;
                    }
                    if !args.is_empty() {
                        self.expect(Tok::Comma, "`,` or `)`")?;
                    }
                    args.push(self.expr(depth + 1)?);
                };
                let span = self.span(t.start, close.end);
                if namespace.is_none() {
                    if let Some(kind) = lambda_form(name, &mut args) {
                        return Ok(Expr::new(kind, span));
                    }
                }
                Ok(Expr::new(
                    ExprKind::call(namespace.map(str::to_string), name, args),
                    span,
                ))
            }
            _ => Err(self.error(
                t.start,
                t.end,
                format!("expected an expression, found {}", self.describe(&t)),
            )),
        }
    }
}

/// ARM's `lambda('a', 'b', body)` is the tree of Bicep's `(a, b) => body`, and
/// `lambdaVariables('a')` the name `a` bound by it: one evaluator reads both languages' lambdas.
/// `None` when `name` is neither, or the parameter names are not string literals.
fn lambda_form(name: &str, args: &mut Vec<Expr>) -> Option<ExprKind> {
    if name.eq_ignore_ascii_case("lambdaVariables") {
        return match args.as_slice() {
            [Expr {
                kind: ExprKind::String(v),
                ..
            }] => Some(ExprKind::Ident(v.clone())),
            _ => None,
        };
    }
    if !name.eq_ignore_ascii_case("lambda") || args.is_empty() {
        return None;
    }
    let (_, names) = args.split_last()?;
    let params = names
        .iter()
        .map(|a| a.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    let body = Box::new(args.pop()?);
    args.clear();
    Some(ExprKind::Lambda { params, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Expr {
        parse(FileId(0), text, 0)
    }

    use crate::expr::compact as show;

    #[test]
    fn calls_keep_casing_and_nest() {
        assert_eq!(
            show(&p("concat(parameters('a'), 'b')")),
            "concat(parameters('a'), 'b')"
        );
        assert_eq!(
            show(&p("resourceGroup().location")),
            "resourceGroup().location"
        );
        assert_eq!(show(&p("  toLower( 'X' )  ")), "toLower('X')");
    }

    #[test]
    fn namespaced_user_functions() {
        let e = p("contoso.uniqueName('x')");
        let ExprKind::Call(c) = &e.kind else {
            panic!("{e:?}")
        };
        let crate::expr::Call {
            namespace,
            name,
            args,
        } = c.as_ref();
        assert_eq!(namespace.as_deref(), Some("contoso"));
        assert_eq!(name, "uniqueName");
        assert_eq!(args.len(), 1);
    }

    #[test]
    fn members_and_indexes() {
        assert_eq!(
            show(&p("reference('x').outputs['id'].value[0]")),
            "reference('x').outputs['id'].value[0]"
        );
        assert_eq!(
            show(&p("variables('a')[copyIndex()].name")),
            "variables('a')[copyIndex()].name"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(show(&p("'it''s'")), "'it's'");
        assert_eq!(show(&p("add(-3, 42)")), "add(-3, 42)");
        assert_eq!(show(&p("if(true, null, false)")), "if(true, null, false)");
        assert_eq!(show(&p("true()")), "true()");
        assert_eq!(show(&p("''")), "''");
    }

    #[test]
    fn spans_are_file_offsets() {
        // In the file: `"[concat('a', parameters('b'))]"` with the text starting at byte 10.
        let e = parse(FileId(3), "concat('a', parameters('b'))", 10);
        assert_eq!(e.span, Span::new(FileId(3), 10, 38));
        let ExprKind::Call(c) = &e.kind else { panic!() };
        let args = &c.args;
        assert_eq!(args[0].span, Span::new(FileId(3), 17, 20));
        assert_eq!(args[1].span, Span::new(FileId(3), 22, 37));
        let m = parse(FileId(0), "a().b", 0);
        assert_eq!(m.span, Span::new(FileId(0), 0, 5));
    }

    #[test]
    fn errors_carry_messages_and_spans() {
        let e = p("concat('a' 'b')");
        assert_eq!(show(&e), "error(expected `,` or `)`, found string)");
        assert_eq!((e.span.start, e.span.end), (11, 14));

        let e = p("concat('a'");
        assert_eq!(
            show(&e),
            "error(unexpected end of expression, expected `,` or `)`)"
        );
        assert_eq!((e.span.start, e.span.end), (10, 10));

        let e = p("concat('abc)");
        assert_eq!(show(&e), "error(unterminated string)");
        assert_eq!((e.span.start, e.span.end), (7, 12));

        let e = p("parameters");
        assert_eq!(
            show(&e),
            "error(expected `(` after function name `parameters`)"
        );

        let e = p("a() b()");
        assert_eq!(show(&e), "error(unexpected `b`)");
        assert_eq!((e.span.start, e.span.end), (4, 5));

        assert_eq!(show(&p("")), "error(empty expression)");
        assert_eq!(show(&p("a(#)")), "error(unexpected character `#`)");
        assert_eq!(
            show(&p("a().")),
            "error(unexpected end of expression, expected a property name)"
        );
    }

    #[test]
    fn lambdas_become_lambda_trees() {
        let e = p("map(parameters('xs'), lambda('x', 'i', concat(lambdaVariables('x'), 'a')))");
        let ExprKind::Call(c) = &e.kind else {
            panic!("{e:?}")
        };
        let Some(ExprKind::Lambda { params, body }) = c.args.get(1).map(|a| &a.kind) else {
            panic!("{e:?}")
        };
        assert_eq!(params, &["x", "i"]);
        assert_eq!(show(body), "concat(Ident(\"x\"), 'a')");
        // Not a lambda: a parameter name that is not a literal stays a call.
        assert_eq!(show(&p("lambda(f(), 1)")), "lambda(f(), 1)");
    }

    #[test]
    fn depth_is_limited() {
        let deep = format!("{}{}", "a(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(p(&deep).kind, ExprKind::Error(ref m) if m.contains("too deeply")));
        let chain = format!("a(){}", ".b".repeat(10_000));
        assert!(matches!(p(&chain).kind, ExprKind::Error(ref m) if m.contains("too deeply")));
        let idx = format!("a(){}", "[0]".repeat(10_000));
        assert!(matches!(p(&idx).kind, ExprKind::Error(ref m) if m.contains("too deeply")));
        let nested_idx = format!("a(){}{}", "[a()".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(p(&nested_idx).kind, ExprKind::Error(ref m) if m.contains("too deeply")));
    }
}
