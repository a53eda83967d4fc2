//! `patchOperations`: parsing with AWS's validation errors, and helpers for the per-resource
//! appliers (each resource's handler decides which paths and ops it takes, as AWS does).

use serde::Deserialize;
use serde_json::Value;

use crate::management::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl Op {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "add" => Op::Add,
            "remove" => Op::Remove,
            "replace" => Op::Replace,
            "move" => Op::Move,
            "copy" => Op::Copy,
            "test" => Op::Test,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
            Op::Move => "move",
            Op::Copy => "copy",
            Op::Test => "test",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: Op,
    pub path: String,
    pub value: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RawOp {
    op: Option<String>,
    path: Option<String>,
    value: Option<Value>,
    from: Option<String>,
}

/// The body of every `Update*` call.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchBody {
    #[serde(default)]
    patch_operations: Vec<RawOp>,
}

const OP_ENUM: &str = "[add, remove, move, test, replace, copy]";

/// Parses the operations, reporting every bad `op` at once as AWS does (1-based indexes, named
/// after the operation's input shape, e.g. `updateRestApiInput`).
pub fn parse(body: PatchBody, input: &str) -> ApiResult<Vec<PatchOp>> {
    parse_with(body, input, Vec::new())
}

/// [`parse`], reporting `more` (other input constraints the call violates) after the ops' own
/// errors in one ValidationException, as AWS does.
pub fn parse_with(body: PatchBody, input: &str, more: Vec<String>) -> ApiResult<Vec<PatchOp>> {
    let mut errors = Vec::new();
    let mut ops = Vec::with_capacity(body.patch_operations.len());
    for (i, raw) in body.patch_operations.into_iter().enumerate() {
        let op_raw = raw.op.unwrap_or_default();
        let Some(op) = Op::parse(&op_raw) else {
            errors.push(format!(
                "Value '{op_raw}' at '{input}.patchOperations.{}.member.op' failed to satisfy constraint: \
                 Member must satisfy enum value set: {OP_ENUM}",
                i + 1
            ));
            continue;
        };
        let value = match raw.value {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Bool(_)) => {
                return Err(ApiError::serialization(
                    "class java.lang.Boolean can not be converted to an String",
                ));
            }
            Some(Value::Number(_)) => {
                return Err(ApiError::serialization(
                    "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String",
                ));
            }
            Some(_) => return Err(ApiError::serialization("patch operation values must be strings")),
        };
        ops.push(PatchOp {
            op,
            path: raw.path.unwrap_or_default(),
            value,
            from: raw.from,
        });
    }
    errors.extend(more);
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    Ok(ops)
}

impl PatchOp {
    /// The path's segments with JSON-pointer escapes undone (`~1` is `/`, `~0` is `~`).
    pub fn segments(&self) -> Vec<String> {
        split_path(&self.path)
    }

    /// The value, which this path requires.
    pub fn required_value(&self) -> ApiResult<&str> {
        self.value.as_deref().ok_or_else(|| {
            ApiError::bad_request(format!("Invalid null or empty value for path {}", self.path))
        })
    }

    pub fn bool_value(&self) -> ApiResult<bool> {
        parse_bool(self.required_value()?)
    }

    /// The value as a number of type `T`.
    pub fn number<T: std::str::FromStr>(&self) -> ApiResult<T> {
        let raw = self.required_value()?;
        raw.parse()
            .map_err(|_| ApiError::bad_request(format!("Invalid value {raw} for path {}", self.path)))
    }

    /// AWS's error for a path this resource does not have for this op, listing the valid ones.
    pub fn invalid_path(&self, valid: &[&str]) -> ApiError {
        ApiError::bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Must be one of: [{}]",
            self.path,
            self.op.as_str(),
            valid.join(", ")
        ))
    }

    /// AWS's error for a known path with an op it does not take.
    pub fn unsupported_op(&self) -> ApiError {
        ApiError::bad_request(format!(
            "Invalid patch path  '{}' specified for op '{}'. Please choose supported operations",
            self.path,
            self.op.as_str()
        ))
    }

    /// AWS's error for an op that no path of this resource takes, listing the valid ops.
    pub fn invalid_op(valid: &[Op]) -> ApiError {
        let names: Vec<&str> = valid.iter().map(|o| o.as_str()).collect();
        ApiError::bad_request(format!(
            "Invalid patch operation specified. Must be one of: [{}]",
            names.join(", ")
        ))
    }

    /// AWS's terse form: `Invalid patch path /x`.
    pub fn bad_path(&self) -> ApiError {
        ApiError::bad_request(format!("Invalid patch path {}", self.path))
    }
}

pub fn split_path(path: &str) -> Vec<String> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// AWS reads patch booleans the Java way (`Boolean.parseBoolean`): `true` in any case is true,
/// anything else is false.
pub fn parse_bool(raw: &str) -> ApiResult<bool> {
    Ok(raw.eq_ignore_ascii_case("true"))
}

/// `""` and absent mean "unset"; anything else must be the value itself.
pub fn optional_string(op: &PatchOp) -> Option<String> {
    match op.op {
        Op::Remove => None,
        _ => op.value.clone().filter(|v| !v.is_empty()),
    }
}

/// Applies add/replace/remove of one entry of a string-keyed map (`/requestParameters/{name}`).
pub fn patch_map<V>(
    map: &mut std::collections::BTreeMap<String, V>,
    op: &PatchOp,
    key: &str,
    parse: impl Fn(Option<&str>) -> ApiResult<V>,
) -> ApiResult<()> {
    match op.op {
        Op::Add | Op::Replace => {
            map.insert(key.to_owned(), parse(op.value.as_deref())?);
        }
        Op::Remove => {
            map.remove(key);
        }
        _ => {
            return Err(ApiError::bad_request(
                "Invalid patch operation specified. Must be 'add'|'remove'|'replace'",
            ));
        }
    }
    Ok(())
}

/// Values of boolean maps: `"true"`/`"false"`, absent meaning false.
pub fn map_bool(raw: Option<&str>) -> ApiResult<bool> {
    raw.map_or(Ok(false), parse_bool)
}

/// Values of string maps: required.
pub fn map_string(raw: Option<&str>) -> ApiResult<String> {
    raw.map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("Invalid null or empty value in map"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: Value) -> PatchBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_bad_op_is_reported_with_its_index() {
        let err = parse(
            body(serde_json::json!({"patchOperations": [
                {"op": "wrong", "path": "/a"}, {"op": "replace", "path": "/b"}, {"op": "bad", "path": "/c"}
            ]})),
            "updateRestApiInput",
        )
        .unwrap_err();
        assert_eq!(err.kind, "ValidationException");
        assert!(err.message.starts_with(
            "2 validation errors detected: Value 'wrong' at 'updateRestApiInput.patchOperations.1.member.op'"
        ));
        assert!(err.message.contains("patchOperations.3.member.op"));
    }

    #[test]
    fn non_string_values_are_serialization_errors() {
        let err = parse(
            body(serde_json::json!({"patchOperations": [{"op": "replace", "path": "/a", "value": true}]})),
            "x",
        )
        .unwrap_err();
        assert_eq!(err.kind, "SerializationException");
    }

    #[test]
    fn paths_unescape_json_pointer() {
        assert_eq!(
            split_path("/binaryMediaTypes/image~1png"),
            vec!["binaryMediaTypes", "image/png"]
        );
        assert_eq!(split_path("/~1pets/GET/throttling/rateLimit")[0], "/pets");
    }
}
