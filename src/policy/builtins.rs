//! Azure's built-in policy definitions and initiatives by id: a compressed snapshot of the public
//! cloud's, bundled in the binary (`data/builtin-definitions.bin`, made by
//! `cargo run --example gen_builtins`), or a folder laid out as Azure/azure-policy's
//! `built-in-policies/` (`--builtins DIR`).
//!
//! The snapshot is read lazily: its index (names, where each entry is) is decompressed on the
//! first look-up, and each entry, a brotli stream of its own, only when it is asked for.
//!
//! Snapshot layout: `AZPOLSNAP1\n`, the index's compressed length (u32, little endian), the
//! compressed index (lines `d|s <TAB> name <TAB> offset <TAB> length <TAB> types`, offsets into
//! what follows), then the entries, each the minified JSON of one definition or initiative.
//! `types` are the resource types a definition can match ([`super::types::definition_types`]):
//! comma-separated, `*` for any type, `-` for none; an index without the column is read too
//! (each entry is then decoded to learn its types).

use super::PolicyLoadError;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The snapshot's first bytes.
pub const MAGIC: &[u8] = b"AZPOLSNAP1\n";

/// Folders of Azure/azure-policy that hold sovereign-cloud copies of public-cloud definitions.
pub const SOVEREIGN_FOLDERS: &[&str] = &["Azure Government", "Azure China"];

static SNAPSHOT_BYTES: &[u8] = include_bytes!("../../data/builtin-definitions.bin");

/// Whether `path` is inside a sovereign-cloud folder of Azure/azure-policy.
pub fn is_sovereign(path: &Path) -> bool {
    path.components().any(|c| {
        SOVEREIGN_FOLDERS
            .iter()
            .any(|s| c.as_os_str().eq_ignore_ascii_case(s))
    })
}

/// A definition (`policyDefinitions`) or an initiative (`policySetDefinitions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Definition,
    Initiative,
}

impl Kind {
    /// The kind an id names (`…/policySetDefinitions/…` is an initiative).
    pub fn of_id(id: &str) -> Kind {
        if id.to_ascii_lowercase().contains("/policysetdefinitions/") {
            Kind::Initiative
        } else {
            Kind::Definition
        }
    }
}

/// What the resource types of a definition are: `None` for any type.
pub type Types = Option<BTreeSet<String>>;

/// The index's text for `types`.
pub fn types_column(types: &Types) -> String {
    match types {
        None => "*".into(),
        Some(t) if t.is_empty() => "-".into(),
        Some(t) => t.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

fn parse_types_column(text: &str) -> Types {
    match text {
        "*" => None,
        "-" => Some(BTreeSet::new()),
        t => Some(t.split(',').map(str::to_string).collect()),
    }
}

/// One entry of a snapshot's index: where its bytes are, and its types column when given.
struct Entry {
    offset: usize,
    length: usize,
    types: Option<Box<str>>,
}

/// Where built-in entries come from.
enum Store {
    Snapshot {
        index: HashMap<(Kind, String), Entry>,
        entries: &'static [u8],
    },
    Folder(HashMap<(Kind, String), Arc<serde_json::Value>>),
}

/// Built-in definitions and initiatives by name (the last segment of their id).
pub struct Builtins {
    store: Store,
    cache: Mutex<HashMap<(Kind, String), Arc<serde_json::Value>>>,
    /// Sovereign-cloud files that repeat a public-cloud id (kept out; the public one is used).
    pub sovereign_duplicates: usize,
    /// Where the entries come from, for messages.
    pub origin: String,
}

impl std::fmt::Debug for Builtins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Builtins({}, {} entries)", self.origin, self.len())
    }
}

/// The lowercase name at the end of an id (`/providers/…/policyDefinitions/abc` → `abc`).
pub fn name_of(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_ascii_lowercase()
}

/// Decompresses one brotli stream.
pub fn decompress(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 6);
    brotli_decompressor::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

