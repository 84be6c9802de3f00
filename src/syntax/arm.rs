//! ARM JSON templates and parameter files → template model.
//!
//! JSON is read leniently with `jsonc-parser` (comments, trailing commas) keeping the byte range of
//! every key and value (strict JSON, the common case, into the same tree by [`super::json`]); strings of the form `"[...]"` are ARM expressions parsed by
//! [`super::arm_expr`]. Nested child resources are flattened with their full type and name,
//! `Microsoft.Resources/deployments` become modules (inline templates lowered recursively), and
//! `copy` loops become [`Loop::Copy`] or [`ExprKind::For`].
//!
//! Syntax errors and suppressions found anywhere in a file (including inside inline templates) are
//! collected on the file's top-level [`Template`].

use jsonc_parser::ast::{Array, Object, ObjectProp, StringLit, Value as Json};
use jsonc_parser::common::{Range, Ranged};

use super::arm_expr;
use crate::expr::{ArrayItem, Expr, ExprKind, ObjectItem};
use crate::model::{
    FunctionDecl, Language, Loop, ModuleDecl, OutputDecl, ParamAssignment, ParamDecl, ResourceDecl,
    Suppression, SyntaxError, TargetScope, Template, VarDecl,
};
use crate::source::{FileId, Span};

/// JSON values nested deeper than this are not lowered (the JSON parser itself stops at 512).
const MAX_JSON_DEPTH: usize = 256;
/// Inline templates nested deeper than this are not lowered.
const MAX_TEMPLATE_DEPTH: usize = 32;
/// How many bytes of a file [`classify`] looks at while searching for the top-level `$schema`.
const CLASSIFY_SCAN_LIMIT: usize = 1 << 20;

/// Resource properties that are not part of the resource body.
pub(crate) const NOT_BODY: &[&str] = &[
    "name",
    "type",
    "apiVersion",
    "dependsOn",
    "condition",
    "copy",
    "resources",
    "scope",
    "existing",
    "comments",
    "subscriptionId",
    "resourceGroup",
];

/// What a JSON file is, by its `$schema` (deploymentTemplate.json, subscriptionDeploymentTemplate,
/// managementGroupDeploymentTemplate, tenantDeploymentTemplate → ArmTemplate with the TargetScope;
/// deploymentParameters.json → ArmParameters); `None` for other JSON. Cheap: used to scan repositories.
pub fn classify(text: &str) -> Option<Language> {
    root_schema(text)
        .and_then(schema_kind)
        .map(|(language, _)| language)
}

/// The language and target scope a `$schema` URL names, if it is an ARM template or parameter file.
pub fn schema_kind(schema: &str) -> Option<(Language, TargetScope)> {
    let s = schema.to_ascii_lowercase();
    if s.contains("deploymentparameters.json") {
        Some((Language::ArmParameters, TargetScope::ResourceGroup))
    } else if s.contains("subscriptiondeploymenttemplate.json") {
        Some((Language::ArmTemplate, TargetScope::Subscription))
    } else if s.contains("managementgroupdeploymenttemplate.json") {
        Some((Language::ArmTemplate, TargetScope::ManagementGroup))
    } else if s.contains("tenantdeploymenttemplate.json") {
        Some((Language::ArmTemplate, TargetScope::Tenant))
    } else if s.contains("deploymenttemplate.json") {
        Some((Language::ArmTemplate, TargetScope::ResourceGroup))
    } else {
        None
    }
}

/// The raw value of the root object's `"$schema"` string, found with a light scan (strings and
/// comments skipped, nesting depth tracked) rather than a full parse.
fn root_schema(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let limit = bytes.len().min(CLASSIFY_SCAN_LIMIT);
    let mut i = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut depth = 0usize;
    let mut seen_root = false;
    while i < limit {
        let b = *bytes.get(i)?;
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < limit && bytes.get(i) != Some(&b'\n') {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < limit && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 2;
            }
            b'{' | b'[' => {
                if depth == 0 {
                    if b == b'[' || seen_root {
                        return None;
                    }
                    seen_root = true;
                }
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return None;
                }
                i += 1;
            }
            b'"' => {
                let (start, end) = scan_string(bytes, i, limit)?;
                i = end + 1;
                if depth == 1
                    && text
                        .get(start..end)
                        .is_some_and(|k| k.eq_ignore_ascii_case("$schema"))
                {
                    // Skip blanks and the colon, then read the value string.
                    while bytes
                        .get(i)
                        .is_some_and(|c| c.is_ascii_whitespace() || *c == b':')
                    {
                        i += 1;
                    }
                    if bytes.get(i) != Some(&b'"') {
                        return None;
                    }
                    let (vs, ve) = scan_string(bytes, i, limit)?;
                    return text.get(vs..ve);
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' | b',' | b':' => i += 1,
            _ if depth == 0 => return None,
            _ => i += 1,
        }
    }
    None
}

/// The content range of the string whose opening quote is at `open`.
fn scan_string(bytes: &[u8], open: usize, limit: usize) -> Option<(usize, usize)> {
    let mut j = open + 1;
    while j < limit {
        match bytes.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some((open + 1, j)),
            _ => j += 1,
        }
    }
    None
}

/// Lowers an ARM template or parameter file.
pub fn lower(file: FileId, text: &str) -> Template {
    // A byte order mark is not JSON whitespace; blank it out so offsets stay the file's.
    let owned;
    let src = match text.strip_prefix('\u{feff}') {
        Some(rest) => {
            owned = format!("   {rest}");
            owned.as_str()
        }
        None => text,
    };
    // Only a file that isn't a JSON object needs its language guessed (by the light scan).
    let fallback = || classify(text).unwrap_or(Language::ArmTemplate);
    let value = match super::json::read(src) {
        Ok(value) => value,
        Err(e) => {
            let mut t = Template::empty(file, fallback());
            let r = e.range();
            t.syntax_errors.push(SyntaxError {
                span: Span::new(file, r.start, r.end),
                message: e.kind().to_string().to_lowercase(),
            });
            return t;
        }
    };
    let mut l = Lowerer {
        file,
        text: src,
        errors: Vec::new(),
        suppressions: Vec::new(),
        literal_strings: false,
    };
    let mut t = match &value {
        Some(Json::Object(root)) => {
            let schema = get_str(root, "$schema").and_then(|s| schema_kind(&s.value));
            match schema {
                Some((Language::ArmParameters, _)) => l.lower_parameter_file(root),
                Some((_, scope)) => l.lower_template(root, scope, 0),
                None if looks_like_parameter_file(root) => l.lower_parameter_file(root),
                None => l.lower_template(root, TargetScope::ResourceGroup, 0),
            }
        }
        Some(other) => {
            l.error(other.range(), "expected a json object".into());
            Template::empty(file, fallback())
        }
        None => {
            l.error(Range::new(0, 0), "empty file".into());
            Template::empty(file, fallback())
        }
    };
    t.syntax_errors.append(&mut l.errors);
    t.suppressions.append(&mut l.suppressions);
    if let Some(root) = &value {
        t.duplicate_keys = duplicate_keys(root, file);
    }
    t
}

