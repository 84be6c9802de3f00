//! Registry modules (`br:`, `br/<alias>:`, `ts:`, `ts/<alias>:`) read from the local Bicep module
//! cache, where `bicep restore` leaves them.
//!
//! The layout follows Bicep's own cache code (`OciArtifactCacheAccessor`, `OciModuleCacheAccessor`,
//! `TagEncoder` and `TemplateSpecModuleCacheAccessor` in Azure/bicep, Bicep 0.2x–0.3x; unchanged in
//! the newest versions, which add only `source.tgz` beside `main.json`):
//!
//! ```text
//! <cacheRoot>/br/<registry>/<repository>/<tag or digest>/main.json   compiled ARM template
//!                                                      /manifest, /metadata, /lock, /source.tgz
//! <cacheRoot>/ts/<subscription>/<resource group>/<name>/<version>/main.json
//! ```
//!
//! - `cacheRoot` is `cacheRootDirectory` of the governing `bicepconfig.json`, else `~/.bicep`
//!   (the user profile folder).
//! - `<registry>` is lowercased with `:` (a port) replaced by `$`; `<repository>` has `/` replaced by
//!   `$`; a tag is written as the tag, `$`, and a hexadecimal mask of its uppercase characters (none:
//!   nothing after the `$`, so `0.1.0` is `0.1.0$`); a digest has `:` replaced by `#`.
//! - Template spec folders are lowercased. Their `main.json` is the template spec version resource
//!   as Azure returns it (`properties.mainTemplate` holds the template); Bicep before 0.20 wrote the
//!   template alone. Both are read.
//! - Aliases: `br/public:` is `mcr.microsoft.com` with module path `bicep` (Bicep's built-in
//!   configuration); `moduleAliases.br.<alias>.{registry, modulePath}` and
//!   `moduleAliases.ts.<alias>.{subscription, resourceGroup}` of `bicepconfig.json` add others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The registry and module path a `br/<alias>:` reference starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OciAlias {
    pub registry: String,
    pub module_path: Option<String>,
}

/// The subscription and resource group a `ts/<alias>:` reference starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSpecAlias {
    pub subscription: String,
    pub resource_group: String,
}

/// Bicep's own settings of one `bicepconfig.json` that decide where registry modules are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BicepSettings {
    /// `cacheRootDirectory`, resolved against the configuration file's folder.
    pub cache_root: Option<PathBuf>,
    /// `moduleAliases.br`, by alias name.
    pub br: BTreeMap<String, OciAlias>,
    /// `moduleAliases.ts`, by alias name.
    pub ts: BTreeMap<String, TemplateSpecAlias>,
}

/// How an analysis finds registry modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// The cache when no configuration sets `cacheRootDirectory` (the front ends set `~/.bicep`);
    /// `None`: only configured caches are read.
    pub default_cache: Option<PathBuf>,
    /// Settings that govern every file (`--config`); `None`: the `bicepconfig.json` nearest to
    /// the file that declares the module.
    pub fixed: Option<BicepSettings>,
}

impl Registry {
    /// The registry settings of the command-line and editor front ends: `~/.bicep` by default.
    pub fn from_environment() -> Registry {
        Registry {
            default_cache: default_cache_root(),
            fixed: None,
        }
    }
}

/// `~/.bicep`: Bicep's default cache root (`$HOME`, or `%USERPROFILE%` on Windows).
pub fn default_cache_root() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var_os("USERPROFILE").filter(|h| !h.is_empty()))?;
    Some(PathBuf::from(home).join(".bicep"))
}

/// A parsed registry module reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `br:registry/repository:tag` or `br:registry/repository@digest`.
    Oci {
        registry: String,
        repository: String,
        tag: Option<String>,
        digest: Option<String>,
    },
    /// `ts:subscription/resourceGroup/name:version`.
    TemplateSpec {
        subscription: String,
        resource_group: String,
        name: String,
        version: String,
    },
}

/// Longest tag Bicep accepts (OCI).
const MAX_TAG: usize = 128;

/// Parses `source` (`br:`, `br/<alias>:`, `ts:`, `ts/<alias>:`) with the aliases of `settings`;
/// the error says why it can't name a cached module.
pub fn parse(source: &str, settings: &BicepSettings) -> Result<Reference, String> {
    let s = source.trim();
    let (scheme, rest) = s
        .split_once(':')
        .ok_or_else(|| "is not a registry reference".to_string())?;
    let (scheme, alias) = match scheme.split_once('/') {
        Some((scheme, alias)) => (scheme, Some(alias)),
        None => (scheme, None),
    };
    match (scheme.to_ascii_lowercase().as_str(), alias) {
        ("br", None) => parse_oci(rest),
        ("br", Some(alias)) => {
            let a = match settings.br.get(alias) {
                Some(a) => a.clone(),
                None if alias == "public" => OciAlias {
                    registry: "mcr.microsoft.com".into(),
                    module_path: Some("bicep".into()),
                },
                None => return Err(format!("module alias 'br/{alias}' is not configured")),
            };
            let prefix = match &a.module_path {
                Some(p) if !p.trim_matches('/').is_empty() => {
                    format!("{}/{}", a.registry, p.trim_matches('/'))
                }
                _ => a.registry.clone(),
            };
            parse_oci(&format!("{prefix}/{rest}"))
        }
        ("ts", None) => parse_template_spec(rest),
        ("ts", Some(alias)) => {
            let a = settings
                .ts
                .get(alias)
                .ok_or_else(|| format!("module alias 'ts/{alias}' is not configured"))?;
            parse_template_spec(&format!("{}/{}/{rest}", a.subscription, a.resource_group))
        }
        _ => Err("is not a registry reference".into()),
    }
}

