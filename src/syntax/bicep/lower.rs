//! Lowering of a tree-sitter-bicep tree (over pre-pass text) to the template model.

use super::prepass::Prepared;
use super::suppress::NextLine;
use super::KindName;
use crate::expr::{ArrayItem, BinaryOp, Expr, ExprKind, InterpPart, ObjectItem, UnaryOp};
use crate::model::{
    FunctionDecl, Loop, ModuleDecl, OutputDecl, ParamAssignment, ParamDecl, ResourceDecl,
    SyntaxError, TargetScope, Template, VarDecl,
};
use crate::source::{FileId, Span};
use rustc_hash::FxHashSet;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::collections::BTreeMap;
use tree_sitter::{Node, TreeCursor};

/// Nesting limit for expressions and nested resources.
const MAX_DEPTH: usize = 256;

/// Walks one tree and fills a [`Template`].
pub struct Lowerer<'a> {
    file: FileId,
    /// The original text (values and names come from here).
    text: &'a str,
    prepared: &'a Prepared,
    next_lines: &'a [NextLine],
    params_file: bool,
    /// Array items the grammar split in two (`subscription().id` read as `subscription` and
    /// `().id`): offset of the `(` → the callee, lowered.
    callees: RefCell<BTreeMap<usize, Expr>>,
    /// Spans of binary, unary, conditional and lambda expressions written without parentheses
    /// (see [`Lowerer::postfix`]). FxHash: a lookup per postfix operation, keys from the parser.
    bare: RefCell<FxHashSet<(u32, u32)>>,
    /// Errors found while lowering (an integer literal out of range), added to the template.
    errors: RefCell<Vec<SyntaxError>>,
}

/// A resource's type and API version, for composing nested children.
struct ParentType {
    index: usize,
    type_name: String,
    api_version: Option<String>,
}

/// What a `resource`/`module` declaration's value lowers to.
struct DeclValue<'t> {
    body: Option<Node<'t>>,
    condition: Option<Expr>,
    loop_: Option<Loop>,
}

/// A node's children, comments left out (and, for [`named_children`], anonymous tokens too),
/// walked by a cursor the iterator owns: most callers look for one child or go through them once,
/// and building a list of them was a tenth of a Bicep-heavy run's lowering.
struct Children<'t> {
    cursor: TreeCursor<'t>,
    named: bool,
    /// The cursor is still on the parent (the walk has not begun).
    at_parent: bool,
    done: bool,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        // Bounded: each round moves the cursor to the next sibling, or ends.
        while !self.done {
            let moved = if self.at_parent {
                self.at_parent = false;
                self.cursor.goto_first_child()
            } else {
                self.cursor.goto_next_sibling()
            };
            if !moved {
                self.done = true;
                break;
            }
            let node = self.cursor.node();
            if (self.named && !node.is_named())
                || matches!(node.kind_name(), "comment" | "diagnostic_comment")
            {
                continue;
            }
            return Some(node);
        }
        None
    }
}

/// A short list of children, for the callers that index them or look ahead: the usual handful
/// stays off the heap.
type Kids<'t> = SmallVec<[Node<'t>; 4]>;

fn named_children<'t>(node: Node<'t>) -> Children<'t> {
    Children {
        cursor: node.walk(),
        named: true,
        at_parent: true,
        done: false,
    }
}

fn children<'t>(node: Node<'t>) -> Children<'t> {
    Children {
        cursor: node.walk(),
        named: false,
        at_parent: true,
        done: false,
    }
}

/// The first named child after the anonymous token `token`.
fn named_after<'t>(node: Node<'t>, token: &str) -> Option<Node<'t>> {
    let mut kids = children(node);
    kids.find(|c| !c.is_named() && c.kind_name() == token)?;
    kids.find(|c| c.is_named())
}

/// Whether `node` has the anonymous token `token` among its children (walked in place: no list of
/// children is built).
fn has_token(node: Node, token: &str) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .any(|c| !c.is_named() && c.kind_name() == token);
    found
}

fn is_declaration(kind: &str) -> bool {
    matches!(
        kind,
        "module_declaration"
            | "metadata_declaration"
            | "output_declaration"
            | "parameter_declaration"
            | "resource_declaration"
            | "type_declaration"
            | "variable_declaration"
            | "user_defined_function"
            | "test_block"
            | "assert_statement"
    )
}

