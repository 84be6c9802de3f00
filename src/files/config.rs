//! `bicepconfig.json`: azaudit's settings under `analyzers.azaudit` (policy levels and parameters,
//! extra policy folders, excluded paths), found by walking up from each audited file.
//!
//! ```jsonc
//! {
//!   "analyzers": {
//!     "azaudit": {
//!       "enabled": true,
//!       "policyDirs": ["./policies"],
//!       "exclude": ["modules/vendor/**", "**/*.test.bicep"],
//!       "rules": {
//!         "apim-subnet-nsg": { "level": "warning" },
//!         "allowed-locations": { "parameters": { "listOfAllowedLocations": ["westeurope"] } }
//!       }
//!     }
//!   }
//! }
//! ```

use crate::diagnostic::Level;
use globset::{Glob, GlobSet, GlobSetBuilder};
use jsonc_parser::ast::{Object, ObjectProp, Value as Ast};
use jsonc_parser::common::Ranged;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the file azaudit reads its settings from.
pub const FILE_NAME: &str = "bicepconfig.json";

/// Nesting deeper than this in policy parameter values is refused.
const MAX_DEPTH: usize = 64;

/// A configuration problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// One policy's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleConfig {
    pub level: Option<Level>,
    pub parameters: HashMap<String, serde_json::Value>,
}

/// azaudit's settings from one `bicepconfig.json`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file.
    pub path: PathBuf,
    /// `false` turns azaudit off for the files this configuration governs.
    pub enabled: bool,
    /// Per-policy settings by policy id.
    pub rules: BTreeMap<String, RuleConfig>,
    /// Extra policy folders, resolved against the configuration file's folder.
    pub policy_dirs: Vec<PathBuf>,
    /// The `exclude` globs as written.
    pub exclude: Vec<String>,
    exclude_set: GlobSet,
    /// Bicep's own `cacheRootDirectory` and `moduleAliases` (where registry modules are).
    pub bicep: crate::files::registry::BicepSettings,
    /// `deployment`: where the deployment goes.
    pub deployment: DeploymentContext,
    /// `assignments`: files and folders of policy assignments, resolved against the file's folder.
    pub assignments: Vec<PathBuf>,
    /// `alzLibrary`: a landing-zone library folder.
    pub alz_library: Option<PathBuf>,
    /// `builtins`: a folder of built-in definitions to use instead of the bundled ones.
    pub builtins: Option<PathBuf>,
}

pub use crate::eval::DeploymentContext;

impl Config {
    /// The settings of a configuration without an `analyzers.azaudit` section.
    pub fn empty(path: PathBuf) -> Config {
        Config {
            path,
            enabled: true,
            rules: BTreeMap::new(),
            policy_dirs: Vec::new(),
            exclude: Vec::new(),
            exclude_set: GlobSet::empty(),
            bicep: crate::files::registry::BicepSettings::default(),
            deployment: DeploymentContext::default(),
            assignments: Vec::new(),
            alz_library: None,
            builtins: None,
        }
    }