fn parse_oci(unqualified: &str) -> Result<Reference, String> {
    let bad = || format!("'{unqualified}' is not a valid registry module reference");
    let (registry, path) = unqualified.split_once('/').ok_or_else(bad)?;
    if registry.is_empty()
        || !registry
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
    {
        return Err(bad());
    }
    let (dir, last) = match path.rsplit_once('/') {
        Some((dir, last)) => (Some(dir), last),
        None => (None, path),
    };
    let at = last.find([':', '@']).ok_or_else(bad)?;
    let name = last.get(..at).ok_or_else(bad)?;
    let delimiter = last.get(at..=at).ok_or_else(bad)?;
    let tag_or_digest = last.get(at + 1..).ok_or_else(bad)?;
    let repository = match dir {
        Some(dir) => format!("{dir}/{name}"),
        None => name.to_string(),
    };
    if !repository.split('/').all(is_namespace_segment) {
        return Err(bad());
    }
    if delimiter == ":" {
        if !is_tag(tag_or_digest) {
            return Err(bad());
        }
        Ok(Reference::Oci {
            registry: registry.to_string(),
            repository,
            tag: Some(tag_or_digest.to_string()),
            digest: None,
        })
    } else {
        let valid = tag_or_digest.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && !hex.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-'))
                && hex.chars().all(|c| c.is_ascii_alphanumeric() || c == '=')
        });
        if !valid {
            return Err(bad());
        }
        Ok(Reference::Oci {
            registry: registry.to_string(),
            repository,
            tag: None,
            digest: Some(tag_or_digest.to_string()),
        })
    }
}

/// An OCI repository path segment: lowercase letters and digits, separated by `.`, `_`, `-`.
fn is_namespace_segment(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && !s.ends_with(['.', '_', '-'])
}