/// Bicep escapes in a single-quoted string piece.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') if chars.peek() == Some(&'{') => {
                chars.next();
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl<'a> Lowerer<'a> {
    pub fn new(
        file: FileId,
        text: &'a str,
        prepared: &'a Prepared,
        next_lines: &'a [NextLine],
        params_file: bool,
    ) -> Lowerer<'a> {
        Lowerer {
            file,
            text,
            prepared,
            next_lines,
            params_file,
            callees: RefCell::new(BTreeMap::new()),
            bare: RefCell::new(FxHashSet::default()),
            errors: RefCell::new(Vec::new()),
        }
    }

    fn span(&self, node: Node) -> Span {
        Span::new(self.file, node.start_byte(), node.end_byte())
    }

    fn src(&self, node: Node) -> &'a str {
        self.text
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    fn error(&self, node: Node, message: impl Into<String>) -> Expr {
        Expr::new(ExprKind::Error(message.into()), self.span(node))
    }

    /// Lowers every statement of the file.
    pub fn lower_root(&mut self, root: Node, t: &mut Template) {
        let mut decorators: Vec<Node> = Vec::new();
        self.lower_statements(root, t, &mut decorators, 0);
        t.syntax_errors.append(&mut self.errors.borrow_mut());
    }

    fn lower_statements<'t>(
        &mut self,
        parent: Node<'t>,
        t: &mut Template,
        decorators: &mut Vec<Node<'t>>,
        depth: usize,
    ) {
        for node in named_children(parent) {
            match node.kind_name() {
                "decorators" => {
                    decorators
                        .extend(named_children(node).filter(|d| d.kind_name() == "decorator"));
                    continue;
                }
                "target_scope_assignment" => {
                    if let Some(s) = named_children(node).find(|c| c.kind_name() == "string") {
                        t.target_scope = match self.string_value(s).as_deref() {
                            Some("subscription") => TargetScope::Subscription,
                            Some("managementGroup") => TargetScope::ManagementGroup,
                            Some("tenant") => TargetScope::Tenant,
                            _ => TargetScope::ResourceGroup,
                        };
                    }
                }
                "using_statement" => {
                    if let Some(s) = named_children(node).find(|c| c.kind_name() == "string") {
                        t.using = self.string_value(s);
                    }
                }
                "ERROR" if depth < 8 => {
                    // Recover declarations the parser kept inside the error.
                    self.lower_statements(node, t, decorators, depth + 1);
                    continue;
                }
                kind if is_declaration(kind) => {
                    let decs = self.take_decorators(decorators, node);
                    self.lower_declaration(node, &decs, t);
                }
                _ => {}
            }
            decorators.clear();
        }
    }

    /// The decorators that belong to `decl`: none when a blanked statement lies in between.
    fn take_decorators<'t>(&self, decorators: &mut Vec<Node<'t>>, decl: Node) -> Vec<Node<'t>> {
        let decs = std::mem::take(decorators);
        let Some(last) = decs.last() else {
            return decs;
        };
        let (from, to) = (last.end_byte(), decl.start_byte());
        // `blanked` is in text order: the first range starting at or after `from`.
        let first = self.prepared.blanked.partition_point(|(s, _)| *s < from);
        if self
            .prepared
            .blanked
            .get(first)
            .is_some_and(|(_, e)| *e <= to)
        {
            return Vec::new();
        }
        decs
    }

    fn lower_declaration(&mut self, node: Node, decorators: &[Node], t: &mut Template) {
        match node.kind_name() {
            "parameter_declaration" => {
                if let Some(p) = self.param(node, decorators) {
                    t.params.push(p);
                }
            }
            "variable_declaration" => self.variable(node, t),
            "output_declaration" => {
                let name = named_children(node).find(|c| c.kind_name() == "identifier");
                if let Some(name) = name {
                    let value = self.value_after(node, "=");
                    t.outputs.push(OutputDecl {
                        name: self.src(name).to_string(),
                        span: self.span(node),
                        value,
                    });
                }
            }
            "user_defined_function" => {
                let Some(name) = node.child_by_field_name("name") else {
                    return;
                };
                let params = named_children(node)
                    .find(|c| c.kind_name() == "parameters")
                    .map(|ps| {
                        named_children(ps)
                            .filter(|p| p.kind_name() == "parameter")
                            .filter_map(|p| p.named_child(0))
                            .map(|id| self.src(id).to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                let body = self.value_after(node, "=>");
                t.functions.push(FunctionDecl {
                    name: self.src(name).to_string(),
                    params,
                    body,
                    span: self.span(node),
                });
            }
            "resource_declaration" => self.resource(node, None, t, 0),
            "module_declaration" => self.module(node, t),
            _ => {}
        }
    }

    /// The expression after `token` in `node`, or an error expression at the node's end.
    fn value_after(&self, node: Node, token: &str) -> Expr {
        match named_after(node, token) {
            Some(v) => self.expr(v, 0),
            None => Expr::new(
                ExprKind::Error(format!("expected a value after `{token}`")),
                Span::new(self.file, node.end_byte(), node.end_byte()),
            ),
        }
    }

    fn param(&self, node: Node, decorators: &[Node]) -> Option<ParamDecl> {
        let name = named_children(node).find(|c| c.kind_name() == "identifier")?;
        let type_text = match self.prepared.types.get(&node.start_byte()) {
            Some(r) => self.text.get(r.start..r.end).unwrap_or(""),
            None => named_children(node)
                .find(|c| c.kind_name() == "type")
                .map(|ty| self.src(ty))
                .unwrap_or(""),
        };
        let type_text = without_comments(type_text);
        let type_text = type_text.trim();
        let nullable = type_text.ends_with('?');
        let core = type_text.trim_end_matches('?').trim();
        let type_name = if core.is_empty() {
            None
        } else if core.starts_with('{') {
            Some("object".to_string())
        } else if core.ends_with("[]") {
            Some("array".to_string())
        } else if core.starts_with('\'') || core.contains('|') {
            Some("string".to_string())
        } else {
            Some(core.to_string())
        };
        let default = named_after(node, "=").map(|v| self.expr(v, 0));
        let mut p = ParamDecl {
            name: self.src(name).to_string(),
            name_span: self.span(name),
            span: self.span(node),
            type_name,
            default,
            allowed: None,
            secure: false,
            description: None,
            nullable,
        };
        for d in decorators {
            let Some(call) = named_children(*d).find(|c| c.kind_name() == "call_expression") else {
                continue;
            };
            let Some(f) = call.child_by_field_name("function") else {
                continue;
            };
            let fname = self.src(f);
            let fname = fname.strip_prefix("sys.").unwrap_or(fname);
            let first_arg = call
                .child_by_field_name("arguments")
                .and_then(|a| named_children(a).next());
            match fname {
                "secure" => p.secure = true,
                "description" => {
                    p.description = first_arg.and_then(|a| self.string_value(a));
                }
                "allowed" => {
                    if let Some(arr) = first_arg {
                        if let ExprKind::Array(items) = self.expr(arr, 0).kind {
                            p.allowed = Some(
                                items
                                    .into_iter()
                                    .map(|i| match i {
                                        ArrayItem::Item(e) | ArrayItem::Spread(e) => e,
                                    })
                                    .collect(),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        Some(p)
    }

    fn variable(&self, node: Node, t: &mut Template) {
        let Some(name) = named_children(node).find(|c| c.kind_name() == "identifier") else {
            return;
        };
        let mut value = self.value_after(node, "=");
        if has_token(node, "!") {
            let span = Span::new(self.file, value.span.start as usize, node.end_byte());
            value = Expr::new(ExprKind::NonNull(Box::new(value)), span);
        }
        if self.params_file && self.prepared.assignments.contains(&node.start_byte()) {
            t.assignments.push(ParamAssignment {
                name: self.src(name).to_string(),
                span: self.span(node),
                value: Some(value),
            });
            return;
        }
        t.vars.push(VarDecl {
            name: self.src(name).to_string(),
            name_span: self.span(name),
            span: self.span(node),
            value,
        });
    }

    /// The value of a declaration (`= {..}`, `= if (c) {..}`, `= [for ...: {..}]`).
    fn decl_value<'t>(&self, node: Node<'t>) -> DeclValue<'t> {
        let mut v = DeclValue {
            body: None,
            condition: None,
            loop_: None,
        };
        let Some(value) = named_after(node, "=") else {
            return v;
        };
        match value.kind_name() {
            "object" => v.body = Some(value),
            "if_statement" => {
                let (cond, body) = self.if_statement(value, 0);
                v.condition = cond;
                v.body = body;
            }
            "for_statement" => {
                let (item, index) = self.loop_vars(value);
                let iterable = self.for_iterable(value, 0);
                let mut filter = None;
                if let Some(b) = value.child_by_field_name("body") {
                    if b.kind_name() == "if_statement" {
                        let (cond, body) = self.if_statement(b, 0);
                        filter = cond;
                        v.body = body;
                    } else if b.kind_name() == "object" {
                        v.body = Some(b);
                    }
                }
                v.loop_ = Some(Loop::ForIn {
                    item,
                    index,
                    iterable,
                    filter,
                });
            }
            _ => {}
        }
        v
    }

    fn if_statement<'t>(&self, node: Node<'t>, depth: usize) -> (Option<Expr>, Option<Node<'t>>) {
        let kids: Kids = named_children(node).collect();
        let cond = kids
            .iter()
            .find(|c| c.kind_name() == "parenthesized_expression")
            .map(|p| self.expr(*p, depth + 1));
        let body = kids.into_iter().find(|c| c.kind_name() == "object");
        (cond, body)
    }

    fn loop_vars(&self, node: Node) -> (Option<String>, Option<String>) {
        if let Some(init) = node.child_by_field_name("initializer") {
            return (Some(self.src(init).to_string()), None);
        }
        let Some(params) = named_children(node).find(|c| c.kind_name() == "for_loop_parameters")
        else {
            return (None, None);
        };
        let kids: Kids = named_children(params).collect();
        let item = kids
            .iter()
            .find(|c| c.kind_name() == "loop_variable")
            .map(|c| self.src(*c).to_string());
        let index = kids
            .iter()
            .find(|c| c.kind_name() == "loop_enumerator")
            .map(|c| self.src(*c).to_string());
        (item, index)
    }

    fn for_iterable(&self, node: Node, depth: usize) -> Expr {
        match named_after(node, "in") {
            Some(e) => self.expr(e, depth + 1),
            None => self.error(node, "expected an iterable after `in`"),
        }
    }

    /// The declaration's type string: (value, node).
    fn decl_string<'t>(&self, node: Node<'t>) -> Option<(String, Node<'t>)> {
        let s = named_children(node).find(|c| c.kind_name() == "string")?;
        Some((
            self.string_value(s)
                .unwrap_or_else(|| self.src(s).to_string()),
            s,
        ))
    }

    /// Suppressions from a `#disable-next-line` right above the declaration at `start`.
    fn resource_suppress(&self, start: usize) -> Vec<(String, Span)> {
        self.next_lines
            .iter()
            .filter(|n| n.next_start == start)
            .flat_map(|n| n.codes.iter().map(move |c| (c.clone(), n.span)))
            .collect()
    }

    fn resource(&self, node: Node, parent: Option<&ParentType>, t: &mut Template, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let symbol = named_children(node)
            .find(|c| c.kind_name() == "identifier")
            .map(|c| self.src(c).to_string());
        let Some((type_ref, type_node)) = self.decl_string(node) else {
            return;
        };
        let (ty, api) = match type_ref.split_once('@') {
            Some((ty, api)) => (ty.to_string(), Some(api.to_string())),
            None => (type_ref.clone(), None),
        };
        let (type_name, api_version) = match parent {
            Some(p) if !ty.contains('/') => (
                format!("{}/{}", p.type_name, ty),
                api.or_else(|| p.api_version.clone()),
            ),
            Some(p) => (ty, api.or_else(|| p.api_version.clone())),
            None => (ty, api),
        };
        let v = self.decl_value(node);
        let mut decl = ResourceDecl {
            symbol,
            type_name: type_name.clone(),
            api_version: api_version.clone(),
            existing: has_token(node, "existing"),
            name: None,
            parent_index: parent.map(|p| p.index),
            parent: None,
            scope: None,
            body: Expr::new(ExprKind::Object(Vec::new()), self.span(node)),
            condition: v.condition,
            loop_: v.loop_,
            depends_on: Vec::new(),
            span: self.span(node),
            head_span: Span::new(self.file, node.start_byte(), type_node.end_byte()),
            suppress: self.resource_suppress(node.start_byte()),
        };
        let mut children = Vec::new();
        let mut unclosed = false;
        if let Some(body) = v.body {
            unclosed = body
                .child(body.child_count().saturating_sub(1))
                .is_some_and(|c| c.is_missing());
            let mut items = Vec::new();
            for prop in self.object_members(body, 0, &mut children) {
                match prop {
                    ObjectItem::Property { key, value, .. } if key == "name" => {
                        decl.name = Some(value)
                    }
                    ObjectItem::Property { key, value, .. } if key == "parent" => {
                        decl.parent = Some(value)
                    }
                    ObjectItem::Property { key, value, .. } if key == "scope" => {
                        decl.scope = Some(value)
                    }
                    ObjectItem::Property { key, value, .. } if key == "dependsOn" => {
                        decl.depends_on = array_items(value);
                    }
                    other => items.push(other),
                }
            }
            decl.body = Expr::new(ExprKind::Object(items), self.span(body));
        }
        // A nested deployment written as a resource is one, as its compiled JSON is.
        if parent.is_none() && !decl.existing && super::deployment::is_deployment(&decl.type_name) {
            t.modules
                .push(super::deployment::module_of(decl, t.target_scope));
            for child in children {
                self.resource(child, None, t, depth + 1);
            }
            return;
        }
        let index = t.resources.len();
        t.resources.push(decl);
        let me = ParentType {
            index,
            type_name,
            api_version,
        };
        for child in children {
            // With the body's `}` missing, a declaration at the start of a line is the next
            // top-level resource, not a child.
            if unclosed && child.start_position().column == 0 {
                self.resource(child, None, t, depth + 1);
            } else {
                self.resource(child, Some(&me), t, depth + 1);
            }
        }
    }

    fn module(&self, node: Node, t: &mut Template) {
        let symbol = named_children(node)
            .find(|c| c.kind_name() == "identifier")
            .map(|c| self.src(c).to_string());
        let source = self.decl_string(node);
        let v = self.decl_value(node);
        let mut decl = ModuleDecl {
            symbol,
            source: source.as_ref().map(|(s, _)| s.clone()),
            source_span: source
                .as_ref()
                .map(|(_, n)| self.span(*n))
                .unwrap_or_else(|| self.span(node)),
            name: None,
            params: None,
            scope: None,
            condition: v.condition,
            loop_: v.loop_,
            depends_on: Vec::new(),
            inline_template: None,
            inner_scope: false,
            declared_as_resource: false,
            span: self.span(node),
            head_span: Span::new(
                self.file,
                node.start_byte(),
                source
                    .as_ref()
                    .map(|(_, n)| n.end_byte())
                    .unwrap_or(node.start_byte()),
            ),
        };
        if let Some(body) = v.body {
            let mut ignored = Vec::new();
            for prop in self.object_members(body, 0, &mut ignored) {
                if let ObjectItem::Property { key, value, .. } = prop {
                    match key.as_str() {
                        "name" => decl.name = Some(value),
                        "params" => decl.params = Some(value),
                        "scope" => decl.scope = Some(value),
                        "dependsOn" => decl.depends_on = array_items(value),
                        _ => {}
                    }
                }
            }
        }
        t.modules.push(decl);
    }

    /// The string a `string` node denotes, when it has no interpolation.
    fn string_value(&self, node: Node) -> Option<String> {
        match self.string(node, 0).kind {
            ExprKind::String(s) => Some(s),
            _ => None,
        }
    }

    fn string(&self, node: Node, depth: usize) -> Expr {
        let mut kids = children(node).peekable();
        let multiline = kids.peek().is_some_and(|c| c.kind_name() == "'''");
        let (open, close) = if multiline { (3, 3) } else { (1, 1) };
        let start = node.start_byte() + open;
        let end = node.end_byte().saturating_sub(close).max(start);
        if multiline {
            let raw = self.text.get(start..end).unwrap_or("");
            let s = raw
                .strip_prefix("\r\n")
                .or_else(|| raw.strip_prefix('\n'))
                .unwrap_or(raw);
            return Expr::new(ExprKind::String(s.to_string()), self.span(node));
        }
        let mut parts: Vec<InterpPart> = Vec::new();
        let mut pos = start;
        for k in kids.filter(|k| k.kind_name() == "interpolation") {
            let gap = self.text.get(pos..k.start_byte()).unwrap_or("");
            if !gap.is_empty() {
                parts.push(InterpPart::Text(unescape(gap)));
            }
            let e = match named_children(k).next() {
                Some(inner) => self.expr(inner, depth + 1),
                None => self.error(k, "empty interpolation"),
            };
            parts.push(InterpPart::Expr(e));
            pos = k.end_byte();
        }
        let gap = self.text.get(pos.min(end)..end).unwrap_or("");
        if !gap.is_empty() {
            parts.push(InterpPart::Text(unescape(gap)));
        }
        // A lone text part is moved out, not copied.
        let kind = match parts.len() {
            0 => ExprKind::String(String::new()),
            1 => match parts.pop() {
                Some(InterpPart::Text(s)) => ExprKind::String(s),
                Some(other) => ExprKind::Interpolation(vec![other]),
                None => ExprKind::String(String::new()),
            },
            _ => ExprKind::Interpolation(parts),
        };
        Expr::new(kind, self.span(node))
    }

    /// Members of an object literal; nested `resource` declarations go to `resources`.
    fn object_members<'t>(
        &self,
        node: Node<'t>,
        depth: usize,
        resources: &mut Vec<Node<'t>>,
    ) -> Vec<ObjectItem> {
        let mut items = Vec::new();
        let props: Vec<Node> = named_children(node)
            .filter(|p| p.kind_name() == "object_property")
            .collect();
        let mut k = 0;
        // Bounded: `k` grows by at least one per iteration.
        while let Some(prop) = props.get(k).copied() {
            k += 1;
            let kids: Kids = named_children(prop).collect();
            let Some(first) = kids.first() else {
                continue;
            };
            if first.kind_name() == "resource_declaration" {
                resources.push(*first);
                continue;
            }
            if let [only] = kids.as_slice() {
                if self.prepared.spreads.contains_key(&only.start_byte()) {
                    items.push(ObjectItem::Spread(self.expr(*only, depth + 1)));
                }
                continue;
            }
            let key_node = *first;
            // `k: (c) ? a : b` read as `k: (c)?` (a nullable type) and the property `a: b`.
            let ternary = kids
                .get(1)
                .filter(|v| v.kind_name() == "nullable_type" && has_token(**v, "?"))
                .and_then(|v| {
                    let next = props.get(k)?;
                    let nk: Kids = named_children(*next).collect();
                    let (Some(then), Some(otherwise)) = (nk.first(), nk.get(1)) else {
                        return None;
                    };
                    let cond = named_children(*v).next()?;
                    if next.start_position().row != v.end_position().row
                        || !matches!(then.kind_name(), "string" | "identifier")
                    {
                        return None;
                    }
                    let kind = ExprKind::Ternary {
                        cond: Box::new(self.expr(cond, depth + 1)),
                        then: Box::new(self.expr(*then, depth + 1)),
                        otherwise: Box::new(self.expr(*otherwise, depth + 1)),
                    };
                    Some(Expr::new(
                        kind,
                        Span::new(self.file, v.start_byte(), next.end_byte()),
                    ))
                });
            let value = match (ternary, kids.get(1)) {
                (Some(t), _) => {
                    k += 1;
                    t
                }
                (None, Some(v)) => self.expr(*v, depth + 1),
                (None, None) => Expr::new(
                    ExprKind::Error("expected a value".to_string()),
                    Span::new(self.file, prop.end_byte(), prop.end_byte()),
                ),
            };
            let key = match key_node.kind_name() {
                "string" => match self.string(key_node, depth + 1) {
                    Expr {
                        kind: ExprKind::String(s),
                        ..
                    } => s,
                    // `'privatelink.blob.${environment().suffixes.storage}': …`: a key computed
                    // at deployment, merged in as `...createObject(key, value)` would be.
                    computed => {
                        let span = Span::new(self.file, key_node.start_byte(), prop.end_byte());
                        let kind = ExprKind::call(None, "createObject", vec![computed, value]);
                        items.push(ObjectItem::Spread(Expr::new(kind, span)));
                        continue;
                    }
                },
                "compatible_identifier" => {
                    self.src(key_node).trim_end_matches('?').trim().to_string()
                }
                _ => self.src(key_node).to_string(),
            };
            items.push(ObjectItem::Property {
                key,
                key_span: self.span(key_node),
                value,
            });
        }
        items
    }

    /// Lowers an expression node.
    pub fn expr(&self, node: Node, depth: usize) -> Expr {
        if depth > MAX_DEPTH {
            return self.error(node, "expression nested too deeply");
        }
        let e = self.expr_inner(node, depth);
        // A blanked postfix `!` right after a primary expression.
        if matches!(
            node.kind_name(),
            "identifier"
                | "member_expression"
                | "subscript_expression"
                | "call_expression"
                | "resource_expression"
                | "parenthesized_expression"
        ) && self.prepared.bangs.contains(&node.end_byte())
        {
            let span = Span::new(self.file, e.span.start as usize, node.end_byte() + 1);
            return Expr::new(ExprKind::NonNull(Box::new(e)), span);
        }
        e
    }

    fn expr_inner(&self, node: Node, depth: usize) -> Expr {
        let d = depth + 1;
        if node.is_missing() {
            return self.error(node, format!("missing {}", node.kind_name()));
        }
        let kind = match node.kind_name() {
            "identifier" | "primitive_type" => ExprKind::Ident(self.src(node).to_string()),
            "number" => self.number(node),
            "boolean" => ExprKind::Bool(self.src(node) == "true"),
            "null" => ExprKind::Null,
            "string" => return self.string(node, d),
            "array" => {
                let target = self.callees.borrow_mut().remove(&node.start_byte());
                match target {
                    Some(target) => return self.split_index(target, node, d),
                    None => self.array(node, d),
                }
            }
            "object" => {
                let mut ignored = Vec::new();
                ExprKind::Object(self.object_members(node, d, &mut ignored))
            }
            "parenthesized_expression" => return self.parenthesized(node, d),
            // `(c) ? a : b` sometimes parses as a type: read the type as the expression it spells.
            "parenthesized_type" | "type" => {
                match named_children(node).collect::<Kids>().as_slice() {
                    [one] => {
                        let mut e = self.expr(*one, d);
                        e.span = self.span(node);
                        return e;
                    }
                    _ => ExprKind::Error("expected an expression".to_string()),
                }
            }
            "call_expression" => self.call(node, d),
            "member_expression" => self.member(node, d),
            "subscript_expression" => self.subscript(node, d),
            "resource_expression" => self.child_access(node, d),
            "ternary_expression" | "binary_expression" | "unary_expression"
            | "lambda_expression" => {
                let kind = match node.kind_name() {
                    "ternary_expression" => self.ternary(node, d),
                    "binary_expression" => self.binary(node, d),
                    "unary_expression" => self.unary(node, d),
                    _ => self.lambda(node, d),
                };
                let span = self.span(node);
                self.bare.borrow_mut().insert((span.start, span.end));
                kind
            }
            "for_statement" => self.for_expr(node, d),
            "assignment_expression" => ExprKind::Error("unexpected `=`".to_string()),
            "ERROR" => ExprKind::Error(format!("syntax error in `{}`", first_line(self.src(node)))),
            other => ExprKind::Error(format!(
                "unsupported expression `{}`",
                other.replace('_', " ")
            )),
        };
        Expr::new(kind, self.span(node))
    }

    fn number(&self, node: Node) -> ExprKind {
        let s = self.src(node);
        match s.parse::<i64>() {
            Ok(n) => ExprKind::Int(n),
            // Bicep's integers are 64-bit: a longer literal is its error BCP010.
            Err(_) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                let message = "expected a valid 64-bit signed integer".to_string();
                self.errors.borrow_mut().push(SyntaxError {
                    span: self.span(node),
                    message: message.clone(),
                });
                ExprKind::Error(message)
            }
            Err(_) => match s.parse::<f64>() {
                Ok(f) => ExprKind::Float(f),
                Err(_) => ExprKind::Error(format!("invalid number `{s}`")),
            },
        }
    }

    fn array(&self, node: Node, d: usize) -> ExprKind {
        let kids: Vec<Node> = named_children(node)
            .filter(|c| c.kind_name() != "decorators")
            .collect();
        let mut items = Vec::with_capacity(kids.len());
        let mut k = 0;
        // Bounded: `k` grows by at least one per iteration.
        while let Some(c) = kids.get(k).copied() {
            k += 1;
            let spread = self.prepared.spreads.contains_key(&c.start_byte());
            let wrap = |e: Expr| {
                if spread {
                    ArrayItem::Spread(e)
                } else {
                    ArrayItem::Item(e)
                }
            };
            let next = kids.get(k).copied();
            // `f(x)` read as two items `f` and `(x)`, `a[0]` as `a` and `[0]` (the grammar allows
            // items without commas): the second item, or its leftmost part, applies to the first.
            if let Some(n) = next {
                let opener = self.text.get(n.start_byte()..n.start_byte() + 1);
                let callee = matches!(c.kind_name(), "identifier" | "member_expression")
                    && opener == Some("(");
                let indexed = matches!(
                    c.kind_name(),
                    "identifier"
                        | "member_expression"
                        | "subscript_expression"
                        | "call_expression"
                        | "resource_expression"
                        | "parenthesized_expression"
                ) && opener == Some("[")
                    && leftmost(n).is_some_and(|l| {
                        l.kind_name() == "array"
                            && l.start_byte() == n.start_byte()
                            && named_children(l).take(2).count() == 1
                    });
                if n.start_byte() == c.end_byte() && (callee || indexed) {
                    let target = self.expr(c, d);
                    self.callees.borrow_mut().insert(n.start_byte(), target);
                    let mut e = self.expr(n, d);
                    self.callees.borrow_mut().remove(&n.start_byte());
                    e.span = Span::new(self.file, c.start_byte(), n.end_byte());
                    items.push(wrap(e));
                    k += 1;
                    continue;
                }
            }
            // `a` and `(b)` on separate lines read as the call `a(b)`.
            if c.kind_name() == "call_expression" {
                if let (Some(f), Some(args)) = (
                    c.child_by_field_name("function"),
                    c.child_by_field_name("arguments"),
                ) {
                    let between = self.text.get(f.end_byte()..args.start_byte()).unwrap_or("");
                    if between.contains('\n') {
                        items.push(wrap(self.expr(f, d)));
                        let inner: Kids = named_children(args).collect();
                        let e = match inner.as_slice() {
                            [one] => {
                                let mut e = self.expr(*one, d);
                                e.span = self.span(args);
                                e
                            }
                            _ => self.error(args, "expected an expression in parentheses"),
                        };
                        items.push(ArrayItem::Item(e));
                        continue;
                    }
                }
            }
            items.push(wrap(self.expr(c, d)));
        }
        ExprKind::Array(items)
    }

    /// `target[i]` where the grammar read `[i]` as an array item of its own (see [`Self::array`]).
    fn split_index(&self, target: Expr, node: Node, d: usize) -> Expr {
        let span = Span::new(self.file, target.span.start as usize, node.end_byte());
        let kind = match named_children(node).collect::<Kids>().as_slice() {
            [index] => ExprKind::Index {
                target: Box::new(target),
                index: Box::new(self.expr(*index, d)),
                safe: self.prepared.safe_index.contains(&node.start_byte()),
                from_end: self.prepared.from_end.contains(&node.start_byte()),
            },
            _ => ExprKind::Error("expected one index".to_string()),
        };
        Expr::new(kind, span)
    }

    fn parenthesized(&self, node: Node, d: usize) -> Expr {
        let kids: Kids = named_children(node).collect();
        let callee = self.callees.borrow_mut().remove(&node.start_byte());
        if let Some(callee) = callee {
            let span = Span::new(self.file, callee.span.start as usize, node.end_byte());
            let args = kids.iter().map(|a| self.expr(*a, d)).collect();
            return Expr::new(call_from_callee(callee, args), span);
        }
        let kind = match kids.as_slice() {
            [one] => {
                let mut e = self.expr(*one, d);
                e.span = self.span(node);
                return e;
            }
            [] => ExprKind::Error("empty parentheses".to_string()),
            _ => ExprKind::Error("unexpected `,` in parentheses".to_string()),
        };
        Expr::new(kind, self.span(node))
    }

    fn member(&self, node: Node, d: usize) -> ExprKind {
        let Some(obj) = node.child_by_field_name("object") else {
            return ExprKind::Error("expected an expression before `.`".to_string());
        };
        // `!` and `.?`, in one walk of the children.
        let (mut bang, mut safe) = (false, false);
        let mut cursor = node.walk();
        for c in node.children(&mut cursor) {
            match c.kind_name() {
                "!" if !c.is_named() => bang = true,
                ".?" if !c.is_named() => safe = true,
                _ => {}
            }
        }
        // Moved into the one operation `postfix` applies (taken, not copied).
        let mut name = node
            .child_by_field_name("property")
            .map(|p| self.src(p).to_string())
            .unwrap_or_default();
        let file = self.file;
        self.postfix(self.expr(obj, d), node.end_byte(), 0, &mut |mut target| {
            if bang {
                let s = Span::new(
                    file,
                    target.span.start as usize,
                    target.span.end as usize + 1,
                );
                target = Expr::new(ExprKind::NonNull(Box::new(target)), s);
            }
            ExprKind::Member {
                target: Box::new(target),
                name: std::mem::take(&mut name),
                safe,
            }
        })
    }

    /// Applies a postfix operation (`.x`, `[i]`, `::c`, a method call) ending at `end` to `target`;
    /// `apply` runs exactly once (callers move their parts into it).
    ///
    /// tree-sitter-bicep 1.1 gives postfix operations the lowest precedence, so `a && b.c` parses
    /// as `(a && b).c` and `x => x.name` as `(x => x).name`. In Bicep they bind tightest: when the
    /// target is a binary, unary, conditional or lambda expression written without parentheses,
    /// the operation moves to its last operand.
    fn postfix(
        &self,
        target: Expr,
        end: usize,
        depth: usize,
        apply: &mut dyn FnMut(Expr) -> ExprKind,
    ) -> ExprKind {
        let key = (target.span.start, target.span.end);
        if depth > MAX_DEPTH || !self.bare.borrow().contains(&key) {
            return apply(target);
        }
        // The operation applied to the last operand, spanning from that operand to `end`.
        let mut sink = |last: Box<Expr>| {
            let from = last.span.start as usize;
            let kind = self.postfix(*last, end, depth + 1, apply);
            Box::new(Expr::new(kind, Span::new(self.file, from, end)))
        };
        let kind = match target.kind {
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op,
                lhs,
                rhs: sink(rhs),
            },
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op,
                operand: sink(operand),
            },
            other => match into_last_operand(other, &mut sink) {
                Ok(kind) => kind,
                Err(other) => return apply(Expr::new(other, target.span)),
            },
        };
        // The moved expression is itself bare, for the next postfix operation in a chain.
        let end = u32::try_from(end).unwrap_or(u32::MAX);
        self.bare.borrow_mut().insert((key.0, end));
        kind
    }

    fn subscript(&self, node: Node, d: usize) -> ExprKind {
        let (Some(obj), Some(index)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("index"),
        ) else {
            return ExprKind::Error("expected an index".to_string());
        };
        let lbracket = children(node)
            .into_iter()
            .find(|c| c.kind_name() == "[" && !c.is_named())
            .map(|c| c.start_byte());
        // Moved into the one operation `postfix` applies (taken, not copied).
        let mut index = Some(self.expr(index, d));
        let safe =
            has_token(node, "?") || lbracket.is_some_and(|b| self.prepared.safe_index.contains(&b));
        let from_end = lbracket.is_some_and(|b| self.prepared.from_end.contains(&b));
        self.postfix(self.expr(obj, d), node.end_byte(), 0, &mut |target| {
            let span = target.span;
            ExprKind::Index {
                target: Box::new(target),
                index: Box::new(
                    index
                        .take()
                        .unwrap_or_else(|| Expr::new(ExprKind::Error("no index".into()), span)),
                ),
                safe,
                from_end,
            }
        })
    }

    fn child_access(&self, node: Node, d: usize) -> ExprKind {
        let (Some(obj), Some(res)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("resource"),
        ) else {
            return ExprKind::Error("expected a resource name after `::`".to_string());
        };
        // Moved into the one operation `postfix` applies (taken, not copied).
        let mut name = self.src(res).to_string();
        self.postfix(self.expr(obj, d), node.end_byte(), 0, &mut |target| {
            ExprKind::ChildAccess {
                target: Box::new(target),
                name: std::mem::take(&mut name),
            }
        })
    }

    fn ternary(&self, node: Node, d: usize) -> ExprKind {
        let (Some(c), Some(t), Some(o)) = (
            node.child_by_field_name("condition"),
            node.child_by_field_name("consequence"),
            node.child_by_field_name("alternative"),
        ) else {
            return ExprKind::Error("incomplete conditional expression".to_string());
        };
        ExprKind::Ternary {
            cond: Box::new(self.expr(c, d)),
            then: Box::new(self.expr(t, d)),
            otherwise: Box::new(self.expr(o, d)),
        }
    }

    fn binary(&self, node: Node, d: usize) -> ExprKind {
        let (Some(l), Some(op), Some(r)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("operator"),
            node.child_by_field_name("right"),
        ) else {
            return ExprKind::Error("incomplete binary expression".to_string());
        };
        let op = match op.kind_name() {
            "||" => BinaryOp::Or,
            "&&" => BinaryOp::And,
            "??" => BinaryOp::Coalesce,
            "==" => BinaryOp::Eq,
            "!=" => BinaryOp::NotEq,
            "=~" => BinaryOp::EqInsensitive,
            "!~" => BinaryOp::NotEqInsensitive,
            "<" => BinaryOp::Less,
            "<=" => BinaryOp::LessEq,
            ">" => BinaryOp::Greater,
            ">=" => BinaryOp::GreaterEq,
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Mod,
            other => return ExprKind::Error(format!("unsupported operator `{other}`")),
        };
        let (lhs, rhs) = (self.expr(l, d), self.expr(r, d));
        self.binary_of(lhs, op, rhs, node.end_byte(), 0)
    }

    /// `lhs op rhs` ending at `end`, where `lhs` may be an operator expression a postfix operation
    /// was moved into (see [`Lowerer::postfix`]): `a && b.c == d` parses as `((a && b).c) == d`,
    /// which after the move is `(a && b.c) == d`; the tighter `==` goes to the last operand of the
    /// looser `&&` (and into the body of a lambda or the last branch of a conditional).
    fn binary_of(&self, lhs: Expr, op: BinaryOp, rhs: Expr, end: usize, depth: usize) -> ExprKind {
        let plain = |lhs: Expr, rhs: Expr| ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        if depth > MAX_DEPTH || !self.bare.borrow().contains(&(lhs.span.start, lhs.span.end)) {
            return plain(lhs, rhs);
        }
        let mut sink = |last: Box<Expr>| {
            let from = last.span.start as usize;
            let kind = self.binary_of(*last, op, rhs.clone(), end, depth + 1);
            let span = Span::new(self.file, from, end);
            self.bare.borrow_mut().insert((span.start, span.end));
            Box::new(Expr::new(kind, span))
        };
        match lhs.kind {
            ExprKind::Binary {
                op: inner,
                lhs: a,
                rhs: b,
            } if precedence(inner) < precedence(op) => ExprKind::Binary {
                op: inner,
                lhs: a,
                rhs: sink(b),
            },
            other => match into_last_operand(other, &mut sink) {
                Ok(kind) => kind,
                Err(other) => plain(Expr::new(other, lhs.span), rhs),
            },
        }
    }

    fn unary(&self, node: Node, d: usize) -> ExprKind {
        let (Some(op), Some(arg)) = (
            node.child_by_field_name("operator"),
            node.child_by_field_name("argument"),
        ) else {
            return ExprKind::Error("incomplete unary expression".to_string());
        };
        let op = if op.kind_name() == "!" {
            UnaryOp::Not
        } else {
            UnaryOp::Neg
        };
        // The smallest 64-bit integer, whose digits alone do not fit.
        if op == UnaryOp::Neg
            && arg.kind_name() == "number"
            && self.src(arg) == "9223372036854775808"
        {
            return ExprKind::Int(i64::MIN);
        }
        ExprKind::Unary {
            op,
            operand: Box::new(self.expr(arg, d)),
        }
    }

    fn lambda(&self, node: Node, d: usize) -> ExprKind {
        let kids: Kids = named_children(node).collect();
        let (Some(params), Some(body)) = (kids.first(), kids.get(1)) else {
            return ExprKind::Error("incomplete lambda".to_string());
        };
        let names = match params.kind_name() {
            "identifier" => vec![self.src(*params).to_string()],
            "parenthesized_expression" => named_children(*params)
                .map(|p| self.src(p).to_string())
                .collect(),
            _ => return ExprKind::Error("expected lambda parameters".to_string()),
        };
        ExprKind::Lambda {
            params: names,
            body: Box::new(self.expr(*body, d)),
        }
    }

    fn for_expr(&self, node: Node, d: usize) -> ExprKind {
        let (item, index) = self.loop_vars(node);
        let iterable = self.for_iterable(node, d);
        let Some(b) = node.child_by_field_name("body") else {
            return ExprKind::Error("expected a loop body".to_string());
        };
        let (filter, body) = if b.kind_name() == "if_statement" {
            let (cond, body) = self.if_statement(b, d);
            let body = match body {
                Some(o) => self.expr(o, d),
                None => self.error(b, "expected an object after `if`"),
            };
            (cond.map(Box::new), body)
        } else {
            (None, self.expr(b, d))
        };
        ExprKind::For(Box::new(crate::expr::For {
            item,
            index,
            iterable: Box::new(iterable),
            filter,
            body: Box::new(body),
        }))
    }

    fn call(&self, node: Node, depth: usize) -> ExprKind {
        let Some(f) = node.child_by_field_name("function") else {
            return ExprKind::Error("expected a function name".to_string());
        };
        let (namespace, name) = match f.kind_name() {
            "identifier" => (None, self.src(f).to_string()),
            "member_expression" => {
                let obj = f.child_by_field_name("object");
                let prop = f.child_by_field_name("property");
                match (obj, prop) {
                    (Some(o), Some(p)) if o.kind_name() == "identifier" => {
                        (Some(self.src(o).to_string()), self.src(p).to_string())
                    }
                    (Some(o), Some(p)) => {
                        // A method call on an expression (`a::b.listKeys()`): the target becomes
                        // the first argument, as in ARM's `listKeys(resourceId, ...)`.
                        // Moved into the one operation `postfix` applies (taken, not copied).
                        let mut rest = self.args(node, depth);
                        let mut name = self.src(p).to_string();
                        return self.postfix(
                            self.expr(o, depth),
                            node.end_byte(),
                            0,
                            &mut |target| {
                                let mut args = Vec::with_capacity(rest.len() + 1);
                                args.push(target);
                                args.append(&mut rest);
                                ExprKind::call(None, std::mem::take(&mut name), args)
                            },
                        );
                    }
                    _ => return ExprKind::Error("expected a function name".to_string()),
                }
            }
            _ => return ExprKind::Error(format!("cannot call `{}`", first_line(self.src(f)))),
        };
        let args = self.args(node, depth);
        let call = ExprKind::call(namespace, name, args);
        // `!` and a nullable return type, in one walk of the children.
        if children(node).any(|c| {
            (!c.is_named() && c.kind_name() == "!") || c.kind_name() == "nullable_return_type"
        }) {
            let inner = Expr::new(call, self.span(node));
            return ExprKind::NonNull(Box::new(inner));
        }
        call
    }

    fn args(&self, node: Node, depth: usize) -> Vec<Expr> {
        match node.child_by_field_name("arguments") {
            Some(args) => named_children(args).map(|a| self.expr(a, depth)).collect(),
            None => Vec::new(),
        }
    }
}

