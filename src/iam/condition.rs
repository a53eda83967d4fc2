//! A statement's `Condition` block: operators over condition keys, each operator's keys and
//! values parsed once. Every operator must hold (and every key of one); a key holds when any of
//! its values matches. Operators Gatehouse does not know refuse the policy instead of being
//! guessed at.

use std::net::IpAddr;

use serde_json::Value;

use super::{PolicyError, glob, invalid};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conditions(Vec<Condition>);

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    op: Operator,
    /// The `Not` form (`StringNotEquals`, `NotIpAddress`).
    negated: bool,
    /// `...IfExists`: a key the request does not have holds.
    if_exists: bool,
    /// The condition key, in lower case (keys are case-insensitive).
    key: String,
    values: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    IpAddress,
    Bool,
    ArnEquals,
    ArnLike,
    /// `Null`: `true` when the key must be absent.
    Null,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Text(String),
    Cidr(IpAddr, u8),
}

/// The condition keys Gatehouse knows a request's value of (or knows it has none of: a request
/// never comes through a VPC endpoint here). A policy naming another key is refused: treating
/// a key AWS would supply as absent would silently skip the statement (a Deny, above all).
const KNOWN_KEYS: [&str; 6] = [
    "aws:sourceip",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:username",
    "aws:sourcevpc",
    "aws:sourcevpce",
];

/// An operator's name: the operator, and whether it is the negated form (`StringNotEquals`).
fn operator(name: &str) -> Option<(Operator, bool)> {
    use Operator::*;
    Some(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "Bool" => (Bool, false),
        "ArnEquals" => (ArnEquals, false),
        "ArnNotEquals" => (ArnEquals, true),
        "ArnLike" => (ArnLike, false),
        "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

impl Conditions {
    pub(super) fn parse(value: &Value) -> Result<Self, PolicyError> {
        let block = value
            .as_object()
            .ok_or_else(|| invalid("a Condition must be a JSON object"))?;
        let mut all = Vec::new();
        for (name, keys) in block {
            let (bare, if_exists) = match name.strip_suffix("IfExists") {
                Some(bare) => (bare, true),
                None => (name.as_str(), false),
            };
            let (op, negated) = operator(bare)
                .ok_or_else(|| invalid(format!("the condition operator {name} is not supported")))?;
            let keys = keys
                .as_object()
                .ok_or_else(|| invalid(format!("the {name} condition must be a JSON object")))?;
            for (key, values) in keys {
                let lower = key.to_ascii_lowercase();
                if !KNOWN_KEYS.contains(&lower.as_str()) {
                    return Err(invalid(format!("the condition key {key} is not supported")));
                }
                let values = match values {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| operand(op, v))
                        .collect::<Result<Vec<_>, _>>()?,
                    one => vec![operand(op, one)?],
                };
                all.push(Condition {
                    op,
                    negated,
                    if_exists,
                    key: lower,
                    values,
                });
            }
        }
        Ok(Self(all))
    }

    /// Whether every condition holds for the request's keys.
    pub(super) fn hold(&self, keys: &dyn Fn(&str) -> Option<String>) -> bool {
        self.0.iter().all(|c| c.holds(keys))
    }
}

impl Condition {
    fn holds(&self, keys: &dyn Fn(&str) -> Option<String>) -> bool {
        let value = keys(&self.key);
        if self.op == Operator::Null {
            let absent = value.is_none();
            return self
                .values
                .iter()
                .any(|v| matches!(v, Operand::Text(t) if t.eq_ignore_ascii_case(if absent { "true" } else { "false" })));
        }
        let Some(value) = value else {
            // A key the request lacks matches no value: the positive operators fail, the
            // negated ones hold; `IfExists` makes both hold.
            return self.if_exists || self.negated;
        };
        let any = self.values.iter().any(|v| self.op.matches(v, &value));
        any != self.negated
    }
}

impl Operator {
    fn matches(self, operand: &Operand, value: &str) -> bool {
        match (self, operand) {
            (Operator::StringEquals | Operator::ArnEquals, Operand::Text(t)) => t == value,
            (Operator::StringEqualsIgnoreCase, Operand::Text(t)) => t.eq_ignore_ascii_case(value),
            (Operator::StringLike | Operator::ArnLike, Operand::Text(t)) => glob::matches(t, value),
            (Operator::Bool, Operand::Text(t)) => t.eq_ignore_ascii_case(value),
            (Operator::IpAddress, Operand::Cidr(net, bits)) => value
                .parse::<IpAddr>()
                .is_ok_and(|ip| in_network(ip, *net, *bits)),
            _ => false,
        }
    }
}

fn operand(op: Operator, v: &Value) -> Result<Operand, PolicyError> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid("condition values must be strings, numbers or booleans")),
    };
    if op != Operator::IpAddress {
        return Ok(Operand::Text(text));
    }
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (text.as_str(), None),
    };
    let ip: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| invalid(format!("{text} is not an IP address or CIDR block")))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => b
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|b| *b <= max)
            .ok_or_else(|| invalid(format!("{text} is not a valid CIDR block")))?,
    };
    Ok(Operand::Cidr(ip, bits))
}

/// A network: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        match operand(Operator::IpAddress, &Value::String(text.to_owned()))? {
            Operand::Cidr(net, bits) => Ok(Self { net, bits }),
            Operand::Text(_) => Err(invalid(format!("{text} is not a CIDR block"))),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        in_network(ip, self.net, self.bits)
    }
}

/// Whether `ip` is in `net/bits` (an IPv4-mapped IPv6 client address counts as its IPv4 one).
fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}
