//! Azure Policy aliases: the built-in table (generated into `data/aliases.txt`), field paths, and
//! reading them from a resource.
//!
//! The table is carried in the binary in a terse, front-coded text form (see
//! `scripts/gen-aliases.py`). On first use only the resource types are indexed; a type's aliases
//! are parsed the first time one of them is looked up.

use crate::value::{Kind, Reason, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, OnceLock};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// A property name (compared case-insensitively).
    Key(String),
    /// `[*]`: every element of an array.
    Wildcard,
    /// `[n]`: one element of an array.
    Index(i64),
}

/// A table from alias name (lowercase) to its default path.
#[derive(Debug, Default, Clone)]
pub struct AliasTable {
    paths: HashMap<String, String>,
    types: HashSet<String>,
    /// Don't fall back to the built-in table for aliases this one lacks.
    isolated: bool,
    /// Aliases not named after their type (`Microsoft.Compute/imageId`): lowercase alias →
    /// (lowercase type, path) for every type that lists it.
    typed: HashMap<String, Vec<(String, String)>>,
    /// Aliases of the terse text, parsed per type on demand.
    blocks: Option<Arc<Blocks>>,
}

/// The terse table indexed by type.
#[derive(Debug, Default)]
struct Blocks {
    text: &'static str,
    /// Lowercase type → (type as written, byte range of its alias lines), one entry per `T` line
    /// (a type may be listed twice with different casing).
    index: HashMap<String, Vec<(String, usize, usize)>>,
    parsed: HashMap<String, OnceLock<rustc_hash::FxHashMap<String, String>>>,
}

impl Blocks {
    /// The alias lines (read only to count them).
    fn count(&self) -> usize {
        self.text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(['#', 'T', '!']))
            .count()
    }

    fn get(&self, lower_type: &str) -> Option<&rustc_hash::FxHashMap<String, String>> {
        let ranges = self.index.get(lower_type)?;
        let cell = self.parsed.get(lower_type)?;
        Some(cell.get_or_init(|| {
            // One alias a line: sized once rather than rehashed as it grows.
            let lines: usize = ranges
                .iter()
                .map(|(_, start, end)| {
                    let block = self.text.as_bytes().get(*start..*end).unwrap_or(&[]);
                    memchr::memchr_iter(b'\n', block).count()
                })
                .sum();
            let mut map =
                rustc_hash::FxHashMap::with_capacity_and_hasher(lines, Default::default());
            for (rtype, start, end) in ranges {
                parse_block(rtype, self.text.get(*start..*end).unwrap_or(""), &mut map);
            }
            map
        }))
    }
}

static BUILTIN_TEXT: &str = include_str!("../../data/aliases.txt");
static BUILTIN: LazyLock<AliasTable> = LazyLock::new(|| AliasTable::parse_terse(BUILTIN_TEXT));

impl AliasTable {
    /// An empty table: only the derivable rule (`<type>/<a.b>` → `properties.a.b`) applies.
    pub fn new() -> AliasTable {
        AliasTable::default()
    }

    /// An empty table that never consults the built-in one (for test suites with their own
    /// alias catalog).
    pub fn isolated() -> AliasTable {
        AliasTable {
            isolated: true,
            ..AliasTable::default()
        }
    }

