//! `$connect`'s authorization, before its integration runs: a Lambda REQUEST authorizer asked
//! with the handshake's identity sources (any missing: 401), whose policy must allow
//! `execute-api:Invoke` on the route's ARN (else 403); or an IAM caller, the handshake
//! SigV4-signed (headers or a presigned URL), whose policies allow the same. What the
//! authorizer said (`principalId`, context) goes with every event of the connection.

use serde_json::{Map, Value, json};

use super::event::{ConnectionInfo, EventType, event, request_ids};
use crate::compiler::authorizers::IdentitySource;
use crate::compiler::websocket::{WsAuthorization, WsRoute};
use crate::dataplane::config::StageRuntime;
use crate::dataplane::context::{Peer, RequestContext, RequestFields};
use crate::dataplane::h1::RawFields;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::iam::Decision;

/// How the handshake is refused: a status and AWS's body.
pub struct Refusal(pub u16, pub &'static [u8]);

const UNAUTHORIZED: Refusal = Refusal(401, br#"{"message": "Unauthorized"}"#);
const FORBIDDEN: Refusal = Refusal(403, br#"{"message": "Forbidden"}"#);
const FAILED: Refusal = Refusal(500, br#"{"message": "Internal server error"}"#);

/// What `$connect`'s authorizer said of an admitted client.
#[derive(Default)]
pub struct Admitted {
    /// `principalId` and the context, in every event of the connection.
    pub context: Option<Value>,
    /// The API key a Lambda authorizer named (`usageIdentifierKey`), for an API whose key
    /// selection expression reads it there.
    pub usage_key: Option<String>,
}

/// Whether the client may connect; what its authorizer said of it.
pub async fn connect(
    dp: &DataPlane,
    stage: &StageRuntime,
    route: &WsRoute,
    parts: &http::request::Parts,
    fields: &RawFields,
    peer: &Peer,
    info: &ConnectionInfo,
) -> Result<Admitted, Refusal> {
    let arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/$connect",
        stage.region, stage.account_id, stage.api_id, stage.stage.stage_name
    );
    // The handshake as a request, for signatures and policies' condition keys.
    let host = fields.get(b"host");
    let kept = RequestFields {
        host,
        user_agent: None,
        trace_id: None,
    };
    let ctx = RequestContext::new(&parts.method, &parts.uri, kept, peer, std::time::Instant::now());
    let request = MethodRequest::of_head(parts, fields, &stage.stage.variables);
    match &route.authorization {
        WsAuthorization::None => Ok(Admitted::default()),
        WsAuthorization::Misconfigured(why) => {
            tracing::warn!(api.id = %stage.api_id, reason = %why, "the $connect authorizer cannot be used");
            Err(FAILED)
        }
        WsAuthorization::Lambda(authorizer, identity) => {
            for source in identity {
                let present = match source {
                    IdentitySource::Header(n) => fields.get(n.as_bytes()).is_some_and(|v| !v.is_empty()),
                    IdentitySource::Query(n) => info.query.iter().any(|(k, v)| k == n && !v.is_empty()),
                    IdentitySource::StageVariable(n) => stage.stage.variables.contains_key(n),
                    IdentitySource::Context(_) => true,
                };
                if !present {
                    return Err(UNAUTHORIZED);
                }
            }
            let ids = request_ids();
            let mut ask = event(info, EventType::Connect, "$connect", None, &ids);
            ask["type"] = json!("REQUEST");
            ask["methodArn"] = json!(arn);
            ask["stageVariables"] = json!(stage.stage.variables);
            let answer =
                crate::dataplane::authorizer::lambda::invoke(dp, authorizer, &stage.stage.variables, &ask)
                    .await
                    .map_err(|e| if e.status == 401 { UNAUTHORIZED } else { FAILED })?;
            let verdict = crate::dataplane::authorizer::lambda::verdict(&answer).map_err(|why| {
                tracing::warn!(api.id = %stage.api_id, reason = %why, "the $connect authorizer answered what AWS refuses");
                FAILED
            })?;
            let allowed = verdict.policy.as_ref().map(|p| {
                crate::dataplane::pipeline::authorize::policy_decides(
                    dp,
                    p,
                    "execute-api:Invoke",
                    &arn,
                    &request,
                    &ctx,
                )
            });
            if allowed != Some(Decision::Allow) {
                return Err(FORBIDDEN);
            }
            let mut context = Map::new();
            for (k, v) in &verdict.authorization.context {
                context.insert(k.clone(), v.clone());
            }
            // The principal is the function's, whatever its context names so.
            if let Some(p) = &verdict.authorization.principal_id {
                context.insert("principalId".into(), json!(p));
            }
            Ok(Admitted {
                context: Some(Value::Object(context)),
                usage_key: verdict.authorization.usage_identifier_key.clone(),
            })
        }
        WsAuthorization::Iam => {
            let config = dp.runtime.load_full();
            let caller = crate::dataplane::authorizer::iam::caller(
                &config,
                &request,
                parts.uri.path(),
                b"",
                &stage.region,
                ctx.host(),
            )
            .map_err(|_| FORBIDDEN)?;
            let allowed = caller.config.account_id == stage.account_id
                && crate::dataplane::pipeline::authorize::identity_allows(
                    dp,
                    &caller,
                    "execute-api:Invoke",
                    &arn,
                    &request,
                    &ctx,
                );
            if !allowed {
                return Err(FORBIDDEN);
            }
            Ok(Admitted {
                context: Some(json!({"principalId": caller.config.principal_arn})),
                usage_key: None,
            })
        }
    }
}