/// A conditional or a lambda rebuilt with `sink` applied to its last operand (the branch after `:`,
/// the body), where an operation written after it without parentheses belongs; anything else
/// back unchanged as `Err`.
fn into_last_operand(
    kind: ExprKind,
    sink: &mut dyn FnMut(Box<Expr>) -> Box<Expr>,
) -> Result<ExprKind, ExprKind> {
    match kind {
        ExprKind::Ternary {
            cond,
            then,
            otherwise,
        } => Ok(ExprKind::Ternary {
            cond,
            then,
            otherwise: sink(otherwise),
        }),
        ExprKind::Lambda { params, body } => Ok(ExprKind::Lambda {
            params,
            body: sink(body),
        }),
        other => Err(other),
    }
}

/// A call of an already lowered callee: `f`, `ns.f` or a method call `x.y.f` (the target becomes
/// the first argument).
fn call_from_callee(callee: Expr, mut args: Vec<Expr>) -> ExprKind {
    match callee.kind {
        ExprKind::Ident(name) => ExprKind::call(None, name, args),
        ExprKind::Member { target, name, .. } => match target.kind {
            ExprKind::Ident(ns) => ExprKind::call(Some(ns), name, args),
            _ => {
                args.insert(0, *target);
                ExprKind::call(None, name, args)
            }
        },
        _ => ExprKind::Error("expected a function name".to_string()),
    }
}