    /// The table of every Azure alias, compiled into the binary.
    pub fn builtin() -> &'static AliasTable {
        &BUILTIN
    }

    /// Number of aliases known.
    pub fn len(&self) -> usize {
        self.paths.len() + self.blocks.as_ref().map_or(0, |b| b.count())
    }

    /// True when no alias is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds (or replaces) an alias.
    pub fn insert(&mut self, resource_type: &str, alias: &str, path: &str) {
        let rtype = resource_type.to_ascii_lowercase();
        let lower = alias.to_ascii_lowercase();
        if !lower.starts_with(&format!("{rtype}/")) {
            self.typed
                .entry(lower.clone())
                .or_default()
                .push((rtype.clone(), path.to_string()));
        }
        self.types.insert(rtype);
        self.paths.entry(lower).or_insert_with(|| path.to_string());
    }

    /// For an alias not named after its type, its path for each type that lists it.
    pub fn per_type(&self, alias: &str) -> Option<&[(String, String)]> {
        let lower = alias.to_ascii_lowercase();
        match self.typed.get(&lower) {
            Some(v) => Some(v),
            None if !self.isolated => BUILTIN.typed.get(&lower).map(Vec::as_slice),
            None => None,
        }
    }

    /// Adds every alias of a provider listing as `Get-AzPolicyAlias` / the REST API returns it:
    /// `[{namespace, resourceTypes: [{resourceType, aliases: [{name, defaultPath}]}]}]`.
    pub fn add_provider_json(&mut self, json: &serde_json::Value) {
        for ns in json.as_array().into_iter().flatten() {
            let Some(namespace) = ns.get("namespace").and_then(|v| v.as_str()) else {
                continue;
            };
            let types = ns.get("resourceTypes").and_then(|v| v.as_array());
            for rt in types.into_iter().flatten() {
                let Some(name) = rt.get("resourceType").and_then(|v| v.as_str()) else {
                    continue;
                };
                let full_type = format!("{namespace}/{name}");
                self.types.insert(full_type.to_ascii_lowercase());
                let aliases = rt.get("aliases").and_then(|v| v.as_array());
                for a in aliases.into_iter().flatten() {
                    let (Some(alias), Some(path)) = (
                        a.get("name").and_then(|v| v.as_str()),
                        a.get("defaultPath").and_then(|v| v.as_str()),
                    ) else {
                        continue;
                    };
                    self.insert(&full_type, alias, path);
                }
            }
        }
    }

    /// Indexes the terse format written by `scripts/gen-aliases.py` (types now, aliases on
    /// first lookup).
    pub fn parse_terse(text: &'static str) -> AliasTable {
        let mut table = AliasTable::new();
        let mut blocks = Blocks {
            text,
            ..Blocks::default()
        };
        let mut current: Option<(String, String, usize)> = None;
        // Only the type (`T`) and `!` lines are read now, 1,600 of 80,000 lines, found with
        // memmem; the alias lines between them are read on first lookup (reading every line here
        // was most of a one-file run).
        let bytes = text.as_bytes();
        let mut starts: Vec<usize> = memchr::memmem::find_iter(bytes, b"\nT")
            .chain(memchr::memmem::find_iter(bytes, b"\n!"))
            .map(|i| i + 1)
            .collect();
        if matches!(bytes.first(), Some(b'T' | b'!')) {
            starts.push(0);
        }
        starts.sort_unstable();
        for line_start in starts {
            let end = bytes
                .get(line_start..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
                .map_or(bytes.len(), |i| line_start + i + 1);
            let offset = end;
            let raw = text.get(line_start..end).unwrap_or("");
            let line = raw.trim_end_matches(['\n', '\r']);
            if let Some(t) = line.strip_prefix('T') {
                if let Some((lower, written, start)) = current.take() {
                    blocks.parsed.insert(lower.clone(), OnceLock::new());
                    blocks
                        .index
                        .entry(lower)
                        .or_default()
                        .push((written, start, line_start));
                }
                table.types.insert(t.to_ascii_lowercase());
                current = Some((t.to_ascii_lowercase(), t.to_string(), offset));
            } else if let Some(rest) = line.strip_prefix('!') {
                if let (Some((alias, path)), Some((_, written, _))) =
                    (rest.split_once('\t'), &current)
                {
                    let rt = written.clone();
                    table.insert(&rt, alias, path);
                }
            }
        }
        if let Some((lower, written, start)) = current {
            blocks.parsed.insert(lower.clone(), OnceLock::new());
            blocks
                .index
                .entry(lower)
                .or_default()
                .push((written, start, text.len()));
        }
        table.blocks = Some(Arc::new(blocks));
        table
    }

    /// The default path of an alias, if the table knows it.
    pub fn lookup(&self, alias: &str) -> Option<&str> {
        let lower = alias.to_ascii_lowercase();
        if let Some(p) = self.paths.get(&lower) {
            return Some(p);
        }
        let blocks = self.blocks.as_ref()?;
        // Try every type prefix, longest first (child aliases may be listed under the parent).
        let cuts: Vec<usize> = lower.match_indices('/').map(|(i, _)| i).collect();
        for &i in cuts.iter().rev() {
            let prefix = lower.get(..i).unwrap_or("");
            if let Some(p) = blocks.get(prefix).and_then(|m| m.get(&lower)) {
                return Some(p);
            }
        }
        None
    }

    /// Is `name` a known resource type?
    pub fn is_type(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.types.contains(&lower)
            || self
                .blocks
                .as_ref()
                .is_some_and(|b| b.index.contains_key(&lower))
    }

    /// Resolves a field that looks like an alias (`Namespace.Provider/type/.../prop`) to a path:
    /// the table's entry, else the derivable rule on the longest known type prefix (or, for an
    /// unknown type, the part after the second `/`).
    pub fn resolve(&self, field: &str) -> Option<String> {
        if !field.contains('/') {
            return None;
        }
        if let Some(p) = self.lookup(field) {
            return Some(p.to_string());
        }
        let builtin = (!self.isolated).then(|| &*BUILTIN);
        if let Some(p) = builtin.and_then(|b| b.lookup(field)) {
            return Some(p.to_string());
        }
        // Longest known type prefix, else `<ns>/<type>`.
        let mut best: Option<usize> = None;
        for (i, c) in field.char_indices() {
            if c == '/' {
                let prefix = field.get(..i).unwrap_or("");
                if self.is_type(prefix) || builtin.is_some_and(|b| b.is_type(prefix)) {
                    best = Some(i);
                }
            }
        }
        // An unknown type: the property part follows the last `/` (alias paths have none).
        let cut = match best {
            Some(i) => i,
            None => {
                let i = field.rfind('/')?;
                if field.get(..i).is_none_or(|t| !t.contains('/')) {
                    return None;
                }
                i
            }
        };
        let rest = field.get(cut + 1..)?;
        if rest.is_empty() {
            return None;
        }
        let lower = rest.to_ascii_lowercase();
        if lower == "sku" || lower.starts_with("sku.") {
            return Some(rest.to_string());
        }
        Some(format!("properties.{rest}"))
    }
}