impl Builtins {
    /// The snapshot bundled in the binary (read once, on first use).
    pub fn bundled() -> &'static Builtins {
        static BUNDLED: OnceLock<Builtins> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            Builtins::from_snapshot(SNAPSHOT_BYTES).unwrap_or_else(|| Builtins {
                store: Store::Folder(HashMap::new()),
                cache: Mutex::new(HashMap::new()),
                sovereign_duplicates: 0,
                origin: "the bundled snapshot (unreadable)".into(),
            })
        })
    }

    /// Reads a snapshot's index; `None` when the bytes are not a snapshot.
    pub fn from_snapshot(bytes: &'static [u8]) -> Option<Builtins> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let len_bytes: [u8; 4] = rest.get(..4)?.try_into().ok()?;
        let len = usize::try_from(u32::from_le_bytes(len_bytes)).ok()?;
        let index = decompress(rest.get(4..4 + len)?)?;
        let entries = rest.get(4 + len..)?;
        let index = String::from_utf8(index).ok()?;
        let mut map = HashMap::new();
        for line in index.lines() {
            let mut parts = line.split('\t');
            let (Some(kind), Some(name), Some(offset), Some(length)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let kind = match kind {
                "s" => Kind::Initiative,
                _ => Kind::Definition,
            };
            let (Ok(offset), Ok(length)) = (offset.parse::<usize>(), length.parse::<usize>())
            else {
                continue;
            };
            let types = parts.next().map(Box::from);
            map.insert(
                (kind, name.to_ascii_lowercase()),
                Entry {
                    offset,
                    length,
                    types,
                },
            );
        }
        Some(Builtins {
            store: Store::Snapshot {
                index: map,
                entries,
            },
            cache: Mutex::new(HashMap::new()),
            sovereign_duplicates: 0,
            origin: "the bundled snapshot".into(),
        })
    }

    /// Reads a folder laid out as Azure/azure-policy's `built-in-policies/` (every `*.json`
    /// below it). Sovereign-cloud copies of a public-cloud id are recognised and counted, not
    /// errors; files that aren't definitions are returned as errors.
    pub fn from_folder(dir: &Path) -> (Builtins, Vec<PolicyLoadError>) {
        use rayon::prelude::*;
        let mut files = Vec::new();
        super::collect_json_files(dir, &mut files);
        files.sort();
        let parsed: Vec<(PathBuf, Result<serde_json::Value, String>)> = files
            .into_par_iter()
            .map(|f| {
                let json = std::fs::read(&f)
                    .map_err(|e| format!("cannot read the file: {e}"))
                    .and_then(|bytes| {
                        let text = crate::files::discover::decode(&bytes)
                            .ok_or_else(|| "the file is not valid UTF-8".to_string())?;
                        serde_json::from_str(&text).map_err(|e| format!("invalid json: {e}"))
                    });
                (f, json)
            })
            .collect();
        let mut map: HashMap<(Kind, String), (bool, Arc<serde_json::Value>)> = HashMap::new();
        let mut errors = Vec::new();
        let mut duplicates = 0;
        for (path, json) in parsed {
            let json = match json {
                Ok(j) => j,
                Err(message) => {
                    errors.push(PolicyLoadError {
                        path,
                        line: 1,
                        column: 1,
                        message,
                    });
                    continue;
                }
            };
            let Some((kind, name)) = identify(&json, &path) else {
                errors.push(PolicyLoadError {
                    path,
                    line: 1,
                    column: 1,
                    message: "not a policy definition or initiative (no `id` or `name`)".into(),
                });
                continue;
            };
            let sovereign = is_sovereign(&path);
            match map.get(&(kind, name.clone())) {
                Some((existing_sovereign, _)) => {
                    // The public-cloud entry wins over a sovereign copy.
                    duplicates += 1;
                    if *existing_sovereign && !sovereign {
                        map.insert((kind, name), (false, Arc::new(json)));
                    }
                }
                None => {
                    map.insert((kind, name), (sovereign, Arc::new(json)));
                }
            }
        }
        let store = Store::Folder(map.into_iter().map(|(k, (_, v))| (k, v)).collect());
        (
            Builtins {
                store,
                cache: Mutex::new(HashMap::new()),
                sovereign_duplicates: duplicates,
                origin: format!("`{}`", dir.display()),
            },
            errors,
        )
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Snapshot { index, .. } => index.len(),
            Store::Folder(m) => m.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names of every entry of `kind`, sorted.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        let mut out: Vec<String> = match &self.store {
            Store::Snapshot { index, .. } => index
                .keys()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.clone())
                .collect(),
            Store::Folder(m) => m
                .keys()
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.clone())
                .collect(),
        };
        out.sort();
        out
    }

    /// The JSON of the built-in `kind` named `name` (case-insensitive).
    pub fn get(&self, kind: Kind, name: &str) -> Option<Arc<serde_json::Value>> {
        let key = (kind, name.to_ascii_lowercase());
        match &self.store {
            Store::Folder(m) => m.get(&key).cloned(),
            Store::Snapshot { index, entries } => {
                if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
                    return Some(v);
                }
                let entry = index.get(&key)?;
                let bytes = entries.get(entry.offset..entry.offset.checked_add(entry.length)?)?;
                let json: serde_json::Value = serde_json::from_slice(&decompress(bytes)?).ok()?;
                let json = Arc::new(json);
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(key, json.clone());
                }
                Some(json)
            }
        }
    }
}

