//! How a network security group decides a flow: its rules by priority, first match wins, then
//! Azure's default rules. Behind the policy functions `nsgFlow(rules, flow)` and
//! `nsgDeniedFlows(rules, flows)` (docs/policy-authoring.md).
//!
//! A rule decides a flow when it covers all of it: direction, protocol, every source and
//! destination address, the port. Service tags nest (`*` ⊇ `Internet` ⊇ public service tags;
//! `AzureCloud` ⊇ service tags; `Storage` ⊇ `Storage.WestEurope`), address prefixes compare as
//! ranges. A rule with a value known only at deployment that could decide the flow differently
//! makes the decision unknown.

use crate::value::{Kind, Reason, Value};
use ipnet::IpNet;
use std::net::IpAddr;

/// Three-valued match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum M {
    Yes,
    No,
    Maybe,
}

impl M {
    fn and(self, other: M) -> M {
        match (self, other) {
            (M::No, _) | (_, M::No) => M::No,
            (M::Maybe, _) | (_, M::Maybe) => M::Maybe,
            _ => M::Yes,
        }
    }
    fn any(items: impl IntoIterator<Item = M>) -> M {
        let mut out = M::No;
        for m in items {
            match m {
                M::Yes => return M::Yes,
                M::Maybe => out = M::Maybe,
                M::No => {}
            }
        }
        out
    }
}

/// A rule value as read: known text, or unknown with its reason.
#[derive(Debug, Clone)]
enum Text {
    Known(String),
    Unknown(Reason),
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    /// `None`: known only at deployment (then it may come first).
    priority: Option<i64>,
    direction: Text,
    allow: Option<bool>,
    protocol: Text,
    sources: Vec<Text>,
    destinations: Vec<Text>,
    source_ports: Vec<Text>,
    ports: Vec<Text>,
    default: bool,
    /// The first unknown value of the rule.
    unknown: Option<Reason>,
}

/// One side of a flow.
#[derive(Debug, Clone)]
struct Endpoint {
    /// A service tag (`VirtualNetwork`, `Storage`, `Internet` …), lowercase, or `*`.
    tag: Option<String>,
    /// Addresses, when the flow gives them.
    nets: Vec<IpNet>,
}

#[derive(Debug, Clone)]
struct Flow {
    inbound: bool,
    protocol: String,
    source: Endpoint,
    destination: Endpoint,
    port: i64,
    /// Region of the service tag side (`westeurope`), lowercase without spaces.
    region: Option<String>,
    /// The flow is allowed when one source the rules name is allowed.
    any_source: bool,
    label: String,
}

/// What an NSG does with a flow.
#[derive(Debug, Clone)]
enum Decision {
    Allowed,
    Denied(String),
    Unknown(Reason),
}

fn text_of(v: Option<&Value>) -> Option<Text> {
    let v = v?;
    match &v.kind {
        Kind::Null => None,
        Kind::String(s) => Some(Text::Known(s.clone())),
        Kind::Int(i) => Some(Text::Known(i.to_string())),
        Kind::Unknown(r) => Some(Text::Unknown((**r).clone())),
        _ => Some(Text::Known(v.to_string())),
    }
}

/// Reads `properties.<name>`, else `<name>` (a rule written flat).
fn prop<'a>(rule: &'a Value, name: &str) -> Option<&'a Value> {
    rule.get("properties")
        .and_then(|p| p.get(name))
        .or_else(|| rule.get(name))
        .filter(|v| !matches!(v.kind, Kind::Null))
}

/// The singular property and the elements of the plural one.
fn list(rule: &Value, single: &str, plural: &str) -> Vec<Text> {
    let mut out: Vec<Text> = text_of(prop(rule, single)).into_iter().collect();
    match prop(rule, plural) {
        Some(Value {
            kind: Kind::Array(items),
            ..
        }) => out.extend(items.iter().filter_map(|i| text_of(Some(i)))),
        Some(Value {
            kind: Kind::Unknown(r),
            ..
        }) => out.push(Text::Unknown((**r).clone())),
        _ => {}
    }
    out
}