/// Parses one type's alias lines into lowercase alias → path.
fn parse_block(rtype: &str, text: &str, out: &mut rustc_hash::FxHashMap<String, String>) {
    let mut prev = String::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let (head, extra) = match line.split_once('\t') {
            Some((h, e)) => (h, Some(e)),
            None => (line, None),
        };
        let Some((shared, rest)) = decode_shared(head) else {
            continue;
        };
        let mut chars = rest.chars();
        let Some(code) = chars.next() else {
            continue;
        };
        // The first `shared` characters of the previous alias, then the rest of this line.
        let kept = prev
            .char_indices()
            .nth(shared)
            .map_or(prev.len(), |(i, _)| i);
        let mut suffix = String::with_capacity(kept + chars.as_str().len());
        suffix.push_str(prev.get(..kept).unwrap_or(""));
        suffix.push_str(chars.as_str());
        let path = match (code, extra) {
            ('p', _) => Some(format!("properties.{suffix}")),
            ('q', _) => Some(format!(
                "properties.{}",
                suffix.replace("[*].", "[*].properties.")
            )),
            ('r', _) => Some(suffix.clone()),
            ('m', Some(mask)) => Some(apply_mask(mask, &suffix)),
            ('=', Some(path)) => Some(path.to_string()),
            _ => None,
        };
        if let Some(path) = path {
            let mut key = String::with_capacity(rtype.len() + 1 + suffix.len());
            key.push_str(rtype);
            key.push('/');
            key.push_str(&suffix);
            key.make_ascii_lowercase();
            out.insert(key, path);
        }
        prev = suffix;
    }
}