    /// Reads and parses the configuration at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!("cannot read the file: {}", e.to_string().to_lowercase()),
        })?;
        let text = crate::files::discover::decode(&text).ok_or_else(|| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the file is not valid UTF-8".to_string(),
        })?;
        Config::parse(path, &text)
    }

    /// Parses configuration text (JSON with comments and trailing commas); `path` names the file
    /// in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let err = |offset: usize, message: String| config_error(path, text, offset, message);
        let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &parse_options())
            .map_err(|e| ConfigError {
                path: path.to_path_buf(),
                line: e.line_display(),
                column: e.column_display(),
                message: e.kind().to_string().to_lowercase(),
            })?;
        let mut config = Config::empty(path.to_path_buf());
        let Some(root) = parsed.value else {
            return Ok(config);
        };
        let Ast::Object(root) = root else {
            return Err(err(
                root.start(),
                "expected an object at the top level".to_string(),
            ));
        };
        config.bicep = bicep_settings_of(&root, path);
        let Some(analyzers) = root.get("analyzers") else {
            return Ok(config);
        };
        let Ast::Object(analyzers) = &analyzers.value else {
            return Err(err(
                analyzers.value.start(),
                "`analyzers` must be an object".to_string(),
            ));
        };
        let Some(section) = analyzers.get("azaudit") else {
            return Ok(config);
        };
        let Ast::Object(section) = &section.value else {
            return Err(err(
                section.value.start(),
                "`analyzers.azaudit` must be an object".to_string(),
            ));
        };
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut globs = GlobSetBuilder::new();
        for prop in &section.properties {
            match prop.name.as_str() {
                "enabled" => match &prop.value {
                    Ast::BooleanLit(b) => config.enabled = b.value,
                    other => return Err(err(other.start(), "`enabled` must be true or false".into())),
                },
                "policyDirs" => {
                    for s in strings(prop, text, path)? {
                        config.policy_dirs.push(dir.join(s));
                    }
                }
                "exclude" => {
                    let Ast::Array(items) = &prop.value else {
                        return Err(err(prop.value.start(), "`exclude` must be an array of globs".into()));
                    };
                    for item in &items.elements {
                        let Ast::StringLit(s) = item else {
                            return Err(err(item.start(), "`exclude` must be an array of globs".into()));
                        };
                        let pattern = s.value.trim_end_matches('/').trim_start_matches("./");
                        let glob = Glob::new(pattern).map_err(|e| {
                            err(item.start(), format!("invalid glob `{}`: {}", s.value, e.kind()))
                        })?;
                        globs.add(glob);
                        config.exclude.push(s.value.to_string());
                    }
                }
                "rules" => {
                    let Ast::Object(rules) = &prop.value else {
                        return Err(err(prop.value.start(), "`rules` must be an object".into()));
                    };
                    for rule in &rules.properties {
                        let id = rule.name.as_str().to_string();
                        let parsed = rule_config(rule, text, path)?;
                        config.rules.insert(id, parsed);
                    }
                }
                "assignments" => {
                    for s in strings(prop, text, path)? {
                        config.assignments.push(dir.join(s));
                    }
                }
                "alzLibrary" | "builtins" => {
                    let Ast::StringLit(s) = &prop.value else {
                        return Err(err(prop.value.start(), format!("`{}` must be a folder path", prop.name.as_str())));
                    };
                    let folder = Some(dir.join(s.value.as_ref()));
                    if prop.name.as_str() == "builtins" {
                        config.builtins = folder;
                    } else {
                        config.alz_library = folder;
                    }
                }
                "deployment" => {
                    let Ast::Object(o) = &prop.value else {
                        return Err(err(prop.value.start(), "`deployment` must be an object".into()));
                    };
                    for p in &o.properties {
                        let Ast::StringLit(v) = &p.value else {
                            return Err(err(p.value.start(), format!("`deployment.{}` must be a string", p.name.as_str())));
                        };
                        let v = Some(v.value.to_string());
                        match p.name.as_str() {
                            "subscriptionId" => config.deployment.subscription_id = v,
                            "resourceGroup" => config.deployment.resource_group = v,
                            "location" => config.deployment.location = v,
                            "managementGroup" => config.deployment.management_group = v,
                            other => return Err(err(p.range.start, format!(
                                "unknown setting `{other}` in `deployment`, expected `subscriptionId`, `resourceGroup`, `location` or `managementGroup`"
                            ))),
                        }
                    }
                }
                other => {
                    return Err(err(
                        prop.range.start,
                        format!(
                            "unknown setting `{other}` in `analyzers.azaudit`, expected `enabled`, `rules`, `policyDirs`, `exclude`, `assignments`, `alzLibrary`, `builtins` or `deployment`"
                        ),
                    ))
                }
            }
        }
        config.exclude_set = globs
            .build()
            .map_err(|e| err(section.range.start, e.to_string()))?;
        Ok(config)
    }

    /// The folder the configuration's relative paths start from.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }

    /// Whether azaudit audits `file` (absolute), a file this configuration governs: the analyzer
    /// is not disabled (`enabled: false`) and no `exclude` glob matches the file. `azaudit check`
    /// chooses its files by it, and the language server shows nothing in a file it rules out.
    pub fn audits(&self, file: &Path) -> bool {
        self.enabled && !self.is_excluded(file)
    }

    /// Whether `file` (absolute) matches an `exclude` glob, tried on its path relative to the
    /// configuration's folder and on each of that path's parent folders.
    pub fn is_excluded(&self, file: &Path) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let Ok(relative) = file.strip_prefix(self.dir()) else {
            return false;
        };
        relative
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.exclude_set.is_match(p))
    }
}

