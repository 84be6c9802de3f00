//! Azure Policy aliases: the built-in table (generated into `data/aliases.txt`), field paths, and
//! reading them from a resource.
//!
//! The table is carried in the binary in a terse, front-coded text form (see
//! `scripts/gen-aliases.py`), indexed by type when the binary is built (`build.rs`, through
//! [`super::alias_text`]), which also resolves the aliases the built-in policies name: loading
//! them parses nothing. Any other alias's type is parsed the first time one of its aliases is
//! looked up.

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

/// One type's aliases, parsed: lowercase alias → path.
type TypeAliases = rustc_hash::FxHashMap<String, String>;

/// The built-in table's types, indexed when the binary is built (`build.rs`).
#[derive(Debug, Default)]
struct Blocks {
    text: &'static str,
    /// The lowercase types, one after the other (`types` says where each is).
    names: &'static str,
    /// (byte range of a lowercase type in `names`, byte range of its alias lines in `text`),
    /// sorted by type; a type listed twice with different casing has one entry per listing, in
    /// text order. Numbers rather than `&str`, so the table needs no relocation at start.
    types: &'static [(u32, u32, u32, u32)],
    /// Aliases resolved through the type blocks when the binary was built (those the built-in
    /// policies name): (lowercase alias, path or none), sorted.
    resolved: &'static [(&'static str, Option<&'static str>)],
    /// One cell per entry of `types` (made on the first lookup that parses): the first entry
    /// of a type holds its parsed aliases.
    parsed: OnceLock<Box<[OnceLock<TypeAliases>]>>,
    /// How many types' alias lines were parsed (for tests).
    parses: std::sync::atomic::AtomicUsize,
}

mod generated {
    include!(concat!(env!("OUT_DIR"), "/alias_index.rs"));
}

impl Blocks {
    /// The alias lines (read only to count them).
    fn count(&self) -> usize {
        self.text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(['#', 'T', '!']))
            .count()
    }

    /// The lowercase type of an entry of `types`.
    fn name(&self, (start, end, _, _): &(u32, u32, u32, u32)) -> &'static str {
        self.names.get(*start as usize..*end as usize).unwrap_or("")
    }

    /// Where the entries of `lower_type` start in `types`, and how many there are.
    fn group(&self, lower_type: &str) -> Option<(usize, usize)> {
        let first = self.types.partition_point(|e| self.name(e) < lower_type);
        let n = self
            .types
            .get(first..)?
            .iter()
            .take_while(|e| self.name(e) == lower_type)
            .count();
        (n > 0).then_some((first, n))
    }

    fn is_type(&self, lower_type: &str) -> bool {
        self.group(lower_type).is_some()
    }

    /// The answer resolved when the binary was built: `Some(path or none)` when `lower` was
    /// resolved then.
    fn resolved(&self, lower: &str) -> Option<Option<&'static str>> {
        let i = self
            .resolved
            .binary_search_by(|(k, _)| (*k).cmp(lower))
            .ok()?;
        self.resolved.get(i).map(|(_, p)| *p)
    }

    fn get(&self, lower_type: &str) -> Option<&TypeAliases> {
        let (first, n) = self.group(lower_type)?;
        let ranges = self.types.get(first..first + n)?;
        let cells = self
            .parsed
            .get_or_init(|| self.types.iter().map(|_| OnceLock::new()).collect());
        let cell = cells.get(first)?;
        Some(cell.get_or_init(|| {
            self.parses
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let block =
                |start: u32, end: u32| self.text.get(start as usize..end as usize).unwrap_or("");
            // One alias a line: sized once rather than rehashed as it grows.
            let lines: usize = ranges
                .iter()
                .map(|(_, _, start, end)| {
                    memchr::memchr_iter(b'\n', block(*start, *end).as_bytes()).count()
                })
                .sum();
            let mut map = TypeAliases::with_capacity_and_hasher(lines, Default::default());
            for entry in ranges {
                let (_, _, start, end) = entry;
                super::alias_text::parse_block(self.name(entry), block(*start, *end), |k, p| {
                    map.insert(k, p);
                });
            }
            map
        }))
    }
}