fn decode_shared(head: &str) -> Option<(usize, &str)> {
    if let Some(rest) = head.strip_prefix('~') {
        let (num, rest) = rest.split_once('~')?;
        return Some((num.parse().ok()?, rest));
    }
    let c = head.chars().next()?;
    let n = c.to_digit(36)? as usize;
    Some((n, head.get(c.len_utf8()..)?))
}

fn apply_mask(mask: &str, suffix: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut codes = mask.chars().peekable();
    if codes.peek() == Some(&'P') {
        out.push("properties");
        codes.next();
    }
    for (seg, code) in suffix.split('.').zip(codes) {
        match code {
            '1' => out.push(seg),
            '2' => {
                out.push(seg);
                out.push("properties");
            }
            _ => {}
        }
    }
    out.join(".")
}

/// The value(s) a field reads.
#[derive(Debug, Clone)]
pub enum Read {
    /// A path without `[*]` (`None` when missing or null), or a collection that an unknown value
    /// blocked (the first one met, in document order).
    One(Option<Value>),
    /// Every value a path with `[*]` reaches, in document order.
    Many(Vec<Value>),
}

/// Deepest path followed.
const MAX_DEPTH: usize = 64;

/// Reads a field path (split by [`split_path`]) from a resource body or a counted element, as Azure
/// Policy does: property names compare case-insensitively; an unknown value met on the way is the
/// answer, and under `[*]` an unknown array or element makes the collection unknown (a symbolic
/// string at the end of the path is an element like any other); with `missing_arrays` (a
/// condition), a missing property or array under `[*]` reads as one missing (`null`) element,
/// without (a `field()` collection) it is left out.
///
/// Alias paths are JSONPath, but this walker reads them rather than jsonpath-rust: see "Aliases"
/// in ARCHITECTURE.md for the measurement.
pub fn read(root: &Value, segs: &[Seg], missing_arrays: bool) -> Read {
    if segs.contains(&Seg::Wildcard) {
        let mut out = Vec::new();
        match collect(root, segs, &mut out, 0, missing_arrays) {
            Ok(()) => Read::Many(out),
            Err(u) => Read::One(Some(u)),
        }
    } else {
        Read::One(walk(root, segs))
    }
}

fn step<'v>(v: &'v Value, seg: &Seg) -> Option<&'v Value> {
    match seg {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => {
            let a = v.as_array()?;
            let idx = if *i < 0 {
                usize::try_from(i64::try_from(a.len()).ok()? + i).ok()?
            } else {
                usize::try_from(*i).ok()?
            };
            a.get(idx)
        }
        Seg::Wildcard => None,
    }
}

/// Follows a wildcard-free path; unknown values stop the walk and are returned.
fn walk(root: &Value, segs: &[Seg]) -> Option<Value> {
    let mut cur = root;
    for s in segs {
        if cur.is_unknown() {
            return Some(cur.clone());
        }
        cur = step(cur, s)?;
    }
    if matches!(cur.kind, Kind::Null) {
        return None;
    }
    Some(cur.clone())
}