/// A root object without `$schema` whose `parameters` all hold `value` or `reference`, and that has
/// no `resources`.
fn looks_like_parameter_file(root: &Object) -> bool {
    if get(root, "resources").is_some() {
        return false;
    }
    match get_value(root, "parameters") {
        Some(Json::Object(params)) => {
            !params.properties.is_empty()
                && params.properties.iter().all(|p| match &p.value {
                    Json::Object(o) => get(o, "value").is_some() || get(o, "reference").is_some(),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// A property by name, compared case-insensitively as ARM does; of duplicates the last, as ARM
/// reads them (and as object values are merged).
fn get<'a, 'b>(obj: &'b Object<'a>, key: &str) -> Option<&'b ObjectProp<'a>> {
    obj.properties
        .iter()
        .rev()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(key))
}

/// Each key that repeats an earlier one of the same object (case-insensitively), anywhere in
/// `root`: its span and name. Keys are compared in place (no lowercase copies): pairwise in small
/// objects, through a case-blind hash set in large ones.
fn duplicate_keys(root: &Json, file: FileId) -> Vec<(Span, String)> {
    /// Objects with more properties than this are checked through a hash set.
    const PAIRWISE: usize = 16;
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        match v {
            Json::Object(o) => {
                let props = &o.properties;
                let mut seen = rustc_hash::FxHashSet::default();
                for (i, p) in props.iter().enumerate() {
                    let name = p.name.as_str();
                    let repeated = if props.len() <= PAIRWISE {
                        props
                            .get(..i)
                            .unwrap_or(&[])
                            .iter()
                            .any(|q| q.name.as_str().eq_ignore_ascii_case(name))
                    } else {
                        !seen.insert(Caseless(name))
                    };
                    if repeated {
                        let r = p.name.range();
                        out.push((Span::new(file, r.start, r.end), name.to_string()));
                    }
                    stack.push(&p.value);
                }
            }
            Json::Array(a) => stack.extend(a.elements.iter()),
            _ => {}
        }
    }
    out.sort_by_key(|(span, _)| span.start);
    out
}

/// A key hashed and compared ignoring ASCII case, as ARM compares property names.
struct Caseless<'a>(&'a str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

fn get_value<'a, 'b>(obj: &'b Object<'a>, key: &str) -> Option<&'b Json<'a>> {
    get(obj, key).map(|p| &p.value)
}

fn get_object<'a, 'b>(obj: &'b Object<'a>, key: &str) -> Option<&'b Object<'a>> {
    match get_value(obj, key) {
        Some(Json::Object(o)) => Some(o),
        _ => None,
    }
}

fn get_str<'a, 'b>(obj: &'b Object<'a>, key: &str) -> Option<&'b StringLit<'a>> {
    match get_value(obj, key) {
        Some(Json::StringLit(s)) => Some(s),
        _ => None,
    }
}

fn get_array<'a, 'b>(obj: &'b Object<'a>, key: &str) -> Option<&'b Array<'a>> {
    match get_value(obj, key) {
        Some(Json::Array(a)) => Some(a),
        _ => None,
    }
}

/// Does the type name a provider namespace (`Microsoft.Network/...`), rather than being relative
/// to a parent (`subnets`)?
pub(crate) fn has_namespace(type_name: &str) -> bool {
    type_name.split('/').next().is_some_and(|s| s.contains('.'))
}

/// Is `type_name` a child type of `parent_type` (`a/b/c` under `a/b`)?
pub(crate) fn is_child_type(type_name: &str, parent_type: &str) -> bool {
    let n = parent_type.len();
    type_name.len() > n + 1
        && type_name
            .get(..n)
            .is_some_and(|p| p.eq_ignore_ascii_case(parent_type))
        && type_name.get(n..n + 1) == Some("/")
}

/// Is this `copy` array a property iteration (`[{ name, count, input }]`)?
fn is_property_copy(arr: &Array) -> bool {
    !arr.elements.is_empty()
        && arr.elements.iter().all(|e| match e {
            Json::Object(o) => get(o, "name").is_some() && get(o, "input").is_some(),
            _ => false,
        })
}

/// What a nested child resource inherits from the declaration it is nested in.
struct ParentInfo {
    index: Option<usize>,
    type_name: String,
    name: Option<Expr>,
}

struct Lowerer<'t> {
    file: FileId,
    text: &'t str,
    errors: Vec<SyntaxError>,
    suppressions: Vec<Suppression>,
    /// Parameter files: ARM does not evaluate expressions there (quickstarts pass `"[dbo].[emp]"`
    /// as a plain value), so every string is text.
    literal_strings: bool,
}

impl Lowerer<'_> {
    fn span(&self, r: Range) -> Span {
        Span::new(self.file, r.start, r.end)
    }

    fn error(&mut self, r: Range, message: String) {
        self.errors.push(SyntaxError {
            span: self.span(r),
            message,
        });
    }

    fn error_expr(&self, r: Range, message: &str) -> Expr {
        Expr::new(ExprKind::Error(message.into()), self.span(r))
    }

    // ----- values -------------------------------------------------------------------------------

    fn lower_value(&mut self, v: &Json, depth: usize) -> Expr {
        if depth > MAX_JSON_DEPTH {
            return self.error_expr(v.range(), "json nested too deeply");
        }
        match v {
            Json::StringLit(s) => self.lower_string(s),
            Json::NumberLit(n) => {
                let kind = if let Ok(i) = n.value.parse::<i64>() {
                    ExprKind::Int(i)
                } else if let Some(f) = n.value.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    ExprKind::Float(f)
                } else if n.value.parse::<f64>().is_ok() {
                    let message = format!("the number `{}` is out of range", n.value);
                    self.error(n.range, message.clone());
                    ExprKind::Error(message)
                } else {
                    ExprKind::Error(format!("invalid number `{}`", n.value))
                };
                Expr::new(kind, self.span(n.range))
            }
            Json::BooleanLit(b) => Expr::new(ExprKind::Bool(b.value), self.span(b.range)),
            Json::NullKeyword(n) => Expr::new(ExprKind::Null, self.span(n.range)),
            Json::Array(a) => {
                let items = a
                    .elements
                    .iter()
                    .map(|e| ArrayItem::Item(self.lower_value(e, depth + 1)))
                    .collect();
                Expr::new(ExprKind::Array(items), self.span(a.range))
            }
            Json::Object(o) => self.lower_object(o, &[], depth),
        }
    }

    /// An object literal of every property except `skip`; a `copy` array of property iterations
    /// becomes one `For` property per entry.
    fn lower_object(&mut self, o: &Object, skip: &[&str], depth: usize) -> Expr {
        let mut items = Vec::with_capacity(o.properties.len());
        for p in &o.properties {
            let key = p.name.as_str();
            if skip.iter().any(|s| s.eq_ignore_ascii_case(key)) {
                continue;
            }
            if key.eq_ignore_ascii_case("copy") {
                if let Json::Array(arr) = &p.value {
                    if is_property_copy(arr) {
                        for e in &arr.elements {
                            if let Json::Object(entry) = e {
                                if let Some((name, name_span, value)) =
                                    self.copy_entry(entry, depth + 1)
                                {
                                    items.push(ObjectItem::Property {
                                        key: name,
                                        key_span: name_span,
                                        value,
                                    });
                                }
                            }
                        }
                        continue;
                    }
                }
            }
            let value = self.lower_value(&p.value, depth + 1);
            // `"[format('{0}', resourceId(…))]": {}`: ARM evaluates a property name written as
            // an expression; merged in as `...createObject(key, value)` would be.
            if !self.literal_strings && key.len() > 2 && key.starts_with('[') && key.ends_with(']')
            {
                if let Some(inner) = key.strip_prefix("[[") {
                    items.push(ObjectItem::Property {
                        key: format!("[{inner}"),
                        key_span: self.span(p.name.range()),
                        value,
                    });
                    continue;
                }
                let range = p.name.range();
                let computed = arm_expr::parse(
                    self.file,
                    key.get(1..key.len() - 1).unwrap_or(""),
                    range.start + 2,
                );
                let span = Span::new(self.file, range.start, p.value.range().end);
                let kind = ExprKind::call(None, "createObject", vec![computed, value]);
                items.push(ObjectItem::Spread(Expr::new(kind, span)));
                continue;
            }
            items.push(ObjectItem::Property {
                key: key.to_string(),
                key_span: self.span(p.name.range()),
                value,
            });
        }
        Expr::new(ExprKind::Object(items), self.span(o.range))
    }

    /// A `{ name, count, input }` iteration → (name, span of the name, `For` over `range(0, count)`).
    fn copy_entry(&mut self, entry: &Object, depth: usize) -> Option<(String, Span, Expr)> {
        let Some(name) = get_str(entry, "name") else {
            self.error(entry.range, "copy entry has no `name` string".into());
            return None;
        };
        let body = match get_value(entry, "input") {
            Some(v) => self.lower_value(v, depth + 1),
            None => self.error_expr(entry.range, "copy entry has no `input`"),
        };
        let value = self.copy_loop(
            &name.value,
            get_value(entry, "count"),
            entry.range,
            body,
            depth,
        );
        Some((name.value.to_string(), self.span(name.range), value))
    }

    /// `[for copy:<name> in range(0, count): body]`.
    fn copy_loop(
        &mut self,
        name: &str,
        count: Option<&Json>,
        at: Range,
        body: Expr,
        depth: usize,
    ) -> Expr {
        let count = match count {
            Some(c) => self.lower_value(c, depth + 1),
            None => {
                self.error(at, format!("copy `{name}` has no `count`"));
                self.error_expr(at, "copy has no count")
            }
        };
        copy_for(name, count, body, self.span(at))
    }

    /// A JSON string: an ARM expression (`"[...]"`), an escaped literal (`"[[..."`), or text.
    fn lower_string(&mut self, s: &StringLit) -> Expr {
        let span = self.span(s.range);
        let v: &str = &s.value;
        if self.literal_strings || !(v.len() >= 2 && v.starts_with('[') && v.ends_with(']')) {
            return Expr::new(ExprKind::String(v.to_string()), span);
        }
        if v.starts_with("[[") {
            return Expr::new(ExprKind::String(v.get(1..).unwrap_or("").to_string()), span);
        }
        let inner = v.get(1..v.len() - 1).unwrap_or("");
        let raw = self
            .text
            .get(s.range.start + 1..s.range.end.saturating_sub(1))
            .unwrap_or("");
        let expr = if raw == v {
            arm_expr::parse(self.file, inner, s.range.start + 2)
        } else {
            // Escapes in the JSON string: parse the decoded text, then map its offsets back.
            let mut e = arm_expr::parse(self.file, inner, 0);
            let map = decoded_to_raw(raw);
            let base = s.range.start + 1;
            let to_file = |d: u32| -> u32 {
                let d = d as usize + 1; // the decoded text starts after `[`
                let raw_off = map.get(d).or_else(|| map.last()).copied().unwrap_or(0);
                u32::try_from(base + raw_off).unwrap_or(u32::MAX)
            };
            remap(&mut e, &to_file);
            e
        };
        // An expression error is the whole parse (`arm_expr::parse`): no walk needed.
        if let ExprKind::Error(m) = &expr.kind {
            self.errors.push(SyntaxError {
                span: expr.span,
                message: m.clone(),
            });
        }
        expr
    }

    // ----- templates ----------------------------------------------------------------------------

    fn lower_template(&mut self, root: &Object, scope: TargetScope, depth: usize) -> Template {
        let mut t = Template::empty(self.file, Language::ArmTemplate);
        t.target_scope = get_str(root, "$schema")
            .and_then(|s| schema_kind(&s.value))
            .map(|(_, scope)| scope)
            .unwrap_or(scope);
        if let Some(params) = get_object(root, "parameters") {
            for p in &params.properties {
                if let Some(decl) = self.lower_param_decl(p) {
                    t.params.push(decl);
                }
            }
        }
        if let Some(vars) = get_object(root, "variables") {
            self.lower_variables(vars, &mut t);
        }
        if let Some(funcs) = get_array(root, "functions") {
            self.lower_functions(funcs, &mut t);
        }
        match get_value(root, "resources") {
            Some(Json::Array(arr)) => {
                for r in &arr.elements {
                    self.lower_resource_value(r, None, None, &mut t, depth);
                }
            }
            Some(Json::Object(obj)) => {
                for p in &obj.properties {
                    let symbol = p.name.as_str().to_string();
                    self.lower_resource_value(&p.value, Some(symbol), None, &mut t, depth);
                }
            }
            Some(other) => self.error(
                other.range(),
                "`resources` must be an array or an object".into(),
            ),
            None => {}
        }
        if let Some(outputs) = get_object(root, "outputs") {
            for p in &outputs.properties {
                self.lower_output(p, &mut t);
            }
        }
        t
    }

    fn lower_param_decl(&mut self, p: &ObjectProp) -> Option<ParamDecl> {
        let name = p.name.as_str().to_string();
        let Json::Object(o) = &p.value else {
            self.error(
                p.value.range(),
                format!("parameter `{name}` must be an object"),
            );
            return None;
        };
        let type_name = get_str(o, "type").map(|s| s.value.to_string()).or_else(|| {
            get_str(o, "$ref").map(|s| s.value.rsplit('/').next().unwrap_or("").to_string())
        });
        let secure = type_name.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("securestring") || t.eq_ignore_ascii_case("secureobject")
        });
        let default = get_value(o, "defaultValue").map(|v| self.lower_value(v, 2));
        let allowed = get_array(o, "allowedValues").map(|a| {
            a.elements
                .iter()
                .map(|e| self.lower_value(e, 2))
                .collect::<Vec<_>>()
        });
        let description = get_object(o, "metadata")
            .and_then(|m| get_str(m, "description"))
            .map(|s| s.value.to_string());
        let nullable = matches!(get_value(o, "nullable"), Some(Json::BooleanLit(b)) if b.value);
        Some(ParamDecl {
            name,
            name_span: self.span(p.name.range()),
            span: self.span(p.range),
            type_name,
            default,
            allowed,
            secure,
            description,
            nullable,
        })
    }

    fn lower_variables(&mut self, vars: &Object, t: &mut Template) {
        for p in &vars.properties {
            let key = p.name.as_str();
            if key.eq_ignore_ascii_case("copy") {
                if let Json::Array(arr) = &p.value {
                    for e in &arr.elements {
                        let Json::Object(entry) = e else {
                            self.error(e.range(), "copy entry must be an object".into());
                            continue;
                        };
                        if let Some((name, name_span, value)) = self.copy_entry(entry, 2) {
                            t.vars.push(VarDecl {
                                name,
                                name_span,
                                span: self.span(entry.range),
                                value,
                            });
                        }
                    }
                    continue;
                }
            }
            let value = self.lower_value(&p.value, 2);
            t.vars.push(VarDecl {
                name: key.to_string(),
                name_span: self.span(p.name.range()),
                span: self.span(p.range),
                value,
            });
        }
    }

    /// `functions: [{ namespace, members: { f: { parameters: [{name}], output: { value } } } }]`
    /// → one [`FunctionDecl`] per member, named `namespace.member`.
    fn lower_functions(&mut self, funcs: &Array, t: &mut Template) {
        for f in &funcs.elements {
            let Json::Object(ns) = f else { continue };
            let namespace = get_str(ns, "namespace")
                .map(|s| s.value.to_string())
                .unwrap_or_default();
            let Some(members) = get_object(ns, "members") else {
                continue;
            };
            for m in &members.properties {
                let Json::Object(def) = &m.value else {
                    continue;
                };
                let params = get_array(def, "parameters")
                    .map(|a| {
                        a.elements
                            .iter()
                            .filter_map(|p| match p {
                                Json::Object(po) => {
                                    get_str(po, "name").map(|s| s.value.to_string())
                                }
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let body = match get_object(def, "output").and_then(|o| get_value(o, "value")) {
                    Some(v) => self.lower_value(v, 4),
                    None => self.error_expr(m.range, "function has no output value"),
                };
                t.functions.push(FunctionDecl {
                    name: format!("{namespace}.{}", m.name.as_str()),
                    params,
                    body,
                    span: self.span(m.range),
                });
            }
        }
    }

    fn lower_output(&mut self, p: &ObjectProp, t: &mut Template) {
        let name = p.name.as_str().to_string();
        let Json::Object(o) = &p.value else {
            self.error(
                p.value.range(),
                format!("output `{name}` must be an object"),
            );
            return;
        };
        let value = if let Some(copy) = get_object(o, "copy") {
            let body = match get_value(copy, "input") {
                Some(v) => self.lower_value(v, 3),
                None => self.error_expr(copy.range, "copy has no input"),
            };
            self.copy_loop(&name, get_value(copy, "count"), copy.range, body, 3)
        } else {
            match get_value(o, "value") {
                Some(v) => self.lower_value(v, 2),
                None => self.error_expr(p.range, "output has no value"),
            }
        };
        t.outputs.push(OutputDecl {
            name,
            span: self.span(p.range),
            value,
        });
    }

    // ----- resources ----------------------------------------------------------------------------

    fn lower_resource_value(
        &mut self,
        v: &Json,
        symbol: Option<String>,
        parent: Option<&ParentInfo>,
        t: &mut Template,
        depth: usize,
    ) {
        match v {
            Json::Object(o) => self.lower_resource(o, symbol, parent, t, depth),
            other => self.error(other.range(), "a resource must be an object".into()),
        }
    }

    fn lower_resource(
        &mut self,
        o: &Object,
        symbol: Option<String>,
        parent: Option<&ParentInfo>,
        t: &mut Template,
        depth: usize,
    ) {
        let span = self.span(o.range);
        let (own_type, head_span) = match get_value(o, "type") {
            Some(Json::StringLit(s)) => {
                let ty = match self.lower_string(s).kind {
                    ExprKind::String(text) => text,
                    _ => s.value.to_string(),
                };
                (ty, self.span(s.range))
            }
            Some(other) => {
                self.error(other.range(), "resource `type` must be a string".into());
                (String::new(), self.span(other.range()))
            }
            None => {
                self.error(
                    Range::new(o.range.start, o.range.start + 1),
                    "resource has no `type`".into(),
                );
                (
                    String::new(),
                    Span::new(self.file, o.range.start, o.range.start + 1),
                )
            }
        };
        let own_name = get_value(o, "name").map(|v| self.lower_value(v, 2));

        // Compose type and name for nested children (ARM child names are relative to the parent).
        let (type_name, name, parent_index) = match parent {
            None => (own_type, own_name, None),
            Some(p) if !has_namespace(&own_type) && !own_type.is_empty() => {
                let ty = format!("{}/{own_type}", p.type_name);
                (ty, compose_name(p.name.as_ref(), own_name), p.index)
            }
            Some(p) if is_child_type(&own_type, &p.type_name) => {
                let name = match own_name {
                    Some(n) if n.as_str().is_some_and(|s| !s.contains('/')) => {
                        compose_name(p.name.as_ref(), Some(n))
                    }
                    other => other,
                };
                (own_type, name, p.index)
            }
            Some(_) => (own_type, own_name, None),
        };

        let api_version = get_str(o, "apiVersion").map(|s| s.value.to_string());
        let condition = get_value(o, "condition").map(|v| self.lower_value(v, 2));
        let scope = get_value(o, "scope").map(|v| self.lower_value(v, 2));
        let depends_on = get_array(o, "dependsOn")
            .map(|a| {
                a.elements
                    .iter()
                    .map(|e| self.lower_value(e, 2))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let loop_ = match get_value(o, "copy") {
            Some(Json::Object(c)) => {
                let name = get_str(c, "name")
                    .map(|s| s.value.to_string())
                    .unwrap_or_default();
                let count = match get_value(c, "count") {
                    Some(v) => self.lower_value(v, 3),
                    None => {
                        self.error(c.range, format!("copy `{name}` has no `count`"));
                        self.error_expr(c.range, "copy has no count")
                    }
                };
                Some(Loop::Copy { name, count })
            }
            Some(other) => {
                self.error(other.range(), "resource `copy` must be an object".into());
                None
            }
            None => None,
        };
        let suppress = self.suppress_ids(o, span);
        // Only nested children need the name again (a deep tree, often a `format(...)` call).
        let children_name = match get(o, "resources") {
            Some(_) => name.clone(),
            None => None,
        };

        if type_name.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
            let m = self.lower_deployment(DeploymentParts {
                o,
                symbol,
                name,
                condition,
                scope,
                loop_,
                depends_on,
                span,
                head_span,
                outer_scope: t.target_scope,
                depth,
            });
            t.modules.push(m);
            // Children of a deployment are not children in the ARM type sense.
            self.lower_children(o, None, &type_name, children_name, t, depth);
            return;
        }

        let existing = matches!(get_value(o, "existing"), Some(Json::BooleanLit(b)) if b.value);
        let scope = match scope {
            Some(s) => Some(s),
            None => self.scope_of_ids(o),
        };
        let body = self.lower_object(o, NOT_BODY, 1);
        let index = t.resources.len();
        t.resources.push(ResourceDecl {
            symbol,
            type_name: type_name.clone(),
            api_version,
            existing,
            name,
            parent_index,
            parent: None,
            scope,
            body,
            condition,
            loop_,
            depends_on,
            span,
            head_span,
            suppress,
        });
        self.lower_children(o, Some(index), &type_name, children_name, t, depth);
    }

    fn lower_children(
        &mut self,
        o: &Object,
        index: Option<usize>,
        type_name: &str,
        name: Option<Expr>,
        t: &mut Template,
        depth: usize,
    ) {
        let Some(children) = get_value(o, "resources") else {
            return;
        };
        if depth >= MAX_TEMPLATE_DEPTH {
            self.error(children.range(), "resources nested too deeply".into());
            return;
        }
        let info = ParentInfo {
            index,
            type_name: type_name.to_string(),
            name,
        };
        match children {
            Json::Array(arr) => {
                for c in &arr.elements {
                    self.lower_resource_value(c, None, Some(&info), t, depth + 1);
                }
            }
            Json::Object(obj) => {
                for p in &obj.properties {
                    let symbol = Some(p.name.as_str().to_string());
                    self.lower_resource_value(&p.value, symbol, Some(&info), t, depth + 1);
                }
            }
            other => self.error(
                other.range(),
                "`resources` must be an array or an object".into(),
            ),
        }
    }

    /// `metadata.azaudit.suppress: ["id", ...]` → the ids with their spans; also records a
    /// [`Suppression`] covering the resource.
    fn suppress_ids(&mut self, o: &Object, covers: Span) -> Vec<(String, Span)> {
        let Some(arr) = get_object(o, "metadata")
            .and_then(|m| get_object(m, "azaudit"))
            .and_then(|a| get_array(a, "suppress"))
        else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        for e in &arr.elements {
            match e {
                Json::StringLit(s) => ids.push((s.value.to_string(), self.span(s.range))),
                other => self.error(
                    other.range(),
                    "suppressed policy ids must be strings".into(),
                ),
            }
        }
        let codes = if ids.iter().any(|(id, _)| id == "*") {
            Vec::new()
        } else {
            ids.iter().map(|(id, _)| id.clone()).collect()
        };
        let justification = get_object(o, "metadata")
            .and_then(|m| get_object(m, "azaudit"))
            .and_then(|a| get_str(a, "justification"))
            .map(|j| j.value.trim().to_string())
            .filter(|j| !j.is_empty());
        self.suppressions.push(Suppression {
            span: self.span(arr.range),
            codes,
            covers,
            starts_inside: true,
            justification,
        });
        ids
    }

    fn lower_deployment(&mut self, d: DeploymentParts) -> ModuleDecl {
        let o = d.o;
        let props = get_object(o, "properties");
        let mut source = None;
        let mut source_span = d.head_span;
        if let Some(link) = props.and_then(|p| get_object(p, "templateLink")) {
            let linked = get_str(link, "relativePath")
                .or_else(|| get_str(link, "uri"))
                .map(|s| (s, ""))
                .or_else(|| {
                    get_str(link, "id").map(|s| (s, crate::model::TEMPLATE_SPEC_ID_PREFIX))
                });
            if let Some((s, prefix)) = linked {
                source = Some(format!("{prefix}{}", s.value));
                source_span = self.span(s.range);
            }
        }
        let params = props
            .and_then(|p| get_object(p, "parameters"))
            .map(|p| self.unwrap_parameters(p));
        let inner_scope = props
            .and_then(|p| get_object(p, "expressionEvaluationOptions"))
            .and_then(|e| get_str(e, "scope"))
            .is_some_and(|s| s.value.eq_ignore_ascii_case("inner"));

        let has_rg = get_value(o, "resourceGroup").is_some();
        let scope = d.scope.or_else(|| self.scope_of_ids(o));

        let inline_template = match props.and_then(|p| get_value(p, "template")) {
            Some(Json::Object(tobj)) => {
                if d.depth >= MAX_TEMPLATE_DEPTH {
                    self.error(tobj.range, "templates nested too deeply".into());
                    None
                } else {
                    let inherited = if has_rg {
                        TargetScope::ResourceGroup
                    } else {
                        d.outer_scope
                    };
                    Some(Box::new(self.lower_template(tobj, inherited, d.depth + 1)))
                }
            }
            // An expression (`[variables('$fxv#0')]` from Bicep's `loadJsonContent`): not lowered.
            Some(_) => None,
            None => None,
        };
        if source.is_none() {
            if let Some(tv) = props.and_then(|p| get_value(p, "template")) {
                source_span = self.span(tv.range());
            }
        }
        // A deployment may carry suppressions too; they cover the whole declaration.
        let _ = self.suppress_ids(o, d.span);
        ModuleDecl {
            symbol: d.symbol,
            source,
            source_span,
            name: d.name,
            params,
            scope,
            condition: d.condition,
            loop_: d.loop_,
            depends_on: d.depends_on,
            inline_template,
            inner_scope,
            declared_as_resource: false,
            span: d.span,
            head_span: d.head_span,
        }
    }

    /// `resourceGroup` / `subscriptionId` on a deployment or an (`existing`) resource →
    /// `resourceGroup(...)` / `subscription(...)`, like Bicep's `scope`.
    fn scope_of_ids(&mut self, o: &Object) -> Option<Expr> {
        let rg = get_value(o, "resourceGroup").map(|v| self.lower_value(v, 2));
        let sub = get_value(o, "subscriptionId").map(|v| self.lower_value(v, 2));
        match (sub, rg) {
            (sub, Some(rg)) => {
                let span = rg.span;
                let args = sub.into_iter().chain(Some(rg)).collect();
                Some(call("resourceGroup", args, span))
            }
            (Some(sub), None) => {
                let span = sub.span;
                Some(call("subscription", vec![sub], span))
            }
            (None, None) => None,
        }
    }

    /// `{ x: { value: e }, y: { reference: {...} } }` → `{ x: e, y: <error: key vault reference> }`.
    fn unwrap_parameters(&mut self, p: &Object) -> Expr {
        let mut items = Vec::with_capacity(p.properties.len());
        for prop in &p.properties {
            let value = match &prop.value {
                Json::Object(o) => {
                    if let Some(v) = get_value(o, "value") {
                        self.lower_value(v, 4)
                    } else if get(o, "reference").is_some() {
                        self.error_expr(prop.value.range(), "key vault reference")
                    } else if get(o, "copy").is_some() {
                        // `{"copy": [{"name": "value", "count": …, "input": …}]}`: the value
                        // built by a property loop.
                        value_of(self.lower_object(o, &[], 4))
                    } else {
                        self.error_expr(prop.value.range(), "parameter has no `value`")
                    }
                }
                // `"[if(c, createObject('value', x), createObject('value', null()))]"`: the
                // compiler's form of a parameter passed only sometimes; its `value` is the value.
                Json::StringLit(_) => value_of(self.lower_value(&prop.value, 4)),
                other => self.error_expr(other.range(), "parameter must be an object"),
            };
            items.push(ObjectItem::Property {
                key: prop.name.as_str().to_string(),
                key_span: self.span(prop.name.range()),
                value,
            });
        }
        Expr::new(ExprKind::Object(items), self.span(p.range))
    }

    // ----- parameter files ----------------------------------------------------------------------

    fn lower_parameter_file(&mut self, root: &Object) -> Template {
        let mut t = Template::empty(self.file, Language::ArmParameters);
        self.literal_strings = true;
        t.using = get_object(root, "metadata")
            .and_then(|m| get_str(m, "template"))
            .map(|s| s.value.to_string());
        let Some(params) = get_object(root, "parameters") else {
            return t;
        };
        for p in &params.properties {
            let name = p.name.as_str().to_string();
            let value = match &p.value {
                Json::Object(o) => {
                    if let Some(v) = get_value(o, "value") {
                        Some(self.lower_value(v, 3))
                    } else if get(o, "reference").is_some() {
                        None
                    } else {
                        self.error(
                            p.value.range(),
                            format!("parameter `{name}` has no `value` or `reference`"),
                        );
                        None
                    }
                }
                other => {
                    self.error(
                        other.range(),
                        format!("parameter `{name}` must be an object"),
                    );
                    None
                }
            };
            t.assignments.push(ParamAssignment {
                name,
                span: self.span(p.range),
                value,
            });
        }
        t
    }
}

/// The pieces of a `Microsoft.Resources/deployments` resource already lowered by the caller.
struct DeploymentParts<'o, 'a> {
    o: &'o Object<'a>,
    symbol: Option<String>,
    name: Option<Expr>,
    condition: Option<Expr>,
    scope: Option<Expr>,
    loop_: Option<Loop>,
    depends_on: Vec<Expr>,
    span: Span,
    head_span: Span,
    outer_scope: TargetScope,
    depth: usize,
}

/// `whole.value` (read safely): the value of a nested-deployment parameter built as a whole.
pub(crate) fn value_of(whole: Expr) -> Expr {
    let span = whole.span;
    let kind = ExprKind::Member {
        target: Box::new(whole),
        name: "value".into(),
        safe: true,
    };
    Expr::new(kind, span)
}

fn call(name: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr::new(ExprKind::call(None, name, args), span)
}

/// `[for copy:<name> in range(0, count): body]`: a property or variable iteration.
pub(crate) fn copy_for(name: &str, count: Expr, body: Expr, span: Span) -> Expr {
    let iterable = range_call(count);
    Expr::new(
        ExprKind::For(Box::new(crate::expr::For {
            item: Some(format!("copy:{name}")),
            index: None,
            iterable: Box::new(iterable),
            filter: None,
            body: Box::new(body),
        })),
        span,
    )
}

/// `range(0, count)`.
fn range_call(count: Expr) -> Expr {
    let span = count.span;
    let zero = Expr::new(
        ExprKind::Int(0),
        Span::new(span.file, span.start as usize, span.start as usize),
    );
    call("range", vec![zero, count], span)
}

/// `concat(parentName, '/', childName)`; the child's name alone when the parent's is unknown.
pub(crate) fn compose_name(parent: Option<&Expr>, child: Option<Expr>) -> Option<Expr> {
    let child = child?;
    let Some(parent) = parent else {
        return Some(child);
    };
    let span = child.span;
    let slash = Expr::new(ExprKind::String("/".into()), span);
    Some(call("concat", vec![parent.clone(), slash, child], span))
}

/// For each byte of the decoded content of a JSON string, its offset in the raw (escaped) text;
/// one extra entry for the end.
fn decoded_to_raw(raw: &str) -> Vec<usize> {
    let mut map = Vec::with_capacity(raw.len() + 1);
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            let decoded_len = match chars.next() {
                Some((_, 'u')) => {
                    let mut hex = String::new();
                    for _ in 0..4 {
                        if let Some((_, h)) = chars.next_if(|(_, h)| h.is_ascii_hexdigit()) {
                            hex.push(h);
                        }
                    }
                    u32::from_str_radix(&hex, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .map_or(3, char::len_utf8)
                }
                Some(_) => 1,
                None => 0,
            };
            map.extend(std::iter::repeat_n(i, decoded_len));
        } else {
            map.extend((0..c.len_utf8()).map(|k| i + k));
        }
    }
    map.push(raw.len());
    map
}

/// Rewrites every span of an expression parsed from decoded text.
fn remap(e: &mut Expr, f: &dyn Fn(u32) -> u32) {
    e.span.start = f(e.span.start);
    e.span.end = f(e.span.end);
    match &mut e.kind {
        ExprKind::Call(c) => {
            for a in &mut c.args {
                remap(a, f);
            }
        }
        ExprKind::Member { target, .. } => remap(target, f),
        ExprKind::Index { target, index, .. } => {
            remap(target, f);
            remap(index, f);
        }
        ExprKind::Lambda { body, .. } => remap(body, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::expr::compact as show;

    fn text_of(text: &str, span: Span) -> &str {
        text.get(span.start as usize..span.end as usize).unwrap()
    }

    const SCHEMA: &str =
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

    fn template(body: &str) -> String {
        format!("{{\"$schema\": \"{SCHEMA}\", {body}}}")
    }

    #[test]
    fn classify_by_schema() {
        assert_eq!(
            classify(&template("\"resources\": []")),
            Some(Language::ArmTemplate)
        );
        let params = r#"{
          // a comment before the schema
          "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
          "parameters": {}
        }"#;
        assert_eq!(classify(params), Some(Language::ArmParameters));
        let sub = r#"{"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"}"#;
        assert_eq!(classify(sub), Some(Language::ArmTemplate));
        assert_eq!(
            lower(FileId(0), sub).target_scope,
            TargetScope::Subscription
        );
        let mg = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"}"#;
        assert_eq!(
            lower(FileId(0), mg).target_scope,
            TargetScope::ManagementGroup
        );
        let tenant = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#"}"#;
        assert_eq!(lower(FileId(0), tenant).target_scope, TargetScope::Tenant);
        // A nested $schema does not count; neither do other schemas or non-objects.
        let nested = format!(r#"{{"a": {{"$schema": "{SCHEMA}"}}, "$schema": "x.json"}}"#);
        assert_eq!(classify(&nested), None);
        assert_eq!(
            classify(r#"{"$schema": "http://json-schema.org/draft-04/schema#"}"#),
            None
        );
        assert_eq!(classify(r#"{"name": "package", "version": "1.0.0"}"#), None);
        assert_eq!(classify("[1, 2]"), None);
        assert_eq!(classify(""), None);
        assert_eq!(classify("{\"$schema\": \"unterminated"), None);
        assert_eq!(
            classify(&format!("\u{feff}{}", template(""))),
            Some(Language::ArmTemplate)
        );
    }

    #[test]
    fn parameters() {
        let text = template(
            r##""parameters": {
              "location": {"type": "string", "defaultValue": "[resourceGroup().location]",
                           "metadata": {"description": "Where."}},
              "sku": {"type": "string", "allowedValues": ["Developer", "Premium"]},
              "password": {"type": "secureString"},
              "config": {"$ref": "#/definitions/configType", "nullable": true}
            }"##,
        );
        let t = lower(FileId(1), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(t.language, Language::ArmTemplate);
        let names: Vec<&str> = t.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["location", "sku", "password", "config"]);
        let loc = &t.params[0];
        assert_eq!(text_of(&text, loc.name_span), "\"location\"");
        assert_eq!(loc.name_span.file, FileId(1));
        assert_eq!(loc.type_name.as_deref(), Some("string"));
        assert_eq!(
            show(loc.default.as_ref().unwrap()),
            "resourceGroup().location"
        );
        assert_eq!(loc.description.as_deref(), Some("Where."));
        assert!(text_of(&text, loc.span).starts_with("\"location\": {"));
        let sku = &t.params[1];
        let allowed: Vec<String> = sku.allowed.as_ref().unwrap().iter().map(show).collect();
        assert_eq!(allowed, ["'Developer'", "'Premium'"]);
        assert!(!sku.secure);
        assert!(t.params[2].secure);
        assert_eq!(t.params[3].type_name.as_deref(), Some("configType"));
        assert!(t.params[3].nullable);
    }

    #[test]
    fn variables_including_copy() {
        let text = template(
            r#""variables": {
              "prefix": "[toLower('APIM')]",
              "literal": "[[not an expression]",
              "copy": [{"name": "disks", "count": "[parameters('n')]",
                        "input": {"lun": "[copyIndex('disks')]"}}],
              "withProps": {"copy": [{"name": "items", "count": 2, "input": "[copyIndex('items')]"}],
                            "other": 1}
            }"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        let vars: Vec<(String, String)> = t
            .vars
            .iter()
            .map(|v| (v.name.clone(), show(&v.value)))
            .collect();
        assert_eq!(
            vars,
            [
                ("prefix".into(), "toLower('APIM')".into()),
                ("literal".into(), "'[not an expression]'".into()),
                (
                    "disks".into(),
                    "for copy:disks in range(0, parameters('n')): {lun: copyIndex('disks')}".into()
                ),
                (
                    "withProps".into(),
                    "{items: for copy:items in range(0, 2): copyIndex('items'), other: 1}".into()
                ),
            ]
        );
        assert_eq!(text_of(&text, t.vars[2].name_span), "\"disks\"");
    }

    #[test]
    fn expression_spans_point_into_the_file() {
        let text = template(r#""variables": {"a": "[concat('x', parameters('p'))]"}"#);
        let t = lower(FileId(0), &text);
        let v = &t.vars[0].value;
        assert_eq!(text_of(&text, v.span), "concat('x', parameters('p'))");
        let ExprKind::Call(c) = &v.kind else { panic!() };
        let args = &c.args;
        assert_eq!(text_of(&text, args[1].span), "parameters('p')");

        // With JSON escapes, offsets are mapped back through the escapes.
        let text = template(r#""variables": {"a": "[concat('\u0041\"', parameters('p'))]"}"#);
        let t = lower(FileId(0), &text);
        let v = &t.vars[0].value;
        assert_eq!(show(v), "concat('A\"', parameters('p'))");
        let ExprKind::Call(c) = &v.kind else { panic!() };
        let args = &c.args;
        assert_eq!(text_of(&text, args[0].span), r#"'\u0041\"'"#);
        assert_eq!(text_of(&text, args[1].span), "parameters('p')");
    }

    #[test]
    fn expression_errors_become_syntax_errors() {
        let text = template(r#""variables": {"a": "[concat('x' 'y')]"}"#);
        let t = lower(FileId(0), &text);
        assert_eq!(
            show(&t.vars[0].value),
            "error(expected `,` or `)`, found string)"
        );
        assert_eq!(t.syntax_errors.len(), 1);
        assert_eq!(text_of(&text, t.syntax_errors[0].span), "'y'");
    }

    #[test]
    fn resources_array_form() {
        let text = template(
            r#""resources": [{
              "type": "Microsoft.Network/virtualNetworks",
              "apiVersion": "2023-04-01",
              "name": "[parameters('vnetName')]",
              "location": "westeurope",
              "condition": "[parameters('deploy')]",
              "dependsOn": ["[resourceId('Microsoft.Network/networkSecurityGroups', 'nsg')]"],
              "comments": "dropped",
              "tags": {"env": "prod"},
              "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}
            }]"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        let r = &t.resources[0];
        assert_eq!(r.symbol, None);
        assert_eq!(r.type_name, "Microsoft.Network/virtualNetworks");
        assert_eq!(r.api_version.as_deref(), Some("2023-04-01"));
        assert_eq!(show(r.name.as_ref().unwrap()), "parameters('vnetName')");
        assert_eq!(show(r.condition.as_ref().unwrap()), "parameters('deploy')");
        assert_eq!(r.depends_on.len(), 1);
        assert!(!r.existing);
        assert_eq!(
            show(&r.body),
            "{location: 'westeurope', tags: {env: 'prod'}, properties: {addressSpace: {addressPrefixes: ['10.0.0.0/16']}}}"
        );
        assert_eq!(
            text_of(&text, r.head_span),
            "\"Microsoft.Network/virtualNetworks\""
        );
        assert!(text_of(&text, r.span).starts_with('{') && text_of(&text, r.span).ends_with('}'));
    }

    #[test]
    fn resources_object_form_with_existing_and_copy() {
        let text = template(
            r#""languageVersion": "2.0",
            "resources": {
              "vnet": {"existing": true, "type": "Microsoft.Network/virtualNetworks",
                       "apiVersion": "2023-04-01", "name": "hub"},
              "ips": {"copy": {"name": "ipLoop", "count": "[length(parameters('names'))]"},
                      "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-04-01",
                      "name": "[parameters('names')[copyIndex()]]",
                      "dependsOn": ["vnet"]}
            }"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(t.resources.len(), 2);
        assert_eq!(t.resources[0].symbol.as_deref(), Some("vnet"));
        assert!(t.resources[0].existing);
        let ips = &t.resources[1];
        assert_eq!(ips.symbol.as_deref(), Some("ips"));
        let Some(Loop::Copy { name, count }) = &ips.loop_ else {
            panic!("{:?}", ips.loop_)
        };
        assert_eq!(name, "ipLoop");
        assert_eq!(show(count), "length(parameters('names'))");
        assert_eq!(
            show(ips.name.as_ref().unwrap()),
            "parameters('names')[copyIndex()]"
        );
        assert_eq!(show(&ips.depends_on[0]), "'vnet'");
        assert_eq!(show(&ips.body), "{}");
    }

    #[test]
    fn nested_children_compose_type_and_name() {
        let text = template(
            r#""resources": [{
              "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01",
              "name": "[parameters('vnet')]",
              "resources": [
                {"type": "subnets", "apiVersion": "2023-04-01", "name": "apim",
                 "properties": {"addressPrefix": "10.0.1.0/24"},
                 "resources": [{"type": "providers/diagnosticSettings", "name": "Microsoft.Insights/diag"}]},
                {"type": "subnets", "name": "[variables('subnetName')]"},
                {"type": "Microsoft.Network/virtualNetworks/subnets", "name": "[concat(parameters('vnet'), '/', 'full')]"},
                {"type": "Microsoft.Network/virtualNetworks/subnets", "name": "short"},
                {"type": "Microsoft.Network/networkSecurityGroups", "name": "nsg"}
              ]
            }]"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        let got: Vec<(String, String, Option<usize>)> = t
            .resources
            .iter()
            .map(|r| {
                (
                    r.type_name.clone(),
                    show(r.name.as_ref().unwrap()),
                    r.parent_index,
                )
            })
            .collect();
        let want: Vec<(&str, &str, Option<usize>)> =
            vec![
            ("Microsoft.Network/virtualNetworks", "parameters('vnet')", None),
            (
                "Microsoft.Network/virtualNetworks/subnets",
                "concat(parameters('vnet'), '/', 'apim')",
                Some(0),
            ),
            (
                "Microsoft.Network/virtualNetworks/subnets/providers/diagnosticSettings",
                "concat(concat(parameters('vnet'), '/', 'apim'), '/', 'Microsoft.Insights/diag')",
                Some(1),
            ),
            (
                "Microsoft.Network/virtualNetworks/subnets",
                "concat(parameters('vnet'), '/', variables('subnetName'))",
                Some(0),
            ),
            (
                "Microsoft.Network/virtualNetworks/subnets",
                "concat(parameters('vnet'), '/', 'full')",
                Some(0),
            ),
            (
                "Microsoft.Network/virtualNetworks/subnets",
                "concat(parameters('vnet'), '/', 'short')",
                Some(0),
            ),
            ("Microsoft.Network/networkSecurityGroups", "'nsg'", None),
        ];
        let want: Vec<(String, String, Option<usize>)> = want
            .into_iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            show(&t.resources[1].body),
            "{properties: {addressPrefix: '10.0.1.0/24'}}"
        );
    }

    #[test]
    fn property_copy_becomes_for() {
        let text = template(
            r#""resources": [{
              "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-04-01", "name": "vnet",
              "properties": {
                "copy": [{"name": "subnets", "count": 3,
                          "input": {"name": "[concat('snet-', copyIndex('subnets'))]"}}]
              }
            }]"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        let subnets = t.resources[0]
            .body
            .property("properties")
            .and_then(|p| p.property("subnets"))
            .unwrap();
        assert_eq!(
            show(subnets),
            "for copy:subnets in range(0, 3): {name: concat('snet-', copyIndex('subnets'))}"
        );
    }

    #[test]
    fn suppress_metadata() {
        let text = template(
            r#""resources": [{
              "type": "Microsoft.ApiManagement/service", "apiVersion": "2023-05-01-preview", "name": "apim",
              "metadata": {"azaudit": {"suppress": ["apim-vnet-required", "apim-min-api-version"]}}
            }]"#,
        );
        let t = lower(FileId(0), &text);
        let r = &t.resources[0];
        let ids: Vec<&str> = r.suppress.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["apim-vnet-required", "apim-min-api-version"]);
        assert_eq!(text_of(&text, r.suppress[0].1), "\"apim-vnet-required\"");
        assert_eq!(t.suppressions.len(), 1);
        assert_eq!(t.suppressions[0].covers, r.span);
        assert_eq!(
            t.suppressions[0].codes,
            ["apim-vnet-required", "apim-min-api-version"]
        );
    }

    #[test]
    fn deployments_become_modules() {
        let text = template(
            r#""resources": [
              {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "linked",
               "resourceGroup": "[parameters('rg')]",
               "properties": {"mode": "Incremental", "templateLink": {"relativePath": "nested/network.json"},
                              "parameters": {"vnetName": {"value": "[parameters('vnet')]"},
                                             "secret": {"reference": {"keyVault": {"id": "kv"}, "secretName": "s"}}}}},
              {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inline",
               "copy": {"name": "deps", "count": 2},
               "properties": {"mode": "Incremental",
                              "expressionEvaluationOptions": {"scope": "inner"},
                              "parameters": {"n": {"value": 1}},
                              "template": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                                           "parameters": {"n": {"type": "int"}},
                                           "resources": [{"type": "Microsoft.Network/publicIPAddresses",
                                                          "apiVersion": "2023-04-01", "name": "[concat('ip', parameters('n'))]"}]}}}
            ]"#,
        );
        let t = lower(FileId(2), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert!(t.resources.is_empty());
        assert_eq!(t.modules.len(), 2);
        let linked = &t.modules[0];
        assert_eq!(linked.source.as_deref(), Some("nested/network.json"));
        assert_eq!(
            text_of(&text, linked.source_span),
            "\"nested/network.json\""
        );
        assert_eq!(
            show(linked.params.as_ref().unwrap()),
            "{vnetName: parameters('vnet'), secret: error(key vault reference)}"
        );
        assert_eq!(
            show(linked.scope.as_ref().unwrap()),
            "resourceGroup(parameters('rg'))"
        );
        assert!(!linked.inner_scope);
        assert!(linked.inline_template.is_none());

        let inline = &t.modules[1];
        assert_eq!(inline.source, None);
        assert!(inline.inner_scope);
        assert!(matches!(inline.loop_, Some(Loop::Copy { ref name, .. }) if name == "deps"));
        let inner = inline.inline_template.as_ref().unwrap();
        assert_eq!(inner.file, FileId(2));
        assert_eq!(inner.params[0].name, "n");
        let ip = &inner.resources[0];
        assert_eq!(
            show(ip.name.as_ref().unwrap()),
            "concat('ip', parameters('n'))"
        );
        assert_eq!(ip.span.file, FileId(2));
        assert_eq!(
            text_of(&text, ip.head_span),
            "\"Microsoft.Network/publicIPAddresses\""
        );
    }

    #[test]
    fn comments_and_trailing_commas() {
        let text = format!(
            r#"{{
              // line comment
              "$schema": "{SCHEMA}",
              /* block
                 comment */
              "resources": [
                {{"type": "Microsoft.Storage/storageAccounts", "name": "st", }},
              ],
            }}"#
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(t.resources.len(), 1);
        assert_eq!(
            text_of(&text, t.resources[0].head_span),
            "\"Microsoft.Storage/storageAccounts\""
        );
    }

    #[test]
    fn duplicate_keys_in_small_and_large_objects() {
        // A large object (checked through the hash set) and a small one (pairwise), each with a
        // key repeated in another case; the first of each name is not a duplicate.
        let many: Vec<String> = (0..20).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = template(&format!(
            r#""variables": {{{}, "K7": 0, "small": {{"a": 1, "B": 2, "b": 3}}}}"#,
            many.join(", ")
        ));
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        let found: Vec<(&str, &str)> = t
            .duplicate_keys
            .iter()
            .map(|(span, name)| (text_of(&text, *span), name.as_str()))
            .collect();
        assert_eq!(found, [("\"K7\"", "K7"), ("\"b\"", "b")]);
    }

    #[test]
    fn parse_errors_have_spans_and_never_panic() {
        let text = "{\n  \"$schema\": \"x\",\n  \"resources\": [ } \n}";
        let t = lower(FileId(0), text);
        assert_eq!(t.syntax_errors.len(), 1);
        let e = &t.syntax_errors[0];
        assert_eq!(e.message, e.message.to_lowercase());
        assert_eq!(text_of(text, e.span), "}");
        for bad in [
            "",
            "[",
            "{",
            "\"a\"",
            "{\"resources\": 3}",
            "{\"resources\": [1, {}]}",
            "nul",
        ] {
            let t = lower(FileId(0), bad);
            assert!(!t.syntax_errors.is_empty(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!lower(FileId(0), &deep).syntax_errors.is_empty());
        // As deep as the JSON parser allows, in objects, arrays and nested templates: no overflow.
        for (open, close) in [("{\"a\": ", "}"), ("[", "]")] {
            let deep = template(&format!(
                "\"variables\": {{\"v\": {}1{}}}",
                open.repeat(505),
                close.repeat(505)
            ));
            let _ = lower(FileId(0), &deep);
        }
        let nested = r#"{"type": "Microsoft.Resources/deployments", "name": "d", "properties": {"template": {"resources": [X]}}}"#;
        let mut inner =
            String::from(r#"{"type": "Microsoft.Network/virtualNetworks", "name": "v"}"#);
        for _ in 0..40 {
            inner = nested.replace('X', &inner);
        }
        let t = lower(FileId(0), &template(&format!("\"resources\": [{inner}]")));
        assert_eq!(t.syntax_errors.len(), 1);
        assert_eq!(t.syntax_errors[0].message, "templates nested too deeply");
        for _ in 0..80 {
            inner = nested.replace('X', &inner);
        }
        let t = lower(FileId(0), &template(&format!("\"resources\": [{inner}]")));
        assert_eq!(t.syntax_errors.len(), 1);
        // A byte order mark keeps offsets.
        let text = format!("\u{feff}{}", template(r#""variables": {"a": "b"}"#));
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(text_of(&text, t.vars[0].name_span), "\"a\"");
    }

    #[test]
    fn parameter_files() {
        let text = r#"{
          "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
          "contentVersion": "1.0.0.0",
          "parameters": {
            "sku": {"value": "Developer"},
            "count": {"value": 2},
            "table": {"value": "[dbo].[emp]"},
            "password": {"reference": {"keyVault": {"id": "/subscriptions/x"}, "secretName": "pw"}}
          }
        }"#;
        let t = lower(FileId(0), text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(t.language, Language::ArmParameters);
        let got: Vec<(String, Option<String>)> = t
            .assignments
            .iter()
            .map(|a| (a.name.clone(), a.value.as_ref().map(show)))
            .collect();
        assert_eq!(
            got,
            [
                ("sku".to_string(), Some("'Developer'".to_string())),
                ("count".to_string(), Some("2".to_string())),
                ("table".to_string(), Some("'[dbo].[emp]'".to_string())),
                ("password".to_string(), None),
            ]
        );
        assert!(text_of(text, t.assignments[0].span).starts_with("\"sku\""));
    }

    #[test]
    fn outputs_and_functions() {
        let text = template(
            r#""functions": [{"namespace": "contoso", "members": {"name": {
                 "parameters": [{"name": "prefix", "type": "string"}],
                 "output": {"type": "string", "value": "[concat(parameters('prefix'), 'x')]"}}}}],
               "outputs": {
                 "id": {"type": "string", "value": "[resourceId('Microsoft.Network/virtualNetworks', 'v')]"},
                 "names": {"type": "array", "copy": {"count": 2, "input": "[copyIndex()]"}}
               }"#,
        );
        let t = lower(FileId(0), &text);
        assert!(t.syntax_errors.is_empty(), "{:?}", t.syntax_errors);
        assert_eq!(t.functions[0].name, "contoso.name");
        assert_eq!(t.functions[0].params, ["prefix"]);
        assert_eq!(
            show(&t.functions[0].body),
            "concat(parameters('prefix'), 'x')"
        );
        assert_eq!(t.outputs[0].name, "id");
        assert_eq!(
            show(&t.outputs[0].value),
            "resourceId('Microsoft.Network/virtualNetworks', 'v')"
        );
        assert_eq!(
            show(&t.outputs[1].value),
            "for copy:names in range(0, 2): copyIndex()"
        );
    }
}
