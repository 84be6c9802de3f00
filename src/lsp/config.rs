//! Editor settings: `initializationOptions` and `workspace/didChangeConfiguration`.
//!
//! Accepted shape: `{ "azaudit": { "rules": { "<id>": { "level": "off|info|warning|error" } },
//! "debounceMs": 50 } }`; the inner object alone is accepted too, and so is a plain level string
//! per policy (`"<id>": "off"`).

use crate::diagnostic::Level;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// What the settings say; `None` fields were not given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings {
    pub levels: Option<HashMap<String, Level>>,
    pub debounce: Option<Duration>,
    /// Problems to report to the user (unknown levels and the like).
    pub warnings: Vec<String>,
}

/// Reads settings from an editor's JSON (anything else yields empty settings).
pub fn parse(value: &Value) -> Settings {
    let mut settings = Settings::default();
    let root = value.get("azaudit").unwrap_or(value);
    let Some(root) = root.as_object() else {
        return settings;
    };
    if let Some(rules) = root.get("rules") {
        let mut levels = HashMap::new();
        if let Some(rules) = rules.as_object() {
            for (id, rule) in rules {
                let level = rule.get("level").unwrap_or(rule);
                match level.as_str().map(str::parse::<Level>) {
                    Some(Ok(level)) => {
                        levels.insert(id.clone(), level);
                    }
                    Some(Err(e)) => settings.warnings.push(format!("policy `{id}`: {e}")),
                    None => settings
                        .warnings
                        .push(format!("policy `{id}`: expected a `level` string")),
                }
            }
        } else if !rules.is_null() && rules.as_array().is_none_or(|a| !a.is_empty()) {
            // (An empty Lua table arrives as `[]`.)
            settings
                .warnings
                .push("`azaudit.rules` must be an object".to_string());
        }
        settings.levels = Some(levels);
    }
    let debounce = root.get("debounceMs").or_else(|| value.get("debounceMs"));
    if let Some(ms) = debounce.and_then(Value::as_u64) {
        settings.debounce = Some(Duration::from_millis(ms.min(10_000)));
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_rules_and_debounce() {
        let s = parse(&json!({
            "azaudit": {
                "rules": {
                    "a": { "level": "off" },
                    "b": "Error",
                    "c": { "level": "loud" },
                },
                "debounceMs": 0,
            }
        }));
        let levels = s.levels.unwrap();
        assert_eq!(levels.get("a"), Some(&Level::Off));
        assert_eq!(levels.get("b"), Some(&Level::Error));
        assert_eq!(levels.get("c"), None);
        assert_eq!(s.debounce, Some(Duration::ZERO));
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn unwrapped_and_empty_settings() {
        let s = parse(&json!({ "rules": { "x": { "level": "info" } } }));
        assert_eq!(s.levels.unwrap().get("x"), Some(&Level::Info));
        assert_eq!(parse(&Value::Null), Settings::default());
        assert_eq!(parse(&json!({ "other": 1 })).levels, None);
        let empty = parse(&json!({ "azaudit": { "rules": [] } }));
        assert_eq!(empty.levels, Some(HashMap::new()));
        assert!(empty.warnings.is_empty());
    }
}