static BUILTIN_TEXT: &str = include_str!("../../data/aliases.txt");
static BUILTIN: LazyLock<AliasTable> = LazyLock::new(AliasTable::generated);

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

    /// The built-in table: the types and answers `build.rs` indexed from `data/aliases.txt`
    /// (a type's aliases are parsed on first lookup).
    fn generated() -> AliasTable {
        AliasTable::generated_with(generated::RESOLVED)
    }

    /// [`AliasTable::generated`] with the answers `resolved` (none: every lookup parses).
    fn generated_with(resolved: &'static [(&'static str, Option<&'static str>)]) -> AliasTable {
        let mut table = AliasTable::new();
        for (rtype, alias, path) in generated::UNNAMED {
            table.insert(rtype, alias, path);
        }
        table.blocks = Some(Arc::new(Blocks {
            text: BUILTIN_TEXT,
            names: generated::TYPE_NAMES,
            types: generated::TYPES,
            resolved,
            parsed: OnceLock::new(),
            parses: Default::default(),
        }));
        table
    }

    /// The default path of an alias, if the table knows it.
    pub fn lookup(&self, alias: &str) -> Option<&str> {
        let lower = alias.to_ascii_lowercase();
        if let Some(p) = self.paths.get(&lower) {
            return Some(p);
        }
        let blocks = self.blocks.as_ref()?;
        if let Some(answer) = blocks.resolved(&lower) {
            return answer;
        }
        super::alias_text::lookup_by_prefix(&lower, |rtype, alias| {
            blocks.get(rtype)?.get(alias).map(String::as_str)
        })
    }

    /// Is `name` a known resource type?
    pub fn is_type(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.types.contains(&lower) || self.blocks.as_ref().is_some_and(|b| b.is_type(&lower))
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
    // Where the current name starts: a name is copied once, as a slice of `path`.
    let mut start = 0;
    let name = |segs: &mut Vec<Seg>, from: usize, to: usize| {
        if let Some(n) = path.get(from..to).filter(|n| !n.is_empty()) {
            segs.push(Seg::Key(n.to_string()));
        }
    };
    let mut chars = path.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '.' => {
                name(&mut segs, start, i);
                start = i + 1;
            }
            '[' => {
                name(&mut segs, start, i);
                // An unclosed bracket takes the rest of the path.
                start = path.len();
                let mut inner = String::new();
                let mut quote: Option<char> = None;
                for (j, d) in chars.by_ref() {
                    match quote {
                        Some(q) if d == q => quote = None,
                        Some(_) => inner.push(d),
                        None if d == '\'' || d == '"' => quote = Some(d),
                        None if d == ']' => {
                            start = j + 1;
                            break;
                        }
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
            _ => {}
        }
    }
    name(&mut segs, start, path.len());
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

    fn parses(t: &AliasTable) -> usize {
        t.blocks
            .as_ref()
            .map_or(0, |b| b.parses.load(std::sync::atomic::Ordering::Relaxed))
    }

    #[test]
    fn answers_resolved_at_build_time_are_the_type_blocks_answers() {
        let built = AliasTable::generated();
        let parsing = AliasTable::generated_with(&[]);
        assert!(
            generated::RESOLVED.len() > 20,
            "{}",
            generated::RESOLVED.len()
        );
        let mut found = 0;
        for (alias, _) in generated::RESOLVED {
            let got = built.lookup(alias);
            assert_eq!(got, parsing.lookup(alias), "{alias}");
            found += usize::from(got.is_some());
        }
        assert_eq!(parses(&built), 0);
        assert!(parses(&parsing) > 0);
        assert!(found > 20, "{found}");
        // A type listed once with each casing reads both listings.
        assert!(built.is_type("microsoft.network/virtualnetworks/subnets"));
        assert!(!built.is_type("microsoft.network/virtualnetworks/subnet"));
    }

    #[test]
    fn the_built_in_policies_load_without_parsing_alias_lines() {
        let table = AliasTable::generated();
        for (path, text) in super::super::builtin_files::FILES {
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            super::super::Definition::from_json(&json, path, &table).unwrap();
        }
        assert_eq!(parses(&table), 0);
        // An alias no built-in policy names is parsed from its type's lines.
        assert_eq!(
            table.lookup("Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly"),
            Some("properties.supportsHttpsTrafficOnly")
        );
        assert_eq!(parses(&table), 1);
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
    fn split_reads_names_between_dots_and_brackets() {
        let key = |k: &str| Seg::Key(k.into());
        assert_eq!(
            split_path("a..b[0]c.d"),
            vec![key("a"), key("b"), Seg::Index(0), key("c"), key("d")]
        );
        assert_eq!(
            split_path("é.ü[ * ]"),
            vec![key("é"), key("ü"), Seg::Wildcard]
        );
        assert_eq!(
            split_path("a['x]y'].b"),
            vec![key("a"), key("x]y"), key("b")]
        );
        // An unclosed bracket takes the rest.
        assert_eq!(split_path("a[b.c"), vec![key("a"), key("b.c")]);
        assert_eq!(split_path(""), Vec::<Seg>::new());
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
