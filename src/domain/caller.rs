//! A caller of deployed APIs: an access key that signs requests to AWS_IAM methods, the
//! principal it stands for (`arn:aws:iam::{account}:user/{name}`, or a role session
//! `arn:aws:sts::{account}:assumed-role/{role}/{session}` with its session token) and the
//! identity policies attached to it. Streamed to workers, which verify signatures with it.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerConfig {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
    pub principal_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token: Option<String>,
    /// Identity policy documents (JSON text).
    #[serde(default)]
    pub policies: Vec<String>,
}

impl std::fmt::Debug for CallerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerConfig")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("principal_arn", &self.principal_arn)
            .field("policies", &self.policies.len())
            .finish_non_exhaustive()
    }
}

/// Whether `arn` names a principal a caller may stand for: an IAM user or role, or a role
/// session, of `account`.
pub fn is_principal_of(arn: &str, account: &str) -> bool {
    let user_or_role = arn
        .strip_prefix(&format!("arn:aws:iam::{account}:"))
        .is_some_and(|rest| (rest.starts_with("user/") || rest.starts_with("role/")) && rest.len() > 5);
    let session = arn
        .strip_prefix(&format!("arn:aws:sts::{account}:assumed-role/"))
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(role, session)| !role.is_empty() && !session.is_empty());
    user_or_role || session
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_users_roles_or_sessions_of_the_account() {
        assert!(is_principal_of("arn:aws:iam::123:user/alice", "123"));
        assert!(is_principal_of("arn:aws:sts::123:assumed-role/reader/s1", "123"));
        assert!(!is_principal_of("arn:aws:iam::999:user/alice", "123"));
        assert!(!is_principal_of("arn:aws:iam::123:user/", "123"));
        assert!(!is_principal_of("alice", "123"));
    }
}
