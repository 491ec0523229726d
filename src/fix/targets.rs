//! The places a fix is applied, each rendered as JSON, AWS CLI, Terraform and CloudFormation.

use super::render::{identifier, logical_id, shell_json, to_hcl, to_yaml};
use crate::model::{Fix, FixTarget};
use serde_json::{Value, json};

/// An IAM identity a statement is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The ARN, when known.
    pub arn: Option<String>,
    /// The role or user name (a placeholder such as `EXECUTION_ROLE_NAME` when unknown).
    pub name: String,
    pub is_user: bool,
}

impl Identity {
    pub fn role(arn: Option<String>, placeholder: &str) -> Identity {
        // A truncated or placeholder ARN (`arn:aws:iam::xxxxx`) names no role.
        let arn = arn.filter(|a| a.contains(":role/"));
        let name = arn.as_deref().and_then(super::role_name_of_arn).unwrap_or(placeholder).to_string();
        Identity { arn, name, is_user: false }
    }

    /// The identity behind a principal ARN (assumed role → its role; IAM user → the user).
    pub fn of_principal(principal: Option<&str>, placeholder: &str) -> Identity {
        if let Some(p) = principal {
            if let Some(role) = super::role_arn_of_principal(p) {
                return Identity::role(Some(role), placeholder);
            }
            if let Some((_, user_path)) = p.split_once(":user/") {
                let name = user_path.rsplit('/').next().unwrap_or(user_path).to_string();
                return Identity { arn: Some(p.to_string()), name, is_user: true };
            }
        }
        Identity::role(None, placeholder)
    }

    fn describe(&self) -> String {
        format!("{} `{}`", if self.is_user { "user" } else { "role" }, self.name)
    }
}

pub fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// An inline policy on a role or user.
pub fn identity_policy(who: &Identity, policy_name: &str, title: String, statements: Vec<Value>) -> Fix {
    let document = policy(statements);
    let id = identifier(policy_name);
    let (kind, tf_kind, cfn_kind, name_key) = if who.is_user {
        ("user", "aws_iam_user_policy", "AWS::IAM::UserPolicy", "UserName")
    } else {
        ("role", "aws_iam_role_policy", "AWS::IAM::RolePolicy", "RoleName")
    };
    let mut fix = Fix::new(FixTarget::IdentityPolicy, format!("{title} ({})", who.describe()));
    fix.target_arn = who.arn.clone();
    fix.commands.push(format!(
        "aws iam put-{kind}-policy --{kind}-name {} --policy-name {policy_name} --policy-document {}",
        who.name,
        shell_json(&document)
    ));
    fix.terraform = Some(format!(
        "resource \"{tf_kind}\" \"{id}\" {{\n  name   = \"{policy_name}\"\n  {kind}   = \"{}\"\n  policy = jsonencode({})\n}}\n",
        who.name,
        to_hcl(&document, 2)
    ));
    fix.cloudformation = Some(format!(
        "{}:\n  Type: {cfn_kind}\n  Properties:\n    {name_key}: \"{}\"\n    PolicyName: \"{policy_name}\"\n    PolicyDocument:\n{}",
        logical_id(policy_name),
        who.name,
        to_yaml(&document, 6)
    ));
    fix.document = Some(document);
    fix
}

/// A role's whole trust policy.
pub fn trust_policy(role: &Identity, title: String, document: Value) -> Fix {
    let mut fix = Fix::new(FixTarget::TrustPolicy, format!("{title} ({})", role.describe()));
    fix.target_arn = role.arn.clone();
    fix.commands.push(format!(
        "aws iam update-assume-role-policy --role-name {} --policy-document {}",
        role.name,
        shell_json(&document)
    ));
    fix.terraform = Some(format!(
        "# in the existing aws_iam_role for `{}`\nassume_role_policy = jsonencode({})\n",
        role.name,
        to_hcl(&document, 0)
    ));
    fix.cloudformation = Some(format!(
        "# in the AWS::IAM::Role for `{}`\nAssumeRolePolicyDocument:\n{}",
        role.name,
        to_yaml(&document, 2)
    ));
    fix.document = Some(document);
    fix
}

/// One statement to add to a KMS key policy (the key policy is replaced as a whole, so it is merged by hand).
pub fn key_policy_statement(key_arn: &str, title: String, statement: Value) -> Fix {
    let document = policy(vec![statement.clone()]);
    let mut fix = Fix::new(FixTarget::KeyPolicy, title);
    fix.target_arn = Some(key_arn.to_string());
    fix.steps.push("add the statement to the key policy (put-key-policy replaces the whole policy)".into());
    fix.commands.push(format!(
        "aws kms get-key-policy --key-id {key_arn} --policy-name default --query Policy --output text > key-policy.json"
    ));
    fix.commands.push("# add the statement to key-policy.json's Statement list, then:".into());
    fix.commands.push(format!(
        "aws kms put-key-policy --key-id {key_arn} --policy-name default --policy file://key-policy.json"
    ));
    fix.terraform = Some(format!(
        "# add to the key's policy (aws_kms_key.policy or aws_kms_key_policy.policy) Statement list:\n{}\n",
        to_hcl(&statement, 0)
    ));
    fix.cloudformation =
        Some(format!("# add to the AWS::KMS::Key's KeyPolicy.Statement list:\n{}", to_yaml(&json!([statement]), 0)));
    fix.document = Some(document);
    fix
}

