//! The ARM function table's test: one table of cases run through both evaluators: the template evaluator (an ARM expression of
//! a template) and the policy evaluator (the same expression in a policy rule), with the same
//! inputs and the same expected result, known or unknown.

use crate::eval::functions;
use crate::eval::{DeploymentContext, Evaluator};
use crate::model::{Language, Template};
use crate::policy::expression::{self, Scope};
use crate::source::FileId;
use crate::value::{Reason, Value};
use serde_json::json;
use std::collections::HashMap;

/// What a case gives.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Known(serde_json::Value),
    /// Unknown (or holding an unknown), with the reason's text.
    Unknown(String),
    /// Symbolic text the deployment fills in.
    Symbolic(String),
    /// Not evaluated: the arguments are not what the function takes.
    Error,
}

fn known(j: serde_json::Value) -> Seen {
    Seen::Known(j)
}

fn unknown(reason: &str) -> Seen {
    Seen::Unknown(reason.to_string())
}

const U: &str = "parameter 'u' has no value";

/// The parameters both evaluators read: `u` has no value, `s` is symbolic text.
fn parameters() -> HashMap<String, Value> {
    HashMap::from([
        (
            "u".to_string(),
            Value::unknown(Reason::Parameter { name: "u".into() }),
        ),
        (
            "s".to_string(),
            Value::symbolic("/subscriptions/{subscriptionId}/x"),
        ),
    ])
}

fn seen(v: &Value) -> Seen {
    match v.first_unknown() {
        None => Seen::Known(v.to_json_lossy()),
        Some(Reason::Symbolic { text }) if v.is_unknown() => Seen::Symbolic(text.clone()),
        Some(Reason::Error { .. }) => Seen::Error,
        Some(r) => Seen::Unknown(r.to_string()),
    }
}

fn in_template(text: &str) -> Seen {
    let t = Template::empty(FileId(0), Language::ArmTemplate);
    let ev = Evaluator::new(&t, parameters(), DeploymentContext::default());
    let e = crate::syntax::arm_expr::parse(FileId(0), text, 0);
    seen(&ev.eval(&e, &Vec::new(), 0))
}

struct PolicyScope(HashMap<String, Value>);

impl Scope for PolicyScope {
    fn parameter(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }
    fn field(&self, path: &str) -> Result<Value, String> {
        Err(format!("no field {path} here"))
    }
    fn current(&self, _name: Option<&str>) -> Option<Value> {
        None
    }
    fn context(&self, _function: &str) -> Option<Value> {
        None
    }
}

fn in_policy(text: &str) -> Seen {
    let e = match expression::parse(text) {
        Ok(e) => e,
        Err(message) => panic!("`{text}` does not parse in a policy: {message}"),
    };
    match expression::eval(&e, &PolicyScope(parameters()), 0) {
        Ok(v) => seen(&v),
        Err(_) => Seen::Error,
    }
}

