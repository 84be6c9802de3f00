//! Azure Policy aliases: the built-in table (generated into `data/aliases.txt`) and field-path splitting.
//!
//! The table is carried in the binary in a terse, front-coded text form (see
//! `scripts/gen-aliases.py`) and parsed once, on first use.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

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
        self.paths.len()
    }

    /// True when no alias is known.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
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

    /// Parses the terse format written by `scripts/gen-aliases.py`.
    pub fn parse_terse(text: &str) -> AliasTable {
        let mut table = AliasTable::new();
        let mut rtype = String::new();
        let mut prev = String::new();
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(t) = line.strip_prefix('T') {
                rtype = t.to_string();
                table.types.insert(rtype.to_ascii_lowercase());
                prev.clear();
                continue;
            }
            if let Some(rest) = line.strip_prefix('!') {
                if let Some((alias, path)) = rest.split_once('\t') {
                    let rt = rtype.clone();
                    table.insert(&rt, alias, path);
                }
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
            let tail: String = chars.collect();
            let mut suffix: String = prev.chars().take(shared).collect();
            suffix.push_str(&tail);
            let path = match (code, extra) {
                ('p', _) => format!("properties.{suffix}"),
                ('q', _) => format!("properties.{}", suffix.replace("[*].", "[*].properties.")),
                ('r', _) => suffix.clone(),
                ('m', Some(mask)) => apply_mask(mask, &suffix),
                ('=', Some(path)) => path.to_string(),
                _ => {
                    prev = suffix;
                    continue;
                }
            };
            table
                .paths
                .insert(format!("{rtype}/{suffix}").to_ascii_lowercase(), path);
            prev = suffix;
        }
        table
    }

    /// The default path of an alias, if the table knows it.
    pub fn lookup(&self, alias: &str) -> Option<&str> {
        self.paths
            .get(&alias.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Is `name` a known resource type?
    pub fn is_type(&self, name: &str) -> bool {
        self.types.contains(&name.to_ascii_lowercase())
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
