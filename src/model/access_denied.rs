//! What an AccessDenied message says, once parsed (see `rules::access_denied` for the grammar).

use super::PolicyType;
use serde::{Deserialize, Serialize};

/// The parts of an AWS authorization-failure message. Every field is optional: AWS's wordings vary from
/// the full reasoned form to a bare `Access Denied`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDenied {
    /// The principal as written (`arn:aws:sts::123:assumed-role/Role/session`, `arn:aws:iam::123:user/u`).
    pub principal: Option<String>,
    /// The role name, for `assumed-role` principals.
    pub role_name: Option<String>,
    /// The role session name; for ECS task and execution roles this is the task id.
    pub role_session: Option<String>,
    /// The IAM action, `service:Action`.
    pub action: Option<String>,
    /// The resource ARN (or `*`).
    pub resource: Option<String>,
    /// The layer the message blames.
    pub policy_type: Option<PolicyType>,
    /// The policy ARN the message names (explicit denies in SCPs, identity policies, …).
    pub policy_arn: Option<String>,
    /// `true` for "with an explicit deny", `false` for "because no … policy allows", `None` when not said.
    pub explicit_deny: Option<bool>,
    /// EC2's encoded authorization failure message, to decode with `aws sts decode-authorization-message`.
    pub encoded_message: Option<String>,
}