/// The leftmost innermost node of a postfix chain (`[0].a[1]` → `[0]`), bounded in depth.
fn leftmost(node: Node) -> Option<Node> {
    let mut n = node;
    for _ in 0..MAX_DEPTH {
        if !matches!(
            n.kind_name(),
            "member_expression"
                | "subscript_expression"
                | "call_expression"
                | "resource_expression"
        ) {
            return Some(n);
        }
        n = n
            .child_by_field_name("object")
            .or_else(|| n.child_by_field_name("function"))?;
    }
    None
}

/// Binding strength of a binary operator (tree-sitter-bicep's table; higher binds tighter).
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Coalesce => 0,
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::EqInsensitive | BinaryOp::NotEqInsensitive => 6,
        BinaryOp::Less | BinaryOp::LessEq | BinaryOp::Greater | BinaryOp::GreaterEq => 7,
        BinaryOp::Add | BinaryOp::Sub => 10,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 11,
    }
}

/// The items of an array expression (a single non-array expression is one item).
fn array_items(e: Expr) -> Vec<Expr> {
    match e.kind {
        ExprKind::Array(items) => items
            .into_iter()
            .map(|i| match i {
                ArrayItem::Item(e) | ArrayItem::Spread(e) => e,
            })
            .collect(),
        _ => vec![e],
    }
}

/// A type's text without its comments (`imageType[]? // the images` is nullable): `//` to the
/// end of the line and `/* … */`, outside string literals.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_string = !in_string;
                out.push(c);
            }
            '\\' if in_string => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '/' if !in_string && chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push(n);
                        break;
                    }
                }
            }
            '/' if !in_string && chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(40)
        .collect()
}