/// Every case: an expression and what both evaluators give for it.
fn cases() -> Vec<(&'static str, Seen)> {
    vec![
        // Strings.
        ("concat('a', 1, true)", known(json!("a1True"))),
        ("concat(createArray(1), createArray(2))", known(json!([1, 2]))),
        ("format('{0}-{1}{{x}}', 'a', 2)", known(json!("a-2{x}"))),
        ("format('{1}', 'a')", Seen::Error),
        ("string(createObject('a', 1))", known(json!("{\"a\":1}"))),
        ("string(false)", known(json!("False"))),
        ("toString(1)", known(json!("1"))),
        ("toLower('AbC')", known(json!("abc"))),
        ("toUpper('AbC')", known(json!("ABC"))),
        ("trim('  a ')", known(json!("a"))),
        ("replace('a-b-c', '-', '')", known(json!("abc"))),
        ("substring('abcdef', 1, 3)", known(json!("bcd"))),
        ("substring('abc', 2, 5)", Seen::Error),
        ("padLeft('7', 3, '0')", known(json!("007"))),
        ("split('a/b,c', createArray('/', ','))", known(json!(["a", "b", "c"]))),
        ("join(createArray('a', 1), '-')", known(json!("a-1"))),
        ("startsWith('Hello', 'he')", known(json!(true))),
        ("endsWith('Hello', 'LO')", known(json!(true))),
        ("indexOf('abcABC', 'C')", known(json!(2))),
        ("lastIndexOf('abcABC', 'c')", known(json!(5))),
        ("indexOf(createArray(1, 2, 2), 2)", known(json!(1))),
        ("lastIndexOf(createArray(1, 2, 2), 3)", known(json!(-1))),
        ("first('abc')", known(json!("a"))),
        ("last(createArray(1, 2))", known(json!(2))),
        ("take('abc', 2)", known(json!("ab"))),
        ("skip(createArray(1, 2, 3), 1)", known(json!([2, 3]))),
        ("length('héllo')", known(json!(5))),
        ("length(createObject('a', 1))", known(json!(1))),
        ("empty('')", known(json!(true))),
        ("empty(createArray(0))", known(json!(false))),
        ("contains('Hello', 'ell')", known(json!(true))),
        ("contains('Hello', 'ELL')", known(json!(false))),
        ("contains(createArray('a', 'b'), 'b')", known(json!(true))),
        ("contains(createObject('Key', 1), 'key')", known(json!(true))),
        ("json('{\"a\": [1]}')", known(json!({"a": [1]}))),
        ("json('{')", Seen::Error),
        // Conversions and logic.
        ("int('42')", known(json!(42))),
        ("int(3.9)", known(json!(3))),
        ("float('1.5')", known(json!(1.5))),
        ("bool('TRUE')", known(json!(true))),
        ("bool(0)", known(json!(false))),
        ("bool('maybe')", Seen::Error),
        ("true()", known(json!(true))),
        ("false()", known(json!(false))),
        ("null()", known(json!(null))),
        ("equals('a', 'A')", known(json!(false))),
        ("equals(1, 1)", known(json!(true))),
        ("equals(createArray(1, 'x'), createArray(1, 'x'))", known(json!(true))),
        ("not(true)", known(json!(false))),
        ("and(true, false)", known(json!(false))),
        ("or(false, true)", known(json!(true))),
        ("less(1, 2)", known(json!(true))),
        ("lessOrEquals(2, 2)", known(json!(true))),
        ("greater('b', 'a')", known(json!(true))),
        ("greaterOrEquals(1, 2)", known(json!(false))),
        ("coalesce(null, 'x')", known(json!("x"))),
        ("if(true, 'a', 'b')", known(json!("a"))),
        // Numbers.
        ("add(1, 2)", known(json!(3))),
        ("sub(1, 2)", known(json!(-1))),
        ("mul(3, 4)", known(json!(12))),
        ("div(7, 2)", known(json!(3))),
        ("mod(7, 2)", known(json!(1))),
        ("div(1, 0)", Seen::Error),
        ("add(1, 0.5)", known(json!(1.5))),
        ("min(3, 1, 2)", known(json!(1))),
        ("max(createArray(1, 5))", known(json!(5))),
        ("range(2, 3)", known(json!([2, 3, 4]))),
        ("range(0, -1)", Seen::Error),
        // Arrays and objects.
        ("array('a')", known(json!(["a"]))),
        ("createArray()", known(json!([]))),
        (
            "createObject('a', 1, 'b', createArray())",
            known(json!({"a": 1, "b": []})),
        ),
        (
            "items(createObject('b', 1, 'a', 2))",
            known(json!([{"key": "a", "value": 2}, {"key": "b", "value": 1}])),
        ),
        ("objectKeys(createObject('b', 1, 'a', 2))", known(json!(["b", "a"]))),
        (
            "flatten(createArray(createArray(1), createArray(2, 3)))",
            known(json!([1, 2, 3])),
        ),
        ("union(createArray(1, 2), createArray(2, 3))", known(json!([1, 2, 3]))),
        (
            "union(createObject('a', createObject('x', 1)), createObject('a', createObject('y', 2)))",
            known(json!({"a": {"x": 1, "y": 2}})),
        ),
        (
            "intersection(createArray(1, 2, 3), createArray(2, 3, 4))",
            known(json!([2, 3])),
        ),
        (
            "shallowMerge(createArray(createObject('a', 1), createObject('a', 2, 'b', 3)))",
            known(json!({"a": 2, "b": 3})),
        ),
        (
            "tryGet(createObject('a', createObject('b', 1)), 'a', 'b')",
            known(json!(1)),
        ),
        ("tryGet(createObject('a', 1), 'x')", known(json!(null))),
        // Encodings.
        ("base64('Hello')", known(json!("SGVsbG8="))),
        ("base64ToString('SGVsbG8=')", known(json!("Hello"))),
        ("base64ToString('not base64!')", Seen::Error),
        ("base64ToJson(base64('{\"a\": 1}'))", known(json!({"a": 1}))),
        (
            "dataUri('Hello')",
            known(json!("data:text/plain;charset=utf8;base64,SGVsbG8=")),
        ),
        (
            "dataUriToString('data:text/plain;charset=utf8;base64,SGVsbG8=')",
            known(json!("Hello")),
        ),
        (
            "uri('http://contoso.com/resources/', 'nested/azuredeploy.json')",
            known(json!("http://contoso.com/resources/nested/azuredeploy.json")),
        ),
        (
            "uri('http://contoso.com/resources/azuredeploy.json', '/other.json')",
            known(json!("http://contoso.com/other.json")),
        ),
        (
            "uriComponent('http://contoso.com/a b.json')",
            known(json!("http%3A%2F%2Fcontoso.com%2Fa%20b.json")),
        ),
        (
            "uriComponentToString('http%3A%2F%2Fcontoso.com%2Fa%20b.json')",
            known(json!("http://contoso.com/a b.json")),
        ),
        // IP ranges (Microsoft's reference examples for the CIDR functions).
        (
            "parseCidr('10.144.0.0/20')",
            known(json!({
                "network": "10.144.0.0", "netmask": "255.255.240.0",
                "broadcast": "10.144.15.255", "firstUsable": "10.144.0.1",
                "lastUsable": "10.144.15.254", "cidr": 20
            })),
        ),
        (
            "parseCidr('fdad:3236:5555::/48')",
            known(json!({
                "network": "fdad:3236:5555::", "netmask": "ffff:ffff:ffff::",
                "firstUsable": "fdad:3236:5555::",
                "lastUsable": "fdad:3236:5555:ffff:ffff:ffff:ffff:ffff", "cidr": 48
            })),
        ),
        ("parseCidr('10.0.0.1')", Seen::Error),
        ("cidrSubnet('10.144.0.0/20', 24, 4)", known(json!("10.144.4.0/24"))),
        (
            "cidrSubnet('fdad:3236:5555::/48', 52, 1)",
            known(json!("fdad:3236:5555:1000::/52")),
        ),
        ("cidrSubnet('10.144.0.0/20', 24, 16)", Seen::Error),
        ("cidrSubnet('10.144.0.0/20', 16, 0)", Seen::Error),
        ("cidrHost('10.144.3.0/24', 0)", known(json!("10.144.3.1"))),
        (
            "cidrHost('fdad:3236:5555:3000::/52', 4)",
            known(json!("fdad:3236:5555:3000::5")),
        ),
        ("cidrHost('10.0.0.0/30', 2)", Seen::Error),
        ("ipRangeContains('10.0.0.0/8', '10.1.2.3')", known(json!(true))),
        ("ipRangeContains('10.0.0.0/8', '::1')", Seen::Error),
        ("ipRangeSize('10.0.0.0/24')", known(json!(256))),
        ("ipPrefixLength('10.0.0.0/24')", known(json!(24))),
        // Dates (P1Y is 365 days and P1M 30, as Microsoft's reference says).
        (
            "dateTimeAdd('2023-01-01 00:00:00Z', 'P1Y')",
            known(json!("2024-01-01T00:00:00Z")),
        ),
        (
            "dateTimeAdd('2024-01-01 00:00:00Z', 'P1Y')",
            known(json!("2024-12-31T00:00:00Z")),
        ),
        (
            "dateTimeAdd('2023-02-01 00:00:00Z', 'P1M')",
            known(json!("2023-03-03T00:00:00Z")),
        ),
        (
            "dateTimeAdd('2020-04-07T14:53:14Z', '-PT9H')",
            known(json!("2020-04-07T05:53:14Z")),
        ),
        ("dateTimeAdd('yesterday', 'P1D')", Seen::Error),
        (
            "dateTimeFromEpoch(1683040573)",
            known(json!("2023-05-02T15:16:13Z")),
        ),
        (
            "dateTimeToEpoch('2023-05-02T15:16:13Z')",
            known(json!(1683040573)),
        ),
        ("addDays('2024-02-28', 2)", known(json!("2024-03-01T00:00:00Z"))),
        // Unknown inputs stay unknown with their reason, unless a known part decides.
        ("toLower(parameters('u'))", unknown(U)),
        ("length(parameters('u'))", unknown(U)),
        ("base64(parameters('u'))", unknown(U)),
        ("cidrSubnet(parameters('u'), 24, 0)", unknown(U)),
        ("cidrHost('10.0.0.0/24', parameters('u'))", unknown(U)),
        ("dateTimeAdd(parameters('u'), 'P1D')", unknown(U)),
        ("uri('http://a/', parameters('u'))", unknown(U)),
        ("equals(createArray(parameters('u')), createArray(1))", unknown(U)),
        ("contains(createArray('a', parameters('u')), 'a')", known(json!(true))),
        ("contains(createArray('b', parameters('u')), 'a')", unknown(U)),
        ("union(createArray(parameters('u')), createArray(1))", unknown(U)),
        ("and(false, parameters('u'))", known(json!(false))),
        ("or(parameters('u'), false)", unknown(U)),
        ("coalesce(null, parameters('u'), 'x')", unknown(U)),
        ("createArray(parameters('u'), 1)", unknown(U)),
        ("length(createArray(parameters('u'), 1))", known(json!(2))),
        ("max(createArray(1, parameters('u')))", unknown(U)),
        ("take(createArray(1, 2), parameters('u'))", unknown(U)),
        // Symbolic text stays symbolic through text functions.
        (
            "concat(parameters('s'), '/a')",
            Seen::Symbolic("/subscriptions/{subscriptionId}/x/a".into()),
        ),
        (
            "toLower(parameters('s'))",
            Seen::Symbolic("/subscriptions/{subscriptionid}/x".into()),
        ),
    ]
}

#[test]
fn every_case_gives_the_same_in_templates_and_policies() {
    let mut failures = Vec::new();
    for (text, want) in cases() {
        let (t, p) = (in_template(text), in_policy(text));
        if t != want || p != want {
            failures.push(format!(
                "{text}\n  want     {want:?}\n  template {t:?}\n  policy   {p:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_function_of_the_table_has_a_case() {
    let texts: Vec<String> = cases()
        .iter()
        .map(|(t, _)| t.to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = functions::names()
        .filter(|n| !texts.iter().any(|t| t.contains(&format!("{n}("))))
        .collect();
    assert!(missing.is_empty(), "functions with no case: {missing:?}");
}

#[test]
fn the_table_is_sorted_and_unique() {
    let names: Vec<&str> = functions::names().collect();
    assert!(
        names.windows(2).all(|w| matches!(w, [a, b] if a < b)),
        "{names:?}"
    );
    assert!(names.iter().all(|n| functions::lookup(n).is_some()));
    assert!(functions::lookup("reference").is_none());
}