fn read_rule(v: &Value) -> Rule {
    let unknown_rule = |r: &Reason| Rule {
        name: "(a rule known only at deployment)".into(),
        priority: None,
        direction: Text::Unknown(r.clone()),
        allow: None,
        protocol: Text::Unknown(r.clone()),
        sources: vec![Text::Unknown(r.clone())],
        destinations: vec![Text::Unknown(r.clone())],
        source_ports: vec![Text::Unknown(r.clone())],
        ports: vec![Text::Unknown(r.clone())],
        default: false,
        unknown: Some(r.clone()),
    };
    if let Kind::Unknown(r) = &v.kind {
        return unknown_rule(r);
    }
    if let Some(r) = v.get("properties").and_then(Value::unknown_reason) {
        return unknown_rule(r);
    }
    let name = match v.get("name").and_then(Value::as_text) {
        Some(n) => n.rsplit('/').next().unwrap_or(n).to_string(),
        None => "(unnamed)".into(),
    };
    let priority = prop(v, "priority").and_then(|p| match &p.kind {
        Kind::String(s) => s.trim().parse().ok(),
        _ => p.as_i64(),
    });
    let access = text_of(prop(v, "access"));
    let allow = match &access {
        Some(Text::Known(a)) => Some(a.eq_ignore_ascii_case("allow")),
        _ => None,
    };
    let mut rule = Rule {
        name,
        priority,
        direction: text_of(prop(v, "direction")).unwrap_or(Text::Known(String::new())),
        allow,
        protocol: text_of(prop(v, "protocol")).unwrap_or(Text::Known("*".into())),
        sources: list(v, "sourceAddressPrefix", "sourceAddressPrefixes"),
        destinations: list(v, "destinationAddressPrefix", "destinationAddressPrefixes"),
        source_ports: list(v, "sourcePortRange", "sourcePortRanges"),
        ports: list(v, "destinationPortRange", "destinationPortRanges"),
        default: false,
        unknown: None,
    };
    let mut texts = vec![&rule.direction, &rule.protocol];
    texts.extend(rule.sources.iter());
    texts.extend(rule.destinations.iter());
    texts.extend(rule.source_ports.iter());
    texts.extend(rule.ports.iter());
    let mut unknown = texts.into_iter().find_map(|t| match t {
        Text::Unknown(r) => Some(r.clone()),
        Text::Known(_) => None,
    });
    if let Some(Text::Unknown(r)) = &access {
        unknown.get_or_insert(r.clone());
    }
    if rule.priority.is_none() {
        if let Some(r) = prop(v, "priority").and_then(Value::unknown_reason) {
            unknown.get_or_insert(r.clone());
        }
    }
    rule.unknown = unknown;
    rule
}

fn default_rules(inbound: bool) -> Vec<Rule> {
    let make = |name: &str, priority: i64, allow: bool, src: &str, dst: &str| Rule {
        name: name.into(),
        priority: Some(priority),
        direction: Text::Known(if inbound { "Inbound" } else { "Outbound" }.into()),
        allow: Some(allow),
        protocol: Text::Known("*".into()),
        sources: vec![Text::Known(src.into())],
        destinations: vec![Text::Known(dst.into())],
        source_ports: vec![Text::Known("*".into())],
        ports: vec![Text::Known("*".into())],
        default: true,
        unknown: None,
    };
    if inbound {
        vec![
            make(
                "AllowVnetInBound",
                65000,
                true,
                "VirtualNetwork",
                "VirtualNetwork",
            ),
            make(
                "AllowAzureLoadBalancerInBound",
                65001,
                true,
                "AzureLoadBalancer",
                "*",
            ),
            make("DenyAllInBound", 65500, false, "*", "*"),
        ]
    } else {
        vec![
            make(
                "AllowVnetOutBound",
                65000,
                true,
                "VirtualNetwork",
                "VirtualNetwork",
            ),
            make("AllowInternetOutBound", 65001, true, "*", "Internet"),
            make("DenyAllOutBound", 65500, false, "*", "*"),
        ]
    }
}

/// Service tags that are not public Azure addresses: `Internet` and `AzureCloud` don't cover them.
const PRIVATE_TAGS: &[&str] = &["virtualnetwork", "azureloadbalancer"];

/// `168.63.129.16`, the address behind the `AzureLoadBalancer` tag.
const LOAD_BALANCER: &str = "168.63.129.16/32";

fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn norm_region(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Does the rule prefix `prefix` cover all of `ep`?
fn covers(prefix: &Text, ep: &Endpoint, region: Option<&str>) -> M {
    let p = match prefix {
        Text::Known(p) => p.trim().to_ascii_lowercase(),
        Text::Unknown(_) => return M::Maybe,
    };
    if p == "*" || p == "any" || p == "0.0.0.0/0" || p == "::/0" {
        return M::Yes;
    }
    if let Some(net) = parse_net(&p) {
        if !ep.nets.is_empty() {
            return if ep.nets.iter().all(|n| net.contains(n)) {
                M::Yes
            } else {
                M::No
            };
        }
        return match ep.tag.as_deref() {
            // The network's own ranges aren't known here: a range may cover them.
            Some("virtualnetwork") => M::Maybe,
            Some("azureloadbalancer") => match parse_net(LOAD_BALANCER) {
                Some(lb) if net.contains(&lb) => M::Yes,
                _ => M::No,
            },
            // A range short of everything never covers a whole public service tag.
            _ => M::No,
        };
    }
    let Some(tag) = ep.tag.as_deref() else {
        // The flow gives addresses: only `VirtualNetwork` of the same network is known to cover them.
        return M::No;
    };
    if tag == "*" {
        return M::No;
    }
    let (base, rule_region) = match p.split_once('.') {
        Some((b, r)) => (b.to_string(), Some(norm_region(r))),
        None => (p.clone(), None),
    };
    let region_ok = || match (&rule_region, region) {
        (None, _) => M::Yes,
        (Some(r), Some(f)) => {
            if *r == norm_region(f) {
                M::Yes
            } else {
                M::No
            }
        }
        (Some(_), None) => M::Maybe,
    };
    let (tag_base, tag_region) = match tag.split_once('.') {
        Some((b, r)) => (b, Some(norm_region(r))),
        None => (tag, None),
    };
    let region_for = |wanted: Option<String>| -> M {
        match (&rule_region, wanted) {
            (None, _) => M::Yes,
            (Some(r), Some(w)) => {
                if *r == w {
                    M::Yes
                } else {
                    M::No
                }
            }
            (Some(_), None) => region_ok(),
        }
    };
    if base == tag_base {
        return region_for(tag_region);
    }
    let public = !PRIVATE_TAGS.contains(&tag_base);
    if base == "internet" && public {
        return M::Yes;
    }
    if base == "azurecloud" && public && tag_base != "internet" {
        return region_for(tag_region);
    }
    M::No
}

fn port_covers(range: &Text, port: i64) -> M {
    let r = match range {
        Text::Known(r) => r.trim(),
        Text::Unknown(_) => return M::Maybe,
    };
    if r == "*" {
        return M::Yes;
    }
    let parse = |s: &str| s.trim().parse::<i64>().ok();
    let hit = match r.split_once('-') {
        Some((a, b)) => {
            matches!((parse(a), parse(b)), (Some(a), Some(b)) if a <= port && port <= b)
        }
        None => parse(r) == Some(port),
    };
    if hit {
        M::Yes
    } else {
        M::No
    }
}

fn text_matches(t: &Text, want: &str) -> M {
    match t {
        Text::Known(s) if s.trim() == "*" || s.trim().eq_ignore_ascii_case(want) => M::Yes,
        Text::Known(_) => M::No,
        Text::Unknown(_) => M::Maybe,
    }
}

fn matches(rule: &Rule, flow: &Flow) -> M {
    let direction = match &rule.direction {
        Text::Known(d) => {
            let inbound = d.eq_ignore_ascii_case("inbound");
            if inbound == flow.inbound && (inbound || d.eq_ignore_ascii_case("outbound")) {
                M::Yes
            } else {
                M::No
            }
        }
        Text::Unknown(_) => M::Maybe,
    };
    let all = |items: &[Text], f: &dyn Fn(&Text) -> M| M::any(items.iter().map(f));
    direction
        .and(text_matches(&rule.protocol, &flow.protocol))
        .and(all(&rule.ports, &|p| port_covers(p, flow.port)))
        // A rule for some source ports only covers part of the flow.
        .and(all(&rule.source_ports, &|p| match p {
            Text::Known(s) if s.trim() == "*" || s.trim() == "0-65535" => M::Yes,
            Text::Known(_) => M::No,
            Text::Unknown(_) => M::Maybe,
        }))
        .and(all(&rule.sources, &|p| {
            covers(p, &flow.source, flow.region.as_deref())
        }))
        .and(all(&rule.destinations, &|p| {
            covers(p, &flow.destination, flow.region.as_deref())
        }))
}

fn describe(rule: &Rule) -> String {
    let kind = if rule.default { "default rule" } else { "rule" };
    match rule.priority {
        Some(p) => format!("{kind} '{}' (priority {p})", rule.name),
        None => format!("{kind} '{}'", rule.name),
    }
}

fn decide_one(rules: &[Rule], flow: &Flow) -> Decision {
    // Rules known only at deployment in their access may decide either way.
    let mut uncertain: Vec<&Rule> = Vec::new();
    for rule in rules {
        if !rule.default {
            let direction_known_other = match &rule.direction {
                Text::Known(d) => d.eq_ignore_ascii_case("inbound") != flow.inbound,
                Text::Unknown(_) => false,
            };
            if direction_known_other {
                continue;
            }
        }
        let m = matches(rule, flow);
        match (m, rule.allow) {
            (M::No, _) => continue,
            (M::Maybe, _) | (M::Yes, None) => uncertain.push(rule),
            (M::Yes, Some(allow)) => {
                if let Some(u) = uncertain.iter().find(|u| u.allow != Some(allow)) {
                    let reason = u.unknown.clone().unwrap_or(Reason::Error {
                        message: format!("{} may or may not match '{}'", describe(u), flow.label),
                    });
                    return Decision::Unknown(reason);
                }
                return if allow {
                    Decision::Allowed
                } else {
                    Decision::Denied(describe(rule))
                };
            }
        }
    }
    // Unreachable with the default rules in place; a flow in neither direction.
    Decision::Allowed
}

fn decide(rules: &[Value], flow: &Flow) -> Decision {
    let mut parsed: Vec<Rule> = rules.iter().map(read_rule).collect();
    // Unknown priorities first: such a rule may come before any other.
    parsed.sort_by_key(|r| r.priority.unwrap_or(i64::MIN));
    parsed.extend(default_rules(flow.inbound));
    if !flow.any_source {
        return decide_one(&parsed, flow);
    }
    // Any source the user chose: allowed when one source the custom allow rules name is.
    let mut unknown = None;
    for rule in parsed
        .iter()
        .filter(|r| !r.default && r.allow == Some(true))
    {
        for src in &rule.sources {
            let Text::Known(s) = src else {
                unknown.get_or_insert(Decision::Unknown(rule.unknown.clone().unwrap_or(
                    Reason::Error {
                        message: "a rule's source".into(),
                    },
                )));
                continue;
            };
            let mut f = flow.clone();
            f.source = endpoint(s);
            f.any_source = false;
            match decide_one(&parsed, &f) {
                Decision::Allowed => return Decision::Allowed,
                d @ Decision::Unknown(_) => {
                    unknown.get_or_insert(d);
                }
                Decision::Denied(_) => {}
            }
        }
    }
    if let Some(u) = unknown {
        return u;
    }
    let mut f = flow.clone();
    f.source = endpoint("Internet");
    f.any_source = false;
    decide_one(&parsed, &f)
}

fn endpoint(s: &str) -> Endpoint {
    let t = s.trim();
    match parse_net(t) {
        Some(n) => Endpoint {
            tag: None,
            nets: vec![n],
        },
        None => Endpoint {
            tag: Some(t.to_ascii_lowercase()),
            nets: Vec::new(),
        },
    }
}

fn read_flow(v: &Value) -> Result<Flow, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let direction = s("direction").ok_or("a flow needs a 'direction' (Inbound or Outbound)")?;
    let inbound = direction.eq_ignore_ascii_case("inbound");
    if !inbound && !direction.eq_ignore_ascii_case("outbound") {
        return Err(format!(
            "a flow's direction is Inbound or Outbound, not '{direction}'"
        ));
    }
    let source = s("source").unwrap_or_else(|| "*".into());
    let destination = s("destination").ok_or("a flow needs a 'destination'")?;
    let port = v
        .get("port")
        .and_then(|p| match &p.kind {
            Kind::String(t) => t.trim().parse().ok(),
            _ => p.as_i64(),
        })
        .ok_or("a flow needs a numeric 'port'")?;
    let protocol = s("protocol").unwrap_or_else(|| "Tcp".into());
    let any_source = v.get("anySource").and_then(Value::as_bool).unwrap_or(false);
    let mut source_ep = endpoint(&source);
    let mut destination_ep = endpoint(&destination);
    // The network's own address ranges, when the flow gives them.
    let nets = |k: &str| -> Vec<IpNet> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().and_then(parse_net))
                    .collect()
            })
            .unwrap_or_default()
    };
    if source_ep.nets.is_empty() {
        source_ep.nets = nets("sourcePrefixes");
    }
    if destination_ep.nets.is_empty() {
        destination_ep.nets = nets("destinationPrefixes");
    }
    let label = s("label").unwrap_or_else(|| {
        format!(
            "{} {} → {} {}/{}",
            if inbound { "inbound" } else { "outbound" },
            if any_source { "clients" } else { &source },
            destination,
            protocol.to_ascii_uppercase(),
            port
        )
    });
    Ok(Flow {
        inbound,
        protocol,
        source: source_ep,
        destination: destination_ep,
        port,
        region: s("region"),
        any_source,
        label,
    })
}

