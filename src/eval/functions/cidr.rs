//! IP range functions (with `ipnet`): ARM's `parseCidr`, `cidrSubnet`, `cidrHost`, and the policy
//! functions `ipRangeContains`, `ipRangeSize`, `ipPrefixLength`.

use super::{Call, Failure, Outcome};
use crate::value::Value;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A range in CIDR notation (`10.0.0.0/16`), or a single address as a one-address range; host
/// bits are cleared.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Ok(n.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("'{s}' is not an ip address or range"))
}

/// Does the range (or address) `range` contain `target` (an address or a range)?
pub fn ip_range_contains(range: &str, target: &str) -> Result<bool, String> {
    let net = parse_net(range)?;
    let t = parse_net(target)?;
    if net.addr().is_ipv4() != t.addr().is_ipv4() {
        return Err(format!(
            "'{range}' and '{target}' are different address families"
        ));
    }
    Ok(net.contains(&t))
}

/// The CIDR argument at `i` (with a prefix length).
fn cidr(c: &Call<'_>, i: usize) -> Result<IpNet, Failure> {
    let s = c.str(i)?;
    s.trim()
        .parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| c.error(&format!("needs a range in CIDR notation, not '{s}'")))
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn address(v4: bool, n: u128) -> Option<IpAddr> {
    if v4 {
        u32::try_from(n).ok().map(|n| IpAddr::V4(Ipv4Addr::from(n)))
    } else {
        Some(IpAddr::V6(Ipv6Addr::from(n)))
    }
}

/// The first and last address a host can have: IPv4 keeps the network and broadcast addresses
/// (except in /31 and /32); IPv6 has no broadcast address.
fn usable(net: &IpNet) -> (u128, u128) {
    let (first, last) = (bits(net.network()), bits(net.broadcast()));
    if net.addr().is_ipv4() && net.prefix_len() <= 30 {
        (first + 1, last - 1)
    } else {
        (first, last)
    }
}

/// `parseCidr(network)`: `network`, `netmask`, `broadcast` (IPv4), `firstUsable`, `lastUsable`,
/// `cidr`.
pub(super) fn parse_cidr(c: &Call<'_>) -> Outcome {
    let net = cidr(c, 0)?;
    let v4 = net.addr().is_ipv4();
    let (first, last) = usable(&net);
    let text = |n: u128| {
        address(v4, n)
            .map(|a| Value::string(a.to_string()))
            .unwrap_or_else(Value::null)
    };
    let mut props = vec![
        (
            "network".to_string(),
            Value::string(net.network().to_string()),
        ),
        (
            "netmask".to_string(),
            Value::string(net.netmask().to_string()),
        ),
    ];
    if v4 {
        props.push((
            "broadcast".to_string(),
            Value::string(net.broadcast().to_string()),
        ));
    }
    props.push(("firstUsable".to_string(), text(first)));
    props.push(("lastUsable".to_string(), text(last)));
    props.push(("cidr".to_string(), Value::int(i64::from(net.prefix_len()))));
    Ok(Value::object(props))
}

/// `cidrSubnet(network, newCIDR, subnetIndex)`: the range of the subnet at the index when the
/// network is split into subnets of prefix length `newCIDR`.
pub(super) fn cidr_subnet(c: &Call<'_>) -> Outcome {
    let net = cidr(c, 0)?;
    let new = c.int(1)?;
    let index = c.int(2)?;
    let max = i64::from(net.max_prefix_len());
    if new < i64::from(net.prefix_len()) || new > max {
        return Err(c.error(&format!(
            "needs a prefix length from {} to {max}, not {new}",
            net.prefix_len()
        )));
    }
    let extra = u32::try_from(new - i64::from(net.prefix_len())).unwrap_or(u32::MAX);
    let index = u128::try_from(index).map_err(|_| c.error("needs a subnet index of 0 or more"))?;
    if extra < 128 && index >> extra != 0 {
        return Err(c.error(&format!("has no subnet {index} of /{new} in {net}")));
    }
    let shift = u32::try_from(max - new).unwrap_or(0);
    let offset = if shift >= 128 { 0 } else { index << shift };
    let start = bits(net.network())
        .checked_add(offset)
        .and_then(|n| address(net.addr().is_ipv4(), n))
        .ok_or_else(|| c.error("has no such subnet"))?;
    Ok(Value::string(format!("{start}/{new}")))
}

/// `cidrHost(network, hostIndex)`: the usable address at the index (index 0 is the address after
/// the network address).
pub(super) fn cidr_host(c: &Call<'_>) -> Outcome {
    let net = cidr(c, 0)?;
    let index =
        u128::try_from(c.int(1)?).map_err(|_| c.error("needs a host index of 0 or more"))?;
    let (_, last) = usable(&net);
    bits(net.network())
        .checked_add(1)
        .and_then(|n| n.checked_add(index))
        .filter(|n| *n <= last)
        .and_then(|n| address(net.addr().is_ipv4(), n))
        .map(|a| Value::string(a.to_string()))
        .ok_or_else(|| c.error(&format!("has no usable host {index} in {net}")))
}

/// `ipRangeContains(range, target)`.
pub(super) fn ip_range_contains_fn(c: &Call<'_>) -> Outcome {
    ip_range_contains(c.str(0)?, c.str(1)?)
        .map(Value::bool)
        .map_err(Failure::Error)
}

/// `ipRangeSize(range)`: how many addresses (at most 2^62).
pub(super) fn ip_range_size(c: &Call<'_>) -> Outcome {
    let net = parse_net(c.str(0)?).map_err(Failure::Error)?;
    let host_bits = u32::from(net.max_prefix_len().saturating_sub(net.prefix_len()));
    Ok(Value::int(
        2i64.checked_pow(host_bits.min(62)).unwrap_or(i64::MAX),
    ))
}

/// `ipPrefixLength(range)`.
pub(super) fn ip_prefix_length(c: &Call<'_>) -> Outcome {
    let net = parse_net(c.str(0)?).map_err(Failure::Error)?;
    Ok(Value::int(i64::from(net.prefix_len())))
}
