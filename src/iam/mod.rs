//! IAM policies as API Gateway evaluates them for `execute-api:Invoke`: the policies Lambda
//! authorizers return, APIs' resource policies and callers' identity policies. Pure: a policy is
//! parsed once ([`Policy::parse`], which refuses what it could not evaluate faithfully, so an
//! unknown condition operator never silently opens or closes anything) and evaluated against a
//! request's facts ([`Request`]) as AWS's evaluation logic says: an explicit Deny wins, then an
//! Allow, else the implicit deny.

mod condition;
mod glob;

use serde_json::Value;

pub use condition::{Cidr, Conditions};

/// What a policy decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed to the caller's whole account (an account id or its `:root` ARN as principal):
    /// AWS delegates such a grant to the account, whose own identity policies must allow the
    /// caller too, within the account as across accounts.
    AccountAllow,
    ExplicitDeny,
    /// No statement applies (or only Allows whose conditions fail).
    ImplicitDeny,
}

impl Decision {
    /// The decision of policies evaluated together: any explicit Deny, else any Allow (an
    /// Allow to the caller itself before one to its account).
    pub fn combine(self, other: Decision) -> Decision {
        use Decision::*;
        match (self, other) {
            (ExplicitDeny, _) | (_, ExplicitDeny) => ExplicitDeny,
            (Allow, _) | (_, Allow) => Allow,
            (AccountAllow, _) | (_, AccountAllow) => AccountAllow,
            _ => ImplicitDeny,
        }
    }
}

/// Who is calling, as a resource policy's `Principal` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// Not signed: only `"*"` principals match.
    Anonymous,
    /// A SigV4-verified caller: its account and its ARN (`arn:aws:iam::{account}:user/{name}`,
    /// or an assumed role's session `arn:aws:sts::{account}:assumed-role/{role}/{session}`).
    Iam { account: &'a str, arn: &'a str },
}

/// The facts a policy is evaluated against.
pub struct Request<'a> {
    pub caller: Caller<'a>,
    pub action: &'a str,
    /// The method ARN: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`.
    pub resource: &'a str,
    /// Condition keys (`aws:SourceIp`, ...), by their name in lower case.
    pub keys: &'a dyn Fn(&str) -> Option<String>,
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn invalid(why: impl Into<String>) -> PolicyError {
    PolicyError(why.into())
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    /// `None`: the statement names no principal (identity and authorizer policies).
    principals: Option<Principals>,
    actions: Patterns,
    resources: Patterns,
    conditions: Conditions,
}

/// Patterns of an element, or of its `Not` form (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq)]
struct Patterns {
    patterns: Vec<String>,
    negated: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Principals {
    /// `AWS` principals; `"*"` stands for everyone, anonymous callers included.
    aws: Vec<String>,
    negated: bool,
}

impl Policy {
    /// Parses a policy document (JSON text).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("the policy is not valid JSON: {e}")))?;
        Self::from_value(&value)
    }

    /// Parses a policy document already read as JSON (an authorizer's `policyDocument`).
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        let doc = value
            .as_object()
            .ok_or_else(|| invalid("the policy document must be a JSON object"))?;
        let statements = match doc.get("Statement") {
            Some(Value::Array(list)) => list.iter().map(Statement::parse).collect::<Result<_, _>>()?,
            Some(one @ Value::Object(_)) => vec![Statement::parse(one)?],
            _ => return Err(invalid("the policy document has no Statement")),
        };
        Ok(Self { statements })
    }

    /// Whether the policy allows `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let mut decision = Decision::ImplicitDeny;
        for s in &self.statements {
            let Some(named) = s.applies_to(request) else {
                continue;
            };
            decision = match (s.allow, named) {
                (false, _) => return Decision::ExplicitDeny,
                (true, Named::Caller) => Decision::Allow,
                (true, Named::Account) => decision.combine(Decision::AccountAllow),
            };
        }
        decision
    }
}

impl Statement {
    fn parse(value: &Value) -> Result<Self, PolicyError> {
        let obj = value
            .as_object()
            .ok_or_else(|| invalid("each Statement must be a JSON object"))?;
        // AWS accepts the element names in any case in authorizer policies.
        let get = |name: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let allow = match get("Effect").and_then(Value::as_str) {
            Some(e) if e.eq_ignore_ascii_case("Allow") => true,
            Some(e) if e.eq_ignore_ascii_case("Deny") => false,
            _ => return Err(invalid("each Statement needs an Effect of Allow or Deny")),
        };
        let either = |plain: &str, not: &str| -> Result<Patterns, PolicyError> {
            match (get(plain), get(not)) {
                (Some(v), None) => Ok(Patterns {
                    patterns: strings(v, plain)?,
                    negated: false,
                }),
                (None, Some(v)) => Ok(Patterns {
                    patterns: strings(v, not)?,
                    negated: true,
                }),
                (Some(_), Some(_)) => Err(invalid(format!("a Statement has both {plain} and {not}"))),
                (None, None) => Err(invalid(format!("each Statement needs {plain} or {not}"))),
            }
        };
        let principals = match (get("Principal"), get("NotPrincipal")) {
            (None, None) => None,
            (Some(p), None) => Some(Principals::parse(p, false)?),
            (None, Some(p)) => Some(Principals::parse(p, true)?),
            (Some(_), Some(_)) => return Err(invalid("a Statement has both Principal and NotPrincipal")),
        };
        let conditions = match get("Condition") {
            None | Some(Value::Null) => Conditions::default(),
            Some(c) => Conditions::parse(c)?,
        };
        Ok(Self {
            allow,
            principals,
            actions: either("Action", "NotAction")?,
            resources: either("Resource", "NotResource")?,
            conditions,
        })
    }