/// Collects every value a wildcard path reaches; `Err(unknown)` when an unknown blocks the way.
fn collect(
    v: &Value,
    segs: &[Seg],
    out: &mut Vec<Value>,
    depth: usize,
    missing_arrays: bool,
) -> Result<(), Value> {
    if v.is_unknown() {
        // A symbolic leaf is a value like any other; an unknown container stops the walk.
        if segs.is_empty() && matches!(v.unknown_reason(), Some(Reason::Symbolic { .. })) {
            out.push(v.clone());
            return Ok(());
        }
        return Err(v.clone());
    }
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let Some((first, rest)) = segs.split_first() else {
        out.push(v.clone());
        return Ok(());
    };
    match first {
        Seg::Wildcard => {
            match v.as_array() {
                Some(items) => {
                    for i in items {
                        collect(i, rest, out, depth + 1, missing_arrays)?;
                    }
                }
                None if missing_arrays => out.push(Value::null()),
                None => {}
            }
            Ok(())
        }
        s => match step(v, s) {
            Some(next) => collect(next, rest, out, depth + 1, missing_arrays),
            None => {
                // In a condition, a missing property under an element reads as missing; in a
                // `field()` collection it is left out.
                if missing_arrays {
                    out.push(Value::null());
                }
                Ok(())
            }
        },
    }
}

