//! IAM over the SDK. Policy documents arrive URL-encoded and are decoded here.

use super::{LiveAws, policy_document};
use crate::source::error::{SourceError, SourceErrorKind};
use crate::source::iam::{IamSource, RoleSummary};
use serde_json::Value;

impl LiveAws {
    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }
}

impl IamSource for LiveAws {
    async fn get_role(&self, name: &str) -> Result<RoleSummary, SourceError> {
        let out = self.call("iam:GetRole", name, self.iam().get_role().role_name(name).send()).await?;
        let Some(role) = out.role() else {
            return Err(SourceError::new("iam:GetRole", name, SourceErrorKind::Other, "the response has no role"));
        };
        let trust_policy = match role.assume_role_policy_document() {
            Some(doc) => Some(policy_document(doc, "iam:GetRole", name)?),
            None => None,
        };
        Ok(RoleSummary {
            arn: role.arn().to_string(),
            name: role.role_name().to_string(),
            trust_policy,
            permissions_boundary_arn: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
        })
    }

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, SourceError> {
        let out =
            self.call("iam:ListRolePolicies", role, self.iam().list_role_policies().role_name(role).send()).await?;
        Ok(out.policy_names().to_vec())
    }

    async fn get_role_policy(&self, role: &str, policy: &str) -> Result<Value, SourceError> {
        let resource = format!("{role}/{policy}");
        let out = self
            .call(
                "iam:GetRolePolicy",
                &resource,
                self.iam().get_role_policy().role_name(role).policy_name(policy).send(),
            )
            .await?;
        policy_document(out.policy_document(), "iam:GetRolePolicy", &resource)
    }

    async fn list_attached_role_policies(&self, role: &str) -> Result<Vec<(String, String)>, SourceError> {
        let out = self
            .call("iam:ListAttachedRolePolicies", role, self.iam().list_attached_role_policies().role_name(role).send())
            .await?;
        Ok(out
            .attached_policies()
            .iter()
            .filter_map(|p| Some((p.policy_arn()?.to_string(), p.policy_name().unwrap_or_default().to_string())))
            .collect())
    }

    async fn get_policy_default_version(&self, arn: &str) -> Result<Value, SourceError> {
        let policy = self.call("iam:GetPolicy", arn, self.iam().get_policy().policy_arn(arn).send()).await?;
        let version = policy.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
        let out = self
            .call(
                "iam:GetPolicyVersion",
                arn,
                self.iam().get_policy_version().policy_arn(arn).version_id(version).send(),
            )
            .await?;
        let document = out.policy_version().and_then(|v| v.document()).ok_or_else(|| {
            SourceError::new("iam:GetPolicyVersion", arn, SourceErrorKind::Other, "the policy version has no document")
        })?;
        policy_document(document, "iam:GetPolicyVersion", arn)
    }
}