fn rules_of(v: &Value) -> Result<&[Value], String> {
    match &v.kind {
        Kind::Array(items) => Ok(items),
        Kind::Null => Ok(&[]),
        _ => Err(format!(
            "security rules must be an array, not a {}",
            v.type_name()
        )),
    }
}

/// `nsgFlow(rules, flow)`: `'allowed'`, `'denied by rule …'`, or unknown.
pub fn flow(rules: &Value, flow: &Value) -> Result<Value, String> {
    let rules = rules_of(rules)?;
    let flow = read_flow(flow)?;
    Ok(match decide(rules, &flow) {
        Decision::Allowed => Value::string("allowed"),
        Decision::Denied(by) => Value::string(format!("denied by {by}")),
        Decision::Unknown(r) => Value::unknown(r),
    })
}

/// `nsgDeniedFlows(rules, flows)`: one text per denied flow (`"<label>: denied by rule …"`);
/// unknown when no flow is denied and one can't be decided.
pub fn denied_flows(rules: &Value, flows: &Value) -> Result<Value, String> {
    let rules = rules_of(rules)?;
    let flows = match &flows.kind {
        Kind::Array(items) => items,
        _ => return Err("nsgDeniedFlows() expects an array of flows".into()),
    };
    let mut denied = Vec::new();
    let mut unknown = None;
    for f in flows {
        let flow = read_flow(f)?;
        match decide(rules, &flow) {
            Decision::Allowed => {}
            Decision::Denied(by) => {
                denied.push(Value::string(format!("{}: denied by {by}", flow.label)))
            }
            Decision::Unknown(r) => {
                unknown.get_or_insert(r);
            }
        }
    }
    Ok(match unknown {
        Some(r) if denied.is_empty() => Value::unknown(r),
        _ => Value::array(denied),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    fn flow_v(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    fn decide_text(rules: Vec<Value>, f: serde_json::Value) -> String {
        match flow(&Value::array(rules), &flow_v(f)).unwrap().kind {
            Kind::String(s) => s,
            Kind::Unknown(_) => "unknown".into(),
            other => format!("{other:?}"),
        }
    }

    fn allow(name: &str, prio: i64, dir: &str, src: &str, dst: &str, port: &str) -> Value {
        rule(serde_json::json!({"name": name, "properties": {
            "priority": prio, "direction": dir, "access": "Allow", "protocol": "Tcp",
            "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
            "sourcePortRange": "*", "destinationPortRange": port}}))
    }

    fn mgmt_rule(prio: i64) -> Value {
        allow(
            "mgmt",
            prio,
            "Inbound",
            "ApiManagement",
            "VirtualNetwork",
            "3443",
        )
    }

    fn deny_all(prio: i64, dir: &str) -> Value {
        rule(serde_json::json!({"name": "deny-all", "properties": {
            "priority": prio, "direction": dir, "access": "Deny", "protocol": "*",
            "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
            "sourcePortRange": "*", "destinationPortRange": "*"}}))
    }

    #[test]
    fn default_rules_decide_when_no_rule_matches() {
        let out = serde_json::json!({"direction": "Outbound", "source": "VirtualNetwork", "destination": "Storage", "port": 443});
        assert_eq!(decide_text(vec![], out), "allowed");
        let lb = serde_json::json!({"direction": "Inbound", "source": "AzureLoadBalancer", "destination": "VirtualNetwork", "port": 6390});
        assert_eq!(decide_text(vec![], lb), "allowed");
        let mgmt = serde_json::json!({"direction": "Inbound", "source": "ApiManagement", "destination": "VirtualNetwork", "port": 3443});
        assert_eq!(
            decide_text(vec![], mgmt),
            "denied by default rule 'DenyAllInBound' (priority 65500)"
        );
    }

    #[test]
    fn first_match_by_priority_wins() {
        let mgmt = serde_json::json!({"direction": "Inbound", "source": "ApiManagement", "destination": "VirtualNetwork", "port": 3443});
        let rules = vec![deny_all(200, "Inbound"), mgmt_rule(100)];
        assert_eq!(decide_text(rules, mgmt.clone()), "allowed");
        let rules = vec![deny_all(100, "Inbound"), mgmt_rule(200)];
        assert_eq!(
            decide_text(rules, mgmt),
            "denied by rule 'deny-all' (priority 100)"
        );
    }

    #[test]
    fn tags_nest_and_ranges_compare() {
        let storage = serde_json::json!({"direction": "Outbound", "source": "VirtualNetwork", "destination": "Storage", "port": 443, "region": "westeurope"});
        for dst in [
            "AzureCloud",
            "Internet",
            "*",
            "Storage.WestEurope",
            "AzureCloud.westeurope",
        ] {
            let rules = vec![
                allow("a", 100, "Outbound", "VirtualNetwork", dst, "443"),
                deny_all(200, "Outbound"),
            ];
            assert_eq!(decide_text(rules, storage.clone()), "allowed", "{dst}");
        }
        for dst in ["Storage.NorthEurope", "Sql", "10.0.0.0/8"] {
            let rules = vec![
                allow("a", 100, "Outbound", "VirtualNetwork", dst, "443"),
                deny_all(200, "Outbound"),
            ];
            assert_ne!(decide_text(rules, storage.clone()), "allowed", "{dst}");
        }
        let rules = vec![
            allow("a", 100, "Outbound", "10.0.0.0/16", "Storage", "440-450"),
            deny_all(200, "Outbound"),
        ];
        let from_subnet = serde_json::json!({"direction": "Outbound", "source": "10.0.1.0/24", "destination": "Storage", "port": 443});
        assert_eq!(decide_text(rules, from_subnet), "allowed");
    }

    #[test]
    fn plural_properties_and_unknown_values() {
        let r = rule(serde_json::json!({"name": "mgmt", "properties": {
            "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "sourceAddressPrefixes": ["ApiManagement", "AzureTrafficManager"], "destinationAddressPrefix": "VirtualNetwork",
            "sourcePortRange": "*", "destinationPortRanges": ["443", "3443"]}}));
        let mgmt = serde_json::json!({"direction": "Inbound", "source": "ApiManagement", "destination": "VirtualNetwork", "port": 3443});
        assert_eq!(decide_text(vec![r], mgmt.clone()), "allowed");
        let mut unknown = allow("p", 100, "Inbound", "x", "VirtualNetwork", "3443");
        if let Some(p) = unknown.get_mut("properties") {
            p.set(
                "sourceAddressPrefix",
                Value::unknown(Reason::Parameter { name: "src".into() }),
            );
        }
        assert_eq!(decide_text(vec![unknown.clone()], mgmt.clone()), "unknown");
        // An unknown allow rule before an allowing rule doesn't change the outcome.
        let rules = vec![unknown, mgmt_rule(200)];
        assert_eq!(decide_text(rules, mgmt), "allowed");
    }

    #[test]
    fn any_source_counts_a_chosen_source() {
        let client = serde_json::json!({"direction": "Inbound", "anySource": true, "destination": "VirtualNetwork", "port": 443});
        let rules = vec![
            allow(
                "fd",
                100,
                "Inbound",
                "AzureFrontDoor.Backend",
                "VirtualNetwork",
                "443",
            ),
            deny_all(4096, "Inbound"),
        ];
        assert_eq!(decide_text(rules, client.clone()), "allowed");
        assert_eq!(
            decide_text(vec![], client),
            "denied by default rule 'DenyAllInBound' (priority 65500)"
        );
    }
}
