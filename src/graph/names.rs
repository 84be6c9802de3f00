//! Resource names as a person reads them in a message: the evaluated name when it is known, else
//! the template's symbol and the evaluated part, with long placeholders abbreviated
//! (`'apiService' (apiservice{uniqueString(…)})`).

use crate::graph::Resource;

/// The resource's name for a message, quoted: `'apim-contoso'` when its name is known text, else
/// `'<symbol>' (<abbreviated name>)` (or just the abbreviated name in quotes without a symbol).
pub fn quoted(resource: &Resource) -> String {
    quoted_name(&resource.name, resource.symbol.as_deref())
}

/// [`quoted`] for a name and an optional symbol.
pub fn quoted_name(name: &str, symbol: Option<&str>) -> String {
    if !name.contains('{') {
        return format!("'{name}'");
    }
    let short = abbreviate(name);
    match symbol {
        Some(symbol) if !symbol.is_empty() => format!("'{symbol}' ({short})"),
        _ => format!("'{short}'"),
    }
}

/// Placeholders with arguments lose them: `x{uniqueString(/subscriptions/{subscriptionId})}` →
/// `x{uniqueString(…)}`; other text stays.
pub fn abbreviate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Depth of `{` and, inside the outermost placeholder, of `(`.
    let mut braces = 0usize;
    let mut parens = 0usize;
    for c in text.chars() {
        match c {
            '{' => {
                if parens == 0 {
                    out.push(c);
                }
                braces += 1;
            }
            '}' => {
                braces = braces.saturating_sub(1);
                if parens == 0 {
                    out.push(c);
                }
            }
            '(' if braces > 0 => {
                if parens == 0 {
                    out.push_str("(…");
                }
                parens += 1;
            }
            ')' if braces > 0 && parens > 0 => {
                parens -= 1;
                if parens == 0 {
                    out.push(')');
                }
            }
            c => {
                if parens == 0 {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The last segment of a resource type as words, singular: `virtualNetworks` → `virtual
/// network`, `publicIPAddresses` → `public IP address`, `privateDnsZones` → `private dns zone`.
/// Acronyms (two or more capitals) keep their case; other words are lowercase.
pub fn type_words(type_name: &str) -> String {
    let last = type_name.rsplit('/').next().unwrap_or(type_name);
    let singular = singular(last);
    let chars: Vec<char> = singular.chars().collect();
    // Word starts: a capital after a lowercase letter or digit (`virtualNetwork`), or the last
    // capital of a run followed by a lowercase letter (`IPAddress` → `IP`, `Address`).
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        let starts = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                !p.is_ascii_uppercase() || next.is_some_and(|n| n.is_ascii_lowercase())
            });
        if starts && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.push(*c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
        .iter()
        .map(|w| {
            let capitals = w.chars().filter(char::is_ascii_uppercase).count();
            if capitals >= 2 {
                w.clone()
            } else {
                w.to_ascii_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// English singular of a resource type's plural segment: `addresses` → `address`, `policies` →
/// `policy`, `prefixes` → `prefix`, `networks` → `network`.
fn singular(plural: &str) -> String {
    for (suffix, with) in [
        ("sses", "ss"),
        ("ies", "y"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
    ] {
        if let Some(stem) = plural.strip_suffix(suffix) {
            return format!("{stem}{with}");
        }
    }
    if plural.ends_with("ss") {
        return plural.to_string();
    }
    plural.strip_suffix('s').unwrap_or(plural).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_stay() {
        assert_eq!(quoted_name("apim-contoso", Some("apim")), "'apim-contoso'");
    }

    #[test]
    fn placeholders_are_shortened_and_the_symbol_named() {
        let name = "apiservice{uniqueString(/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName})}";
        assert_eq!(
            quoted_name(name, Some("apiService")),
            "'apiService' (apiservice{uniqueString(…)})"
        );
        assert_eq!(quoted_name("{apimName}", None), "'{apimName}'");
        assert_eq!(
            abbreviate("vnet/{concat(a, f(b))}-{x}"),
            "vnet/{concat(…)}-{x}"
        );
        assert_eq!(abbreviate("a(b){"), "a(b){");
    }

    #[test]
    fn type_words_are_singular_with_acronyms_kept() {
        let cases = [
            ("Microsoft.Network/publicIPAddresses", "public IP address"),
            ("Microsoft.Network/publicIPPrefixes", "public IP prefix"),
            ("Microsoft.Network/virtualNetworks", "virtual network"),
            ("Microsoft.Network/virtualNetworks/subnets", "subnet"),
            ("Microsoft.Network/networkSecurityGroups", "network security group"),
            ("Microsoft.Network/privateDnsZones", "private dns zone"),
            ("Microsoft.Network/ipGroups", "ip group"),
            ("Microsoft.Network/firewallPolicies", "firewall policy"),
            ("Microsoft.ContainerRegistry/registries", "registry"),
            ("Microsoft.Network/networkInterfaces", "network interface"),
            ("Microsoft.Network/applicationGateways", "application gateway"),
            ("Microsoft.Sql/servers/databases", "database"),
            ("Microsoft.Network/dnsZones/TXT", "TXT"),
            ("Microsoft.Network/virtualNetworkGateways", "virtual network gateway"),
            ("Microsoft.Insights/diagnosticSettings", "diagnostic setting"),
            ("Microsoft.Web/sites", "site"),
            ("Microsoft.Network/bastionHosts", "bastion host"),
            ("Microsoft.Network/networkWatchers/flowLogs", "flow log"),
            ("Microsoft.Network/virtualNetworks/subnets/providers/Microsoft.Security/assessments", "assessment"),
        ];
        for (type_name, words) in cases {
            assert_eq!(type_words(type_name), words, "{type_name}");
        }
    }
}