/// Splits a path (`properties.a[*].b`, `tags['x y']`, `a[0]`) into segments.
pub fn split_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                }
                let mut inner = String::new();
                let mut quote: Option<char> = None;
                for d in chars.by_ref() {
                    match quote {
                        Some(q) if d == q => quote = None,
                        Some(_) => inner.push(d),
                        None if d == '\'' || d == '"' => quote = Some(d),
                        None if d == ']' => break,
                        None => inner.push(d),
                    }
                }
                let trimmed = inner.trim();
                if trimmed == "*" {
                    segs.push(Seg::Wildcard);
                } else if let Ok(i) = trimmed.parse::<i64>() {
                    segs.push(Seg::Index(i));
                } else {
                    segs.push(Seg::Key(inner));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segs.push(Seg::Key(cur));
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_knows_apim_vnet_type() {
        let t = AliasTable::builtin();
        assert!(t.len() > 79_000, "{}", t.len());
        assert_eq!(
            t.lookup("Microsoft.ApiManagement/service/virtualNetworkType"),
            Some("properties.virtualNetworkType")
        );
        assert_eq!(
            t.lookup("Microsoft.Network/virtualNetworks/subnets[*].addressPrefix"),
            Some("properties.subnets[*].properties.addressPrefix")
        );
    }

    #[test]
    fn unknown_alias_derives_properties_path() {
        let t = AliasTable::new();
        assert_eq!(
            t.resolve("Contoso.Made/up/a.b").as_deref(),
            Some("properties.a.b")
        );
        assert_eq!(t.resolve("name"), None);
    }

    fn json(v: serde_json::Value) -> Value {
        Value::from_json(&v)
    }

    fn param(name: &str) -> Value {
        Value::unknown(Reason::Parameter { name: name.into() })
    }

    /// Reads `path` from `root`, skipping its first `from` segments.
    fn at(root: &Value, path: &str, from: usize, missing_arrays: bool) -> Read {
        read(root, &split_path(path)[from..], missing_arrays)
    }

    fn many(read: Read) -> Vec<Value> {
        match read {
            Read::Many(items) => items,
            Read::One(v) => panic!("expected a collection, got {v:?}"),
        }
    }

    fn one(read: Read) -> Option<Value> {
        match read {
            Read::One(v) => v,
            Read::Many(items) => panic!("expected one value, got {items:?}"),
        }
    }

    #[test]
    fn paths_read_case_insensitively_with_indexes_from_either_end() {
        let body = json(
            serde_json::json!({"Properties": {"IpConfigurations": [{"name": "a"}, {"name": "b"}]}}),
        );
        let read = |p: &str| one(at(&body, p, 0, false));
        assert_eq!(
            read("properties.ipConfigurations[0].name"),
            Some(Value::string("a"))
        );
        assert_eq!(
            read("properties.ipConfigurations[-1].name"),
            Some(Value::string("b"))
        );
        assert_eq!(read("properties.ipConfigurations[2].name"), None);
        assert_eq!(read("properties.missing.name"), None);
        assert_eq!(
            many(at(&body, "properties.ipConfigurations[*].NAME", 0, false)),
            vec![Value::string("a"), Value::string("b")]
        );
    }

    #[test]
    fn an_unknown_stays_unknown_through_every_step() {
        let mut body = json(serde_json::json!({"properties": {}}));
        body.set("properties", param("p"));
        for path in ["properties.a.b", "properties.a[0].b", "properties[1]"] {
            assert_eq!(one(at(&body, path, 0, false)), Some(param("p")), "{path}");
        }
        for path in ["properties.a[*].b", "properties[*]", "properties.a[0][*]"] {
            assert_eq!(one(at(&body, path, 0, true)), Some(param("p")), "{path}");
        }
    }

    #[test]
    fn an_unknown_element_makes_the_collection_unknown() {
        let mut body = json(serde_json::json!({"a": [{"b": 1}, {"b": 2}, {"b": 3}]}));
        if let Some(Kind::Array(items)) = body.get_mut("a").map(|a| &mut a.kind) {
            items[1] = param("second");
            items[2] = param("third");
        }
        // The first unknown met, in document order.
        assert_eq!(one(at(&body, "a[*].b", 0, true)), Some(param("second")));
        assert_eq!(one(at(&body, "a[*]", 0, false)), Some(param("second")));
    }

    #[test]
    fn a_symbolic_string_is_an_element_at_the_end_of_a_path_and_blocks_inside_it() {
        let mut body = json(serde_json::json!({"a": [{"b": "x"}, {"b": "y"}]}));
        let sym = Value::symbolic("{uniqueString}");
        if let Some(Kind::Array(items)) = body.get_mut("a").map(|a| &mut a.kind) {
            items[1].set("b", sym.clone());
        }
        assert_eq!(
            many(at(&body, "a[*].b", 0, true)),
            vec![Value::string("x"), sym.clone()]
        );
        assert_eq!(one(at(&body, "a[*].b.c", 0, true)), Some(sym.clone()));
        assert_eq!(one(at(&body, "a[1].b.c", 0, true)), Some(sym));
    }

    #[test]
    fn missing_elements_read_as_null_in_conditions_and_are_left_out_otherwise() {
        let body = json(serde_json::json!({"a": [{"b": 1}, {"c": 2}, {"b": null}], "o": {"b": 1}}));
        let path = "a[*].b";
        assert_eq!(
            many(at(&body, path, 0, true)),
            vec![Value::int(1), Value::null(), Value::null()]
        );
        // A `null` written in the template is kept; a missing property is left out.
        assert_eq!(
            many(at(&body, path, 0, false)),
            vec![Value::int(1), Value::null()]
        );
        // `[*]` over a missing property or an object: one missing element.
        assert_eq!(many(at(&body, "x[*].b", 0, true)), vec![Value::null()]);
        assert_eq!(many(at(&body, "o[*].b", 0, true)), vec![Value::null()]);
        assert_eq!(many(at(&body, "o[*].b", 0, false)), Vec::<Value>::new());
        assert_eq!(many(at(&body, "a[5][*]", 0, true)), vec![Value::null()]);
    }

    #[test]
    fn a_bound_element_reads_the_rest_of_the_path() {
        let elem = json(serde_json::json!({"properties": {"serviceName": "s"}}));
        let path = "properties.delegations[*].properties.serviceName";
        assert_eq!(one(at(&elem, path, 3, false)), Some(Value::string("s")));
    }

    #[test]
    fn split_handles_brackets() {
        assert_eq!(
            split_path("tags['a.b']"),
            vec![Seg::Key("tags".into()), Seg::Key("a.b".into())]
        );
        assert_eq!(
            split_path("properties.x[*].y[2]"),
            vec![
                Seg::Key("properties".into()),
                Seg::Key("x".into()),
                Seg::Wildcard,
                Seg::Key("y".into()),
                Seg::Index(2)
            ]
        );
    }
}
