//! Account: GetAccount, UpdateAccount (per account and region).

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};

use super::patch::{self, Op, PatchBody};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult};
use crate::management::extract::AwsJson;
use crate::store::{Tenant, accounts};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleSettings {
    pub burst_limit: i32,
    pub rate_limit: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_role_arn: Option<String>,
    pub throttle_settings: ThrottleSettings,
    pub features: Vec<String>,
    pub api_key_version: String,
}

/// What is stored of an account: what GetAccount shows, and whether its throttle is enforced
/// (only once UpdateAccount set one: AWS's fixed default is not imposed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAccount {
    #[serde(flatten)]
    account: Account,
    #[serde(default)]
    throttle_enforced: bool,
}

impl Default for Account {
    /// AWS's account-level defaults: 10,000 requests/s with bursts of 5,000.
    fn default() -> Self {
        Self {
            cloudwatch_role_arn: None,
            throttle_settings: ThrottleSettings {
                burst_limit: 5000,
                rate_limit: 10000.0,
            },
            features: vec!["UsagePlans".into()],
            api_key_version: "4".into(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/account",
    operation_id = "GetAccount",
    tag = "apigateway",
    responses((status = 200, description = "GetAccount succeeded", body = Account), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_account(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
) -> ApiResult<Json<Account>> {
    let mut conn = app.store.pool().acquire().await?;
    let stored: StoredAccount = accounts::get(&mut conn, &tenant, false)
        .await?
        .unwrap_or_default();
    Ok(Json(stored.account))
}

#[utoipa::path(
    patch,
    path = "/account",
    operation_id = "UpdateAccount",
    tag = "apigateway",
    request_body = PatchBody,
    responses((status = 200, description = "UpdateAccount succeeded", body = Account), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn update_account(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Account>> {
    let ops = patch::parse(body, "updateAccountInput")?;
    let mut tx = app.store.begin().await?;
    let mut stored: StoredAccount = accounts::get(&mut tx, &tenant, true).await?.unwrap_or_default();
    let was = (stored.throttle_enforced, stored.account.throttle_settings.clone());
    let account = &mut stored.account;
    for op in &ops {
        match (op.path.as_str(), op.op) {
            ("/cloudwatchRoleArn", Op::Replace | Op::Add) => {
                let arn = patch::optional_string(op);
                if arn.as_deref().is_some_and(|a| !a.starts_with("arn:")) {
                    return Err(ApiError::bad_request("The role ARN is not well formed"));
                }
                account.cloudwatch_role_arn = arn;
            }
            ("/cloudwatchRoleArn", Op::Remove) => account.cloudwatch_role_arn = None,
            ("/features", Op::Add) => {
                let f = op.required_value()?.to_owned();
                if !account.features.contains(&f) {
                    account.features.push(f);
                }
            }
            ("/features", Op::Remove) => {
                let f = op.required_value()?;
                account.features.retain(|x| x != f);
            }
            // Gatehouse's own: an account-wide limit its workers enforce (AWS's is fixed).
            ("/throttle/rateLimit", Op::Replace | Op::Add) => {
                account.throttle_settings.rate_limit = at_least_zero(op, op.number::<f64>()?)?;
                stored.throttle_enforced = true;
            }
            ("/throttle/burstLimit", Op::Replace | Op::Add) => {
                account.throttle_settings.burst_limit = at_least_zero(op, op.number::<i32>()?)?;
                stored.throttle_enforced = true;
            }
            ("/throttle", Op::Remove) => {
                account.throttle_settings = Account::default().throttle_settings;
                stored.throttle_enforced = false;
            }
            _ => {
                return Err(op.invalid_path(&[
                    "/cloudwatchRoleArn",
                    "/features",
                    "/throttle/rateLimit",
                    "/throttle/burstLimit",
                ]));
            }
        }
    }
    accounts::put(&mut tx, &tenant, &stored).await?;
    // Workers learn a new account limit with the account's stages.
    if (stored.throttle_enforced, stored.account.throttle_settings.clone()) != was {
        accounts::touch_stages(&mut tx, &tenant).await?;
    }
    tx.commit().await?;
    Ok(Json(stored.account))
}

/// `n`, the value of `op`, when it is a number of at least 0 (`NaN` and infinities are not).
fn at_least_zero<T: Into<f64> + Copy>(op: &patch::PatchOp, n: T) -> ApiResult<T> {
    let x: f64 = n.into();
    if x.is_finite() && x >= 0.0 {
        Ok(n)
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid value {x} for path {}: it must be a number of at least 0",
            op.path
        )))
    }
}