/// One statement for an ECR repository policy (set-repository-policy replaces the whole policy).
pub fn repository_policy_statement(repository_arn: &str, title: String, statement: Value) -> Fix {
    let document = policy(vec![statement.clone()]);
    let (registry, repository) = match crate::rules::text::split_arn(repository_arn) {
        Some((_, _, _, account, resource)) => {
            (account.to_string(), resource.trim_start_matches("repository/").to_string())
        }
        None => ("REGISTRY_ACCOUNT_ID".into(), repository_arn.to_string()),
    };
    let mut fix = Fix::new(FixTarget::ResourcePolicy, title);
    fix.target_arn = Some(repository_arn.to_string());
    fix.steps.push(format!(
        "in the account that owns the repository ({registry}), add the statement to the repository policy"
    ));
    fix.commands.push(format!(
        "aws ecr get-repository-policy --registry-id {registry} --repository-name {repository} --query policyText --output text > repo-policy.json   # absent policy: start from the document below"
    ));
    fix.commands.push(format!(
        "aws ecr set-repository-policy --registry-id {registry} --repository-name {repository} --policy-text {}",
        shell_json(&document)
    ));
    fix.terraform = Some(format!(
        "resource \"aws_ecr_repository_policy\" \"{}\" {{\n  repository = \"{repository}\"\n  policy     = jsonencode({})\n}}\n",
        identifier(&format!("{repository} pull")),
        to_hcl(&document, 2)
    ));
    fix.cloudformation =
        Some(format!("# in the AWS::ECR::Repository `{repository}`\nRepositoryPolicyText:\n{}", to_yaml(&document, 2)));
    fix.document = Some(document);
    fix
}

/// A change that is not a policy: steps, optionally with commands and IaC snippets.
pub fn steps(target: FixTarget, title: impl Into<String>, steps: &[String]) -> Fix {
    let mut fix = Fix::new(target, title);
    fix.steps = steps.to_vec();
    fix
}

/// A task definition change: the container-definition / task-level JSON fragment, as Terraform and CloudFormation.
pub fn task_definition(title: impl Into<String>, explain: &[String], fragment: Value, tf: String, cfn: String) -> Fix {
    let mut fix = Fix::new(FixTarget::TaskDefinition, title);
    fix.steps = explain.to_vec();
    fix.steps.push(format!("task definition JSON: {}", serde_json::to_string(&fragment).unwrap_or_default()));
    fix.commands.push(
        "aws ecs register-task-definition --cli-input-json file://taskdef.json   # after editing the fragment in"
            .into(),
    );
    fix.terraform = Some(tf);
    fix.cloudformation = Some(cfn);
    fix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_policy_renders_in_every_format() {
        let who =
            Identity::of_principal(Some("arn:aws:sts::111122223333:assumed-role/exec/abc"), "EXECUTION_ROLE_NAME");
        let fix = identity_policy(
            &who,
            "why-task-failed-ssm",
            "allow reading the parameter".into(),
            vec![
                json!({"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "arn:aws:ssm:eu-west-1:111122223333:parameter/x"}),
            ],
        );
        assert_eq!(fix.target_arn.as_deref(), Some("arn:aws:iam::111122223333:role/exec"));
        assert!(
            fix.commands[0].starts_with("aws iam put-role-policy --role-name exec --policy-name why-task-failed-ssm")
        );
        let tf = fix.terraform.expect("terraform");
        assert!(tf.contains("resource \"aws_iam_role_policy\" \"why_task_failed_ssm\""), "{tf}");
        assert!(tf.contains("Action = \"ssm:GetParameters\""), "{tf}");
        let cfn = fix.cloudformation.expect("cfn");
        assert!(cfn.contains("Type: AWS::IAM::RolePolicy"), "{cfn}");
        assert!(cfn.contains("RoleName: \"exec\""), "{cfn}");
    }

    #[test]
    fn users_get_user_policies() {
        let who = Identity::of_principal(Some("arn:aws:iam::123456789012:user/team/alice"), "CALLER");
        assert!(who.is_user);
        assert_eq!(who.name, "alice");
        let fix = identity_policy(&who, "p", "t".into(), vec![]);
        assert!(fix.commands[0].starts_with("aws iam put-user-policy --user-name alice"));
    }
}