/// An OCI tag: a letter, digit or `_`, then up to 127 of those, `.` or `-`.
fn is_tag(s: &str) -> bool {
    s.len() <= MAX_TAG
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn parse_template_spec(unqualified: &str) -> Result<Reference, String> {
    let bad = || format!("'ts:{unqualified}' is not a valid template spec reference");
    let mut parts = unqualified.splitn(3, '/');
    let (Some(subscription), Some(resource_group), Some(last)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (name, version) = last.split_once(':').ok_or_else(bad)?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 90
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
    };
    if ![subscription, resource_group, name, version]
        .iter()
        .all(|s| plain(s))
    {
        return Err(bad());
    }
    Ok(Reference::TemplateSpec {
        subscription: subscription.to_string(),
        resource_group: resource_group.to_string(),
        name: name.to_string(),
        version: version.to_string(),
    })
}

/// The tag as Bicep names its cache folder: the tag, `$`, then the mask of its uppercase
/// characters in hexadecimal (bit `i` for character `i`, most significant 64-bit word first,
/// leading zero words left out), so tags differing only in case don't share a folder on
/// case-insensitive file systems.
pub fn encode_tag(tag: &str) -> String {
    let mut mask = [0u64; MAX_TAG.div_ceil(64)];
    for (i, c) in tag.chars().enumerate().take(MAX_TAG) {
        if c.is_uppercase() {
            if let Some(word) = mask.get_mut(i / 64) {
                *word |= 1u64 << (i % 64);
            }
        }
    }
    let mut out = format!("{tag}$");
    let mut leading = false;
    for word in mask.iter().rev() {
        if leading {
            out.push_str(&format!("{word:016x}"));
        } else if *word != 0 {
            out.push_str(&format!("{word:x}"));
            leading = true;
        }
    }
    out
}

/// The cached `main.json` of `reference` under the cache root `root`.
pub fn cache_path(reference: &Reference, root: &Path) -> PathBuf {
    match reference {
        Reference::Oci {
            registry,
            repository,
            tag,
            digest,
        } => {
            let version = match (tag, digest) {
                (Some(tag), _) => encode_tag(tag),
                (None, Some(digest)) => digest.replace(':', "#"),
                (None, None) => String::new(),
            };
            root.join("br")
                .join(registry.replace(':', "$").to_ascii_lowercase())
                .join(repository.replace('/', "$"))
                .join(version)
                .join("main.json")
        }
        Reference::TemplateSpec {
            subscription,
            resource_group,
            name,
            version,
        } => root
            .join("ts")
            .join(subscription.to_lowercase())
            .join(resource_group.to_lowercase())
            .join(name.to_lowercase())
            .join(version.to_lowercase())
            .join("main.json"),
    }
}

/// The template of a cached template spec: a template spec version resource (`{ "properties":
/// { "mainTemplate": { … } } }`) becomes its `mainTemplate`, with everything around it blanked
/// out so that offsets and lines stay those of the file. `None` when `text` is not that shape
/// (Bicep before 0.20 cached the template itself).
pub fn template_spec_template(text: &str) -> Option<String> {
    use jsonc_parser::ast::Value as Ast;
    use jsonc_parser::common::Ranged;
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).ok()?;
    let Some(Ast::Object(root)) = parsed.value else {
        return None;
    };
    if root.get("$schema").is_some() {
        return None;
    }
    let Ast::Object(properties) = &root.get("properties")?.value else {
        return None;
    };
    let main = &properties.get("mainTemplate")?.value;
    let Ast::Object(_) = main else {
        return None;
    };
    let range = main.range();
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if (range.start..range.end).contains(&i) || c == '\n' || c == '\r' {
            out.push(c);
        } else {
            // Same byte length, so offsets are kept.
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oci(s: &str) -> PathBuf {
        let r = parse(s, &BicepSettings::default()).unwrap();
        cache_path(&r, Path::new("/c"))
    }

    #[test]
    fn tags_encode_their_uppercase_mask() {
        assert_eq!(encode_tag("0.1.0"), "0.1.0$");
        assert_eq!(encode_tag("v1"), "v1$");
        assert_eq!(encode_tag("V1"), "V1$1");
        assert_eq!(encode_tag("aBcD"), "aBcD$a");
        let long = format!("{}A", "a".repeat(64));
        assert_eq!(encode_tag(&long), format!("{long}$10000000000000000"));
    }

    #[test]
    fn oci_references_map_to_cache_folders() {
        assert_eq!(
            oci("br/public:avm/res/network/virtual-network:0.1.0"),
            PathBuf::from(
                "/c/br/mcr.microsoft.com/bicep$avm$res$network$virtual-network/0.1.0$/main.json"
            )
        );
        assert_eq!(
            oci("br:Contoso.azurecr.io:443/infra/vnet:V2"),
            PathBuf::from("/c/br/contoso.azurecr.io$443/infra$vnet/V2$1/main.json")
        );
        assert_eq!(
            oci("br:contoso.azurecr.io/vnet@sha256:abc123"),
            PathBuf::from("/c/br/contoso.azurecr.io/vnet/sha256#abc123/main.json")
        );
    }

    #[test]
    fn aliases_come_from_the_settings() {
        let mut settings = BicepSettings::default();
        settings.br.insert(
            "core".into(),
            OciAlias {
                registry: "contoso.azurecr.io".into(),
                module_path: Some("bicep/modules".into()),
            },
        );
        settings.ts.insert(
            "specs".into(),
            TemplateSpecAlias {
                subscription: "00000000-0000-0000-0000-000000000000".into(),
                resource_group: "RG-Specs".into(),
            },
        );
        let r = parse("br/core:network:1.0", &settings).unwrap();
        assert_eq!(
            cache_path(&r, Path::new("/c")),
            PathBuf::from("/c/br/contoso.azurecr.io/bicep$modules$network/1.0$/main.json")
        );
        let r = parse("ts/specs:Network:V1", &settings).unwrap();
        assert_eq!(
            cache_path(&r, Path::new("/c")),
            PathBuf::from(
                "/c/ts/00000000-0000-0000-0000-000000000000/rg-specs/network/v1/main.json"
            )
        );
        assert!(parse("br/other:x:1", &settings)
            .unwrap_err()
            .contains("'br/other'"));
    }

    #[test]
    fn invalid_references_are_refused() {
        let s = BicepSettings::default();
        for bad in [
            "br:registry/../x:1",
            "br:registry/x",
            "br:registry/Upper:1",
            "br:/x:1",
            "ts:sub/rg/..:1",
            "ts:sub/rg/name",
            "ts/none:x:1",
        ] {
            assert!(parse(bad, &s).is_err(), "{bad}");
        }
    }

    #[test]
    fn template_spec_resources_keep_offsets() {
        let text =
            "{\n  \"id\": \"x\",\n  \"properties\": {\"mainTemplate\": {\"$schema\": \"s\"}}\n}";
        let t = template_spec_template(text).unwrap();
        assert_eq!(t.len(), text.len());
        assert_eq!(t.trim(), "{\"$schema\": \"s\"}");
        assert_eq!(t.find("$schema"), text.find("$schema"));
        assert!(template_spec_template("{\"$schema\": \"s\"}").is_none());
    }
}
