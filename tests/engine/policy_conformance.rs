//! The Azure Policy rule-language conformance suite (microsoft/regorus's test cases, in
//! ../shared/azure-policy/conformance), run against azaudit's evaluator.

use azaudit::policy::definition::{Candidate, Definition, Input, LinkAnswer, Verdict};
use azaudit::policy::AliasTable;
use azaudit::value::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/azure-policy/conformance"
);
const KNOWN: &str = include_str!("conformance-known-failures.txt");

fn yaml_to_json(v: &serde_yaml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Is `want` contained in `got` (objects: every key of `want`, case-insensitively; strings:
/// case-insensitive)?
fn subset(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (want, got) {
        (J::Object(w), J::Object(g)) => w.iter().all(|(k, wv)| {
            g.iter()
                .find(|(gk, _)| gk.eq_ignore_ascii_case(k))
                .is_some_and(|(_, gv)| subset(wv, gv))
        }),
        (J::Array(w), J::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| subset(a, b))
        }
        (J::String(a), J::String(b)) => a.eq_ignore_ascii_case(b),
        (J::Number(a), J::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

struct CaseResult {
    ok: bool,
    why: String,
    needs_host: bool,
}

fn run_case(case: &serde_yaml::Value, file_def: Option<&str>, aliases: &AliasTable) -> CaseResult {
    let get = |k: &str| case.get(k);
    let needs_host =
        get("request_context").is_some() || get("host_await").is_some() || get("context").is_some();
    let want_parse = get("want_parse_error").and_then(|v| v.as_bool()) == Some(true)
        || get("want_compile_error").and_then(|v| v.as_bool()) == Some(true);
    let text = get("policy_definition")
        .or(get("policy_rule"))
        .and_then(|v| v.as_str())
        .or(file_def);
    let Some(text) = text else {
        return CaseResult {
            ok: false,
            why: "no policy".into(),
            needs_host,
        };
    };
    let def = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|j| Definition::from_json(&j, "case", aliases));
    let def = match def {
        Ok(d) => d,
        Err(e) => {
            return CaseResult {
                ok: want_parse,
                why: format!("load error: {e}"),
                needs_host,
            }
        }
    };
    let assigned: Option<HashMap<String, serde_json::Value>> = get("parameters")
        .map(yaml_to_json)
        .and_then(|j| serde_json::from_value(j).ok());
    let params = match def.parameter_values(assigned.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            return CaseResult {
                ok: want_parse,
                why: format!("parameter error: {e}"),
                needs_host,
            }
        }
    };
    let mut resource_json = get("resource").map(yaml_to_json).unwrap_or_default();
    if let (Some(v), Some(obj)) = (
        get("api_version").and_then(|v| v.as_str()),
        resource_json.as_object_mut(),
    ) {
        obj.entry("apiVersion")
            .or_insert_with(|| serde_json::Value::String(v.to_string()));
    }
    let resource = Value::from_json(&resource_json);
    // Without a case context, a default deployment context (as the suite's own harness has).
    let mut env: HashMap<String, Value> = HashMap::new();
    env.insert(
        "resourcegroup".into(),
        Value::from_json(&serde_json::json!({"name": "myResourceGroup", "location": "eastus", "id": "/subscriptions/sub/resourceGroups/rg"})),
    );
    env.insert(
        "subscription".into(),
        Value::from_json(&serde_json::json!({"subscriptionId": "00000000-0000-0000-0000-000000000000", "id": "/subscriptions/00000000-0000-0000-0000-000000000000", "displayName": "sub"})),
    );
    if let Some(c) = get("context") {
        let c = yaml_to_json(c);
        for (k, v) in c.as_object().into_iter().flatten() {
            env.insert(k.to_ascii_lowercase(), Value::from_json(v));
        }
    }
    if let Some(r) = get("request_context") {
        env.insert("requestcontext".into(), Value::from_json(&yaml_to_json(r)));
    }
    let responses: Vec<Candidate> = get("host_await")
        .and_then(|h| h.as_sequence())
        .into_iter()
        .flatten()
        .filter_map(|h| h.get("response"))
        .map(yaml_to_json)
        .flat_map(|j| match j {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Null => Vec::new(),
            other => vec![other],
        })
        .map(|j| Candidate {
            body: Value::from_json(&j),
            idx: None,
            referrers: Value::array(Vec::new()),
            children: Value::array(Vec::new()),
        })
        .collect();
    let input = Input {
        resource: &resource,
        params: &params,
        aliases,
        env: &env,
        details: true,
    };
    let lookup = |_: &azaudit::policy::LinkQuery| LinkAnswer::Found(responses.clone());
    let verdict = def.decide(&input, &lookup);
    if want_parse {
        return CaseResult {
            ok: false,
            why: format!("expected a load error, got {verdict:?}"),
            needs_host,
        };
    }
    let want_effect = get("want_effect").and_then(|v| v.as_str());
    let want_undefined = get("want_undefined").and_then(|v| v.as_bool()) == Some(true)
        || get("want_effect").is_some_and(|v| v.is_null());
    let want_details = get("want_details").map(yaml_to_json);
    // Several linked resources failing is one effect for the suite.
    let verdict = match verdict {
        Verdict::Several(mut all) if !all.is_empty() => all.swap_remove(0),
        other => other,
    };
    match verdict {
        Verdict::Several(_) | Verdict::Compliant => CaseResult {
            ok: want_undefined,
            why: "got no effect".into(),
            needs_host,
        },
        Verdict::Applies {
            effect, details, ..
        } => {
            let mut ok = want_effect.is_some_and(|w| w.eq_ignore_ascii_case(&effect))
                || (want_effect.is_none() && want_details.is_some());
            if let Some(wd) = &want_details {
                let got = details.map(|d| d.to_json_lossy()).unwrap_or_default();
                ok = ok && subset(wd, &got);
            }
            CaseResult {
                ok,
                why: format!("got effect {effect}"),
                needs_host,
            }
        }
        Verdict::Unknown { reason, .. } => CaseResult {
            ok: false,
            why: format!("not decided: {reason}"),
            needs_host,
        },
    }
}

#[test]
fn conformance_suite() {
    let dir = Path::new(SHARED);
    if !dir.exists() {
        eprintln!("skipping: {SHARED} is absent");
        return;
    }
    let known: BTreeSet<String> = KNOWN
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let mut alias_cache: HashMap<String, AliasTable> = HashMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let (mut total, mut passed, mut plain_total, mut plain_passed) = (0, 0, 0, 0);
    let mut unexpected = Vec::new();
    let mut failing = Vec::new();
    for f in files {
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let alias_file = doc
            .get("aliases")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let aliases = alias_cache.entry(alias_file.clone()).or_insert_with(|| {
            let mut t = AliasTable::isolated();
            if !alias_file.is_empty() {
                let text = std::fs::read_to_string(dir.join("aliases").join(&alias_file)).unwrap();
                t.add_provider_json(&serde_json::from_str(&text).unwrap());
            }
            t
        });
        let file_def = doc.get("policy_definition").and_then(|v| v.as_str());
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        for case in doc
            .get("cases")
            .and_then(|c| c.as_sequence())
            .into_iter()
            .flatten()
        {
            let note = case.get("note").and_then(|v| v.as_str()).unwrap_or("?");
            let key = format!("{stem}:{note}");
            let r = run_case(case, file_def, aliases);
            total += 1;
            if !r.needs_host {
                plain_total += 1;
            }
            if r.ok {
                passed += 1;
                if !r.needs_host {
                    plain_passed += 1;
                }
            } else {
                failing.push(format!("{key}  {}", r.why));
                if !known.contains(&key) {
                    unexpected.push(format!("{key}  {}", r.why));
                }
            }
        }
    }
    eprintln!("conformance: {passed}/{total} cases pass; {plain_passed}/{plain_total} of those without request context or host callbacks");
    if std::env::var_os("CONFORMANCE_LIST").is_some() {
        for f in &failing {
            eprintln!("FAIL {f}");
        }
    }
    assert!(
        unexpected.is_empty(),
        "{} cases fail that are not in tests/engine/conformance-known-failures.txt:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        plain_passed * 100 >= plain_total * 95,
        "{plain_passed}/{plain_total} is under 95 %"
    );
}