fn rule_config(rule: &ObjectProp<'_>, text: &str, path: &Path) -> Result<RuleConfig, ConfigError> {
    let err = |offset: usize, message: String| config_error(path, text, offset, message);
    let id = rule.name.as_str();
    let mut out = RuleConfig::default();
    let body: &Object<'_> = match &rule.value {
        Ast::Object(o) => o,
        // `"rule-id": "warning"` as a shorthand for `{ "level": "warning" }`.
        Ast::StringLit(s) => {
            out.level = Some(s.value.parse().map_err(|e: String| err(s.range.start, e))?);
            return Ok(out);
        }
        other => {
            return Err(err(
                other.start(),
                format!("settings of `{id}` must be an object with `level` and `parameters`"),
            ))
        }
    };
    for prop in &body.properties {
        match prop.name.as_str() {
            "level" => {
                let Ast::StringLit(s) = &prop.value else {
                    return Err(err(
                        prop.value.start(),
                        format!(
                            "`level` of `{id}` must be one of `off`, `info`, `warning`, `error`"
                        ),
                    ));
                };
                out.level = Some(s.value.parse().map_err(|e: String| err(s.range.start, e))?);
            }
            "parameters" => {
                let Ast::Object(params) = &prop.value else {
                    return Err(err(
                        prop.value.start(),
                        format!("`parameters` of `{id}` must be an object"),
                    ));
                };
                for p in &params.properties {
                    let value = to_json(&p.value, 0).ok_or_else(|| {
                        err(
                            p.value.start(),
                            format!(
                                "value of parameter `{}` is nested too deeply or not a number",
                                p.name.as_str()
                            ),
                        )
                    })?;
                    out.parameters.insert(p.name.as_str().to_string(), value);
                }
            }
            other => {
                return Err(err(
                    prop.range.start,
                    format!(
                        "unknown setting `{other}` for `{id}`, expected `level` or `parameters`"
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Bicep's own settings in configuration text, leniently: what Bicep would reject is left out
/// (Bicep reports it), and text that doesn't parse gives the defaults.
pub fn bicep_settings(path: &Path, text: &str) -> crate::files::registry::BicepSettings {
    match jsonc_parser::parse_to_ast(text, &Default::default(), &parse_options()) {
        Ok(parsed) => match parsed.value {
            Some(Ast::Object(root)) => bicep_settings_of(&root, path),
            _ => Default::default(),
        },
        Err(_) => Default::default(),
    }
}

/// `cacheRootDirectory` (relative to the configuration file's folder) and `moduleAliases`.
fn bicep_settings_of(root: &Object<'_>, path: &Path) -> crate::files::registry::BicepSettings {
    use crate::files::registry::{OciAlias, TemplateSpecAlias};
    let mut out = crate::files::registry::BicepSettings::default();
    let string = |o: &Object<'_>, key: &str| match o.get(key).map(|p| &p.value) {
        Some(Ast::StringLit(s)) if !s.value.trim().is_empty() => Some(s.value.to_string()),
        _ => None,
    };
    if let Some(dir) = string(root, "cacheRootDirectory") {
        out.cache_root = Some(crate::files::normalize(
            &path.parent().unwrap_or(Path::new("")).join(dir),
        ));
    }
    let Some(Ast::Object(aliases)) = root.get("moduleAliases").map(|p| &p.value) else {
        return out;
    };
    if let Some(Ast::Object(br)) = aliases.get("br").map(|p| &p.value) {
        for alias in &br.properties {
            let Ast::Object(o) = &alias.value else {
                continue;
            };
            if let Some(registry) = string(o, "registry") {
                let module_path = string(o, "modulePath");
                out.br.insert(
                    alias.name.as_str().to_string(),
                    OciAlias {
                        registry,
                        module_path,
                    },
                );
            }
        }
    }
    if let Some(Ast::Object(ts)) = aliases.get("ts").map(|p| &p.value) {
        for alias in &ts.properties {
            let Ast::Object(o) = &alias.value else {
                continue;
            };
            if let (Some(subscription), Some(resource_group)) =
                (string(o, "subscription"), string(o, "resourceGroup"))
            {
                out.ts.insert(
                    alias.name.as_str().to_string(),
                    TemplateSpecAlias {
                        subscription,
                        resource_group,
                    },
                );
            }
        }
    }
    out
}

/// A property holding an array of strings.
fn strings(prop: &ObjectProp<'_>, text: &str, path: &Path) -> Result<Vec<String>, ConfigError> {
    let bad = |offset: usize| {
        let (line, column) = line_col(text, offset);
        ConfigError {
            path: path.to_path_buf(),
            line,
            column,
            message: format!("`{}` must be an array of strings", prop.name.as_str()),
        }
    };
    let Ast::Array(items) = &prop.value else {
        return Err(bad(prop.value.start()));
    };
    items
        .elements
        .iter()
        .map(|item| match item {
            Ast::StringLit(s) => Ok(s.value.to_string()),
            other => Err(bad(other.start())),
        })
        .collect()
}

/// The JSON value of a JSONC node; `None` past [`MAX_DEPTH`] or for an unreadable number.
fn to_json(value: &Ast<'_>, depth: usize) -> Option<serde_json::Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match value {
        Ast::StringLit(s) => serde_json::Value::String(s.value.to_string()),
        Ast::NumberLit(n) => serde_json::from_str::<serde_json::Number>(n.value)
            .ok()
            .map(serde_json::Value::Number)?,
        Ast::BooleanLit(b) => serde_json::Value::Bool(b.value),
        Ast::NullKeyword(_) => serde_json::Value::Null,
        Ast::Array(a) => serde_json::Value::Array(
            a.elements
                .iter()
                .map(|v| to_json(v, depth + 1))
                .collect::<Option<Vec<_>>>()?,
        ),
        Ast::Object(o) => {
            let mut map = serde_json::Map::new();
            for p in &o.properties {
                map.insert(p.name.as_str().to_string(), to_json(&p.value, depth + 1)?);
            }
            serde_json::Value::Object(map)
        }
    })
}

/// JSON with comments and trailing commas, as Bicep reads `bicepconfig.json`; nothing looser.
fn parse_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

/// 1-based line and column (in characters) of a byte offset.
/// An error in `path` (whose text is `text`) at byte `offset`.
fn config_error(path: &Path, text: &str, offset: usize, message: String) -> ConfigError {
    let (line, column) = line_col(text, offset);
    ConfigError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let at =
        crate::source::LineIndex::new(text).line_col(u32::try_from(offset).unwrap_or(u32::MAX));
    (at.line as usize, at.column as usize)
}

/// Finds and loads configurations, each folder and each file once.
#[derive(Debug, Default)]
pub struct Cache {
    /// FxHash: every folder of the walked tree is looked up (the keys are the walk's paths).
    by_dir: rustc_hash::FxHashMap<PathBuf, Option<PathBuf>>,
    loaded: HashMap<PathBuf, Arc<Config>>,
}

impl Cache {
    pub fn new() -> Cache {
        Cache::default()
    }

    /// Whether the configuration governing `file` (absolute) audits it ([`Config::audits`]); a
    /// file that no configuration governs is audited, and so is one whose configuration fails to
    /// load (that error is reported where the configuration is read).
    pub fn audits(&mut self, file: &Path) -> bool {
        match self.for_file(file) {
            Ok(Some(config)) => config.audits(file),
            Ok(None) | Err(_) => true,
        }
    }

    /// The configuration governing `file` (absolute), if any.
    pub fn for_file(&mut self, file: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        let Some(dir) = file.parent() else {
            return Ok(None);
        };
        // Each folder walked is remembered, not only the file's own: the files of a tree share
        // their parents, and a folder without a configuration is asked about once.
        let mut walked = Vec::new();
        let mut found = None;
        for d in dir.ancestors() {
            if let Some(known) = self.by_dir.get(d) {
                found = known.clone();
                break;
            }
            walked.push(d);
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                found = Some(candidate);
                break;
            }
        }
        for d in walked {
            self.by_dir.insert(d.to_path_buf(), found.clone());
        }
        match found {
            Some(path) => self.load(&path).map(Some),
            None => Ok(None),
        }
    }

    /// Uses `config` for its file instead of what the disk holds (an editor's unsaved buffer).
    pub fn insert(&mut self, config: Arc<Config>) {
        self.loaded.insert(config.path.clone(), config);
    }

    /// The configuration at `path`, loaded once.
    pub fn load(&mut self, path: &Path) -> Result<Arc<Config>, ConfigError> {
        if let Some(config) = self.loaded.get(path) {
            return Ok(config.clone());
        }
        let config = Arc::new(Config::load(path)?);
        self.loaded.insert(path.to_path_buf(), config.clone());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/repo/bicepconfig.json"), text)
    }

    #[test]
    fn reads_the_azaudit_section_with_comments() {
        let config = parse(
            r#"{
  // bicep's own settings are left alone
  "analyzers": {
    "core": { "enabled": true, "rules": { "no-unused-params": { "level": "error" } } },
    "azaudit": {
      "enabled": true,
      "policyDirs": ["policies", "../shared/policies"],
      "exclude": ["vendor", "**/*.test.bicep"],
      "rules": {
        "apim-subnet-nsg": { "level": "warning" },
        "allowed-locations": { "parameters": { "listOfAllowedLocations": ["westeurope"] } },
        "storage-https": "off", /* shorthand */
      },
    },
  },
}"#,
        )
        .unwrap();
        assert!(config.enabled);
        assert_eq!(
            config.policy_dirs,
            vec![
                PathBuf::from("/repo/policies"),
                PathBuf::from("/repo/../shared/policies")
            ]
        );
        let level = |id: &str| config.rules.get(id).and_then(|r| r.level);
        assert_eq!(level("apim-subnet-nsg"), Some(Level::Warning));
        assert_eq!(level("storage-https"), Some(Level::Off));
        assert_eq!(config.rules.get("no-unused-params"), None);
        assert_eq!(
            config.rules["allowed-locations"].parameters["listOfAllowedLocations"],
            serde_json::json!(["westeurope"])
        );
        assert!(config.is_excluded(Path::new("/repo/vendor/x/main.bicep")));
        assert!(config.is_excluded(Path::new("/repo/infra/a.test.bicep")));
        assert!(!config.is_excluded(Path::new("/repo/infra/main.bicep")));
        assert!(config.audits(Path::new("/repo/infra/main.bicep")));
        assert!(!config.audits(Path::new("/repo/vendor/x/main.bicep")));
        let disabled = parse(r#"{"analyzers": {"azaudit": {"enabled": false}}}"#).unwrap();
        assert!(!disabled.audits(Path::new("/repo/infra/main.bicep")));
        assert!(!config.is_excluded(Path::new("/other/vendor/main.bicep")));
    }

    #[test]
    fn reads_the_deployment_context() {
        let c = parse(
            r#"{ "analyzers": { "azaudit": { "deployment": { "subscriptionId": "s", "resourceGroup": "rg", "location": "westeurope" } } } }"#,
        )
        .unwrap();
        assert_eq!(c.deployment.subscription_id.as_deref(), Some("s"));
        assert_eq!(c.deployment.resource_group.as_deref(), Some("rg"));
        assert_eq!(c.deployment.location.as_deref(), Some("westeurope"));
        let e = parse(r#"{ "analyzers": { "azaudit": { "deployment": { "tenant": "t" } } } }"#)
            .unwrap_err();
        assert!(e.message.contains("unknown setting `tenant`"), "{e:?}");
    }

    #[test]
    fn no_section_means_defaults() {
        let config = parse(r#"{"analyzers": {"core": {"enabled": false}}}"#).unwrap();
        assert!(config.enabled);
        assert!(config.rules.is_empty());
        assert!(parse("").unwrap().enabled);
    }

    #[test]
    fn errors_name_line_and_problem() {
        let e = parse("{\n \"analyzers\": {\n  \"azaudit\": {\n   \"rules\": {\"x\": {\"level\": \"loud\"}}\n  }\n }\n}")
            .unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("unknown level `loud`"), "{}", e.message);
        assert!(
            e.to_string().starts_with("/repo/bicepconfig.json:4:"),
            "{e}"
        );

        let e = parse("{\n \"analyzers\": {\n  \"azaudit\": {\"polcyDirs\": []}}}").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown setting `polcyDirs`"));

        let e = parse("{\n \"analyzers\": [1,,]\n}").unwrap_err();
        assert_eq!(e.line, 2);

        let e = parse(r#"{"analyzers": {"azaudit": {"exclude": ["a/[b"]}}}"#).unwrap_err();
        assert!(e.message.contains("invalid glob"), "{}", e.message);
    }

    #[test]
    fn reads_bicep_cache_root_and_module_aliases() {
        let config = parse(
            r#"{
  "cacheRootDirectory": "../cache",
  "moduleAliases": {
    "br": { "core": { "registry": "contoso.azurecr.io", "modulePath": "bicep/modules" },
            "bare": { "registry": "fabrikam.azurecr.io" },
            "broken": { "modulePath": "x" } },
    "ts": { "specs": { "subscription": "sub", "resourceGroup": "rg" }, "half": { "subscription": "s" } }
  }
}"#,
        )
        .unwrap();
        let b = &config.bicep;
        assert_eq!(b.cache_root, Some(PathBuf::from("/cache")));
        assert_eq!(b.br["core"].registry, "contoso.azurecr.io");
        assert_eq!(b.br["core"].module_path.as_deref(), Some("bicep/modules"));
        assert_eq!(b.br["bare"].module_path, None);
        assert!(!b.br.contains_key("broken"));
        assert_eq!(b.ts["specs"].resource_group, "rg");
        assert!(!b.ts.contains_key("half"));
        // Absolute paths stay; text that doesn't parse gives the defaults.
        let b = bicep_settings(
            Path::new("/repo/bicepconfig.json"),
            r#"{"cacheRootDirectory": "/var/bicep"}"#,
        );
        assert_eq!(b.cache_root, Some(PathBuf::from("/var/bicep")));
        assert_eq!(
            bicep_settings(Path::new("/repo/bicepconfig.json"), "{"),
            Default::default()
        );
    }
}