impl Builtins {
    /// The resource types the built-in definition `name` can match, without decoding it when
    /// the snapshot's index says; `None` when there is no such definition.
    pub fn types(&self, name: &str) -> Option<Types> {
        let key = (Kind::Definition, name.to_ascii_lowercase());
        if let Store::Snapshot { index, .. } = &self.store {
            if let Some(column) = &index.get(&key)?.types {
                return Some(parse_types_column(column));
            }
        }
        self.get(Kind::Definition, name)
            .map(|json| super::types::definition_types(&json))
    }
}

/// The kind and lowercase name of a definition or initiative file: from its `id` (or `type`),
/// else its folder (`policySetDefinitions`).
pub fn identify(json: &serde_json::Value, path: &Path) -> Option<(Kind, String)> {
    let id = json.get("id").and_then(|v| v.as_str());
    let name = json
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_ascii_lowercase)
        .or_else(|| id.map(name_of))?;
    let type_name = json.get("type").and_then(|v| v.as_str()).unwrap_or("");
    let kind = if let Some(id) = id {
        Kind::of_id(id)
    } else if type_name.eq_ignore_ascii_case("Microsoft.Authorization/policySetDefinitions") {
        Kind::Initiative
    } else if type_name.eq_ignore_ascii_case("Microsoft.Authorization/policyDefinitions") {
        Kind::Definition
    } else if path
        .components()
        .any(|c| c.as_os_str().eq_ignore_ascii_case("policySetDefinitions"))
    {
        Kind::Initiative
    } else {
        Kind::Definition
    };
    Some((kind, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_snapshot_has_definitions_and_initiatives() {
        let b = Builtins::bundled();
        assert!(b.names(Kind::Definition).len() > 3000, "{b:?}");
        assert!(b.names(Kind::Initiative).len() > 100, "{b:?}");
        // "Subnets should be associated with a Network Security Group" (public cloud).
        let d = b
            .get(Kind::Definition, "E71308D3-144B-4262-B144-EFDC3CC90517")
            .unwrap();
        assert_eq!(
            d["properties"]["policyRule"]["then"]["effect"],
            "[parameters('effect')]"
        );
        assert!(b
            .get(Kind::Initiative, "e71308d3-144b-4262-b144-efdc3cc90517")
            .is_none());
        // Microsoft cloud security benchmark.
        let s = b
            .get(Kind::Initiative, "1f3afdf9-d0c9-4c3d-847f-89da613e70a8")
            .unwrap();
        assert!(
            s["properties"]["policyDefinitions"]
                .as_array()
                .unwrap()
                .len()
                > 100
        );
    }

    #[test]
    fn names_come_from_ids() {
        assert_eq!(
            name_of("/providers/Microsoft.Authorization/policyDefinitions/ABC"),
            "abc"
        );
        assert_eq!(
            Kind::of_id("/providers/Microsoft.Authorization/policySetDefinitions/x"),
            Kind::Initiative
        );
    }
}