    /// How the statement names the request's caller, when it applies to the request.
    fn applies_to(&self, r: &Request<'_>) -> Option<Named> {
        let named = match &self.principals {
            None => Named::Caller,
            Some(p) => p.match_caller(r.caller)?,
        };
        (self.actions.matches(|p| action_matches(p, r.action))
            && self.resources.matches(|p| resource_matches(p, r.resource))
            && self.conditions.hold(r.keys))
        .then_some(named)
    }
}

impl Patterns {
    fn matches(&self, one: impl Fn(&str) -> bool) -> bool {
        self.patterns.iter().any(|p| one(p)) != self.negated
    }
}

impl Principals {
    fn parse(value: &Value, negated: bool) -> Result<Self, PolicyError> {
        let aws = match value {
            Value::String(s) if s == "*" => vec!["*".to_owned()],
            Value::Object(o) => match o.get("AWS") {
                Some(v) => strings(v, "Principal")?,
                // Service and federated principals never call a deployed API.
                None => vec![],
            },
            _ => {
                return Err(invalid(
                    "a Principal must be \"*\" or an object such as {\"AWS\": ...}",
                ));
            }
        };
        Ok(Self { aws, negated })
    }

    /// How the principals name `caller` (`None`: they do not). A `NotPrincipal` that leaves
    /// the caller out names it as itself.
    fn match_caller(&self, caller: Caller<'_>) -> Option<Named> {
        let named = self
            .aws
            .iter()
            .filter_map(|p| principal_names(p, caller))
            .max_by_key(|n| *n == Named::Caller);
        match (named, self.negated) {
            (named, false) => named,
            (None, true) => Some(Named::Caller),
            (Some(_), true) => None,
        }
    }
}

/// How a statement's principal names a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// The caller itself (or everyone, `*`), or a statement without principals.
    Caller,
    /// The caller's account: an account id or its `:root` ARN.
    Account,
}

/// How the `AWS` principal `p` names `caller`: `*` names everyone; a user or role ARN that
/// user, or that role's sessions; an account id or its `:root` ARN the account.
fn principal_names(p: &str, caller: Caller<'_>) -> Option<Named> {
    if p == "*" {
        return Some(Named::Caller);
    }
    let Caller::Iam { account, arn } = caller else {
        return None;
    };
    if p == account
        || p.strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
            == Some(account)
    {
        return Some(Named::Account);
    }
    // `arn:aws:sts::{account}:assumed-role/{role}/{session}` is a session of
    // `arn:aws:iam::{account}:role/{role}`.
    (p == arn || (arn.starts_with("arn:aws:sts::") && p == principal_arn(arn))).then_some(Named::Caller)
}

/// Actions match case-insensitively (`execute-api:*`, `*`).
fn action_matches(pattern: &str, action: &str) -> bool {
    glob::matches_ignore_case(pattern, action)
}

/// Resources match case-sensitively, with `*` and `?`. API Gateway also takes
/// `execute-api:/{stage}/{METHOD}/{path}` for "this API": it stands for the part of the method
/// ARN after the API's id.
fn resource_matches(pattern: &str, resource: &str) -> bool {
    if let Some(rest) = pattern.strip_prefix("execute-api:/") {
        return resource
            .split_once('/')
            .is_some_and(|(_, within)| glob::matches(rest, within));
    }
    glob::matches(pattern, resource)
}

/// A string or a list of strings.
fn strings(v: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{element} must hold strings")))
            })
            .collect(),
        _ => Err(invalid(format!(
            "{element} must be a string or a list of strings"
        ))),
    }
}

/// The ARN `aws:PrincipalArn` gives for a caller: a role session's is its role's
/// (`arn:aws:sts::{a}:assumed-role/{role}/{session}` → `arn:aws:iam::{a}:role/{role}`).
pub fn principal_arn(arn: &str) -> String {
    arn.strip_prefix("arn:aws:sts::")
        .and_then(|rest| rest.split_once(":assumed-role/"))
        .and_then(|(account, rest)| Some((account, rest.rsplit_once('/')?.0)))
        .map_or_else(
            || arn.to_owned(),
            |(account, role)| format!("arn:aws:iam::{account}:role/{role}"),
        )
}

/// The method ARN a request is authorized as: `arn:aws:execute-api:{region}:{account}:{api}/
/// {stage}/{METHOD}/{path}`, the path without its leading `/`.
pub fn method_arn(region: &str, account: &str, api: &str, stage: &str, method: &str, path: &str) -> String {
    let path = path.strip_prefix('/').unwrap_or(path);
    format!("arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}")
}

#[cfg(test)]
mod tests;
