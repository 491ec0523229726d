//! Fix suggestion: from a finding's facts to concrete, least-privilege changes, each rendered as the policy
//! JSON, AWS CLI commands, Terraform and CloudFormation.

pub mod arn;
pub mod check;
pub mod render;
mod suggest;
pub mod targets;

use crate::model::{Fix, FixTarget};
use serde_json::json;
pub use suggest::suggest;

/// What a diagnosis knows about the task and its caller. Everything is optional: the text alone gives some of it
/// (ARNs in the message), a live diagnosis the rest. Unknown values become explicit placeholders in the fixes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixContext {
    pub partition: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    pub task_definition_family: Option<String>,
    pub cluster_arn: Option<String>,
    /// Whoever ran the task / registered the task definition (for iam:PassRole fixes).
    pub caller_principal: Option<String>,
    pub kms_key_arn: Option<String>,
    pub ecr_repository_arn: Option<String>,
    pub ecr_account_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
}

/// The IAM role ARN behind a principal ARN: `arn:aws:sts::A:assumed-role/R/S` → `arn:aws:iam::A:role/R`.
/// An assumed-role ARN drops the role's path, so the result is right only for roles at path `/`.
pub fn role_arn_of_principal(principal: &str) -> Option<String> {
    let rest = principal.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next()?;
    let service = parts.next()?;
    let _region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    match service {
        "sts" => {
            let role = resource.strip_prefix("assumed-role/")?.split('/').next()?;
            Some(format!("arn:{partition}:iam::{account}:role/{role}"))
        }
        "iam" if resource.starts_with("role/") => Some(principal.to_string()),
        _ => None,
    }
}

/// The name of a role from its ARN (the last path segment).
pub fn role_name_of_arn(role_arn: &str) -> Option<&str> {
    role_arn.split_once(":role/").map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
}

/// The first fix for a denied call: allow exactly this action on exactly this resource, on the principal's role.
pub fn identity_allow(principal: Option<&str>, action: &str, resource: &str) -> Fix {
    let role_arn = principal.and_then(role_arn_of_principal);
    let statement = json!({
        "Effect": "Allow",
        "Action": action,
        "Resource": resource,
    });
    let document = json!({"Version": "2012-10-17", "Statement": [statement]});
    let who =
        role_arn.as_deref().and_then(role_name_of_arn).map(|r| format!("role `{r}`")).unwrap_or("the principal".into());
    let mut fix = Fix::new(FixTarget::IdentityPolicy, format!("allow `{action}` on `{resource}` for {who}"));
    if let Some(role_name) = role_arn.as_deref().and_then(role_name_of_arn) {
        let policy_name = format!("allow-{}", action.replace(':', "-"));
        fix.commands.push(format!(
            "aws iam put-role-policy --role-name {role_name} --policy-name {policy_name} --policy-document '{}'",
            document
        ));
    }
    fix.target_arn = role_arn;
    fix.document = Some(document);
    fix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_maps_to_role_arn() {
        assert_eq!(
            role_arn_of_principal("arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/5f1c0e7b").as_deref(),
            Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
        );
        assert_eq!(role_arn_of_principal("arn:aws:iam::123456789012:user/alice"), None);
        assert_eq!(role_arn_of_principal("not an arn"), None);
    }

    #[test]
    fn identity_allow_names_role_and_exact_resource() {
        let fix = identity_allow(
            Some("arn:aws-cn:sts::111122223333:assumed-role/app/abc"),
            "s3:GetObject",
            "arn:aws-cn:s3:::bucket/key",
        );
        assert_eq!(fix.target_arn.as_deref(), Some("arn:aws-cn:iam::111122223333:role/app"));
        let doc = fix.document.expect("document");
        assert_eq!(doc["Statement"][0]["Resource"], "arn:aws-cn:s3:::bucket/key");
        assert!(fix.commands[0].contains("--role-name app"));
    }
}
