//! IAM: a role's trust policy, inline and attached policies and permissions boundary. Each method is one API call
//! (but `get_policy_default_version`: GetPolicy, then GetPolicyVersion),
//! so the diagnosis can run the independent ones of many roles together.

use super::error::SourceError;
use serde_json::Value;
use std::future::Future;

/// GetRole's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSummary {
    pub arn: String,
    pub name: String,
    pub trust_policy: Option<Value>,
    pub permissions_boundary_arn: Option<String>,
}

pub trait IamSource {
    fn get_role(&self, name: &str) -> impl Future<Output = Result<RoleSummary, SourceError>>;
    fn list_role_policies(&self, role: &str) -> impl Future<Output = Result<Vec<String>, SourceError>>;
    fn get_role_policy(&self, role: &str, policy: &str) -> impl Future<Output = Result<Value, SourceError>>;
    /// (ARN, name) of each attached managed policy.
    fn list_attached_role_policies(
        &self,
        role: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, SourceError>>;
    /// The document of a managed policy's default version (GetPolicy, then GetPolicyVersion).
    fn get_policy_default_version(&self, arn: &str) -> impl Future<Output = Result<Value, SourceError>>;
}
