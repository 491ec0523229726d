//! Lints on the policies in play (warnings, not causes): pure functions over the IAM snapshot and the Service
//! Authorization Reference.
//!
//! - `overly-broad-resource`: `Resource: "*"` on actions that can be scoped to ARNs;
//! - `execution-role-has-app-permissions`: an execution role granting more than ECS needs to start the task
//!   (image pull, logs, secrets, parameters and their keys) — that is the task role's job;
//! - `trust-policy-unconditioned`: a trust policy for `ecs-tasks.amazonaws.com` without `aws:SourceAccount` or
//!   `aws:SourceArn` (the confused-deputy guard the ECS guide recommends);
//! - `action-scoped-to-unusable-arn`: an action whose `Resource` lists no ARN it can use (e.g.
//!   `ecr:GetAuthorizationToken` on a repository ARN), so the statement silently never matches.
//!
//! Only editable documents are linted (inline and customer managed policies, trust policies): AWS managed policies
//! cannot be changed by the account.

use crate::iamdata;
use crate::model::iam::{IamSnapshot, PrincipalFacts, PrincipalKind};
use crate::model::{Cause, Confidence, Evidence, EvidenceSource, Finding, Fix, FixTarget, RoleKind, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Services an execution role needs: pull (ECR), logs, secrets and parameters injected at start, and the KMS keys
/// that encrypt them.
const EXECUTION_SERVICES: &[&str] = &["ecr", "logs", "secretsmanager", "ssm", "kms"];
/// The managed policy AWS provides for execution roles.
const EXECUTION_ROLE_POLICY: &str = "AmazonECSTaskExecutionRolePolicy";
const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

fn list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn statements(document: &Value) -> Vec<&Value> {
    crate::source::iam_snapshot::statements(document)
}

fn label(statement: &Value, index: usize) -> String {
    statement.get("Sid").and_then(Value::as_str).map(|s| format!("`{s}`")).unwrap_or_else(|| format!("#{index}"))
}

fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?') || s.contains("${")
}

/// The editable identity documents of a principal: inline and customer managed.
fn editable_documents<'a>(snapshot: &'a IamSnapshot, principal: &'a PrincipalFacts) -> Vec<(String, &'a Value)> {
    let mut docs: Vec<(String, &Value)> =
        principal.inline_policies.iter().map(|p| (format!("inline:{}", p.name), &p.document)).collect();
    for arn in &principal.attached_policy_arns {
        if let Some(m) = snapshot.managed_policies.get(arn).filter(|m| !m.is_aws_managed()) {
            docs.push((arn.clone(), &m.document));
        }
    }
    docs
}

fn warning(cause: Cause, principal: &PrincipalFacts, policy: &str, summary: String) -> Finding {
    let mut f = Finding::new(cause, summary);
    f.severity = Severity::Warning;
    f.confidence = Confidence::High;
    f.principal = Some(principal.arn.clone());
    f.policy_arn = Some(policy.to_string()).filter(|p| p.starts_with("arn:"));
    f.details.insert("policy".into(), policy.to_string());
    f.evidence.push(Evidence::text(EvidenceSource::Iam, format!("policy `{policy}` of `{}`", principal.arn)));
    f
}

/// `Resource: "*"` on actions that support ARNs.
fn overly_broad(principal: &PrincipalFacts, policy: &str, document: &Value, out: &mut Vec<Finding>) {
    for (i, s) in statements(document).into_iter().enumerate() {
        if !is_allow(s) || !list(s.get("Resource")).iter().any(|r| r == "*") {
            continue;
        }
        let scopable: Vec<String> = list(s.get("Action"))
            .into_iter()
            .filter(|a| {
                if has_wildcard(a) {
                    iamdata::expand_action_pattern(a)
                        .iter()
                        .any(|x| iamdata::action(x).is_some_and(|info| info.supports_resource_scoping()))
                } else {
                    iamdata::action(a).is_some_and(|info| info.supports_resource_scoping())
                }
            })
            .collect();
        if scopable.is_empty() {
            continue;
        }
        let mut f = warning(
            Cause::OverlyBroadResource,
            principal,
            policy,
            format!(
                "statement {} of `{policy}` allows `{}` on `*`; these actions can be scoped to resource ARNs",
                label(s, i),
                scopable.join("`, `")
            ),
        );
        f.details.insert("statement".into(), label(s, i));
        out.push(f);
    }
}

/// Application permissions on an execution role.
fn execution_role_extras(principal: &PrincipalFacts, policy: &str, document: &Value, out: &mut Vec<Finding>) {
    let mut extras = Vec::new();
    for s in statements(document).into_iter().filter(|s| is_allow(s)) {
        for a in list(s.get("Action")) {
            let service = a.split_once(':').map(|(svc, _)| svc.to_ascii_lowercase());
            let needed = service.as_deref().is_some_and(|svc| EXECUTION_SERVICES.contains(&svc));
            if !needed && !extras.contains(&a) {
                extras.push(a);
            }
        }
    }
    if extras.is_empty() {
        return;
    }
    let mut f = warning(
        Cause::ExecutionRoleHasAppPermissions,
        principal,
        policy,
        format!(
            "execution role `{}` is granted `{}` by `{policy}`: the execution role only pulls images, writes logs and reads secrets at start; application permissions belong on the task role",
            principal.name,
            extras.join("`, `")
        ),
    );
    f.role_kind = RoleKind::Execution;
    out.push(f);
}

fn trusts_ecs_tasks(statement: &Value) -> bool {
    let services = statement.get("Principal").and_then(|p| p.get("Service"));
    is_allow(statement) && list(services).iter().any(|s| s == ECS_TASKS)
}

fn condition_keys(statement: &Value) -> Vec<String> {
    let Some(Value::Object(ops)) = statement.get("Condition") else { return Vec::new() };
    ops.values().filter_map(Value::as_object).flat_map(|m| m.keys().map(|k| k.to_ascii_lowercase())).collect()
}

/// A trust policy for ECS tasks without the confused-deputy condition.
fn unconditioned_trust(principal: &PrincipalFacts, out: &mut Vec<Finding>) {
    let Some(trust) = &principal.trust_policy else { return };
    let account = principal.arn.split(':').nth(4).unwrap_or("");
    for (i, s) in statements(trust).into_iter().enumerate() {
        if !trusts_ecs_tasks(s) {
            continue;
        }
        let keys = condition_keys(s);
        if keys.iter().any(|k| k == "aws:sourceaccount" || k == "aws:sourcearn") {
            continue;
        }
        let mut f = warning(
            Cause::TrustPolicyUnconditioned,
            principal,
            &format!("trust:{}", principal.arn),
            format!(
                "the trust policy of `{}` lets `{ECS_TASKS}` assume it (statement {}) without `aws:SourceAccount` or `aws:SourceArn`: any account's tasks could be given this role by a confused deputy",
                principal.name,
                label(s, i)
            ),
        );
        let mut fix = Fix::new(
            FixTarget::TrustPolicy,
            format!("limit the trust of `{}` to this account's tasks", principal.name),
        );
        fix.target_arn = Some(principal.arn.clone());
        let partition = principal.arn.split(':').nth(1).unwrap_or("aws");
        let condition = json!({"ArnLike": {"aws:SourceArn": format!("arn:{partition}:ecs:*:{account}:*")},
                               "StringEquals": {"aws:SourceAccount": account}});
        let path = if trust.get("Statement").is_some_and(Value::is_array) {
            format!("/Statement/{i}/Condition")
        } else {
            "/Statement/Condition".into()
        };
        let op = if s.get("Condition").is_some() { "replace" } else { "add" };
        let mut merged = s.get("Condition").cloned().unwrap_or(json!({}));
        if let (Some(target), Some(extra)) = (merged.as_object_mut(), condition.as_object()) {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        fix.patch = Some(json!({"policy": format!("trust:{}", principal.arn),
                                "operations": [{"op": op, "path": path, "value": merged}]}));
        f.fixes.push(fix);
        out.push(f);
    }
}

/// Actions whose `Resource` lists only ARNs they cannot be scoped to.
fn unusable_arns(principal: &PrincipalFacts, policy: &str, document: &Value, out: &mut Vec<Finding>) {
    for (i, s) in statements(document).into_iter().enumerate() {
        let resources = list(s.get("Resource"));
        // Wildcards and variables may fit a format the reference spells differently: only judge literal ARNs.
        if resources.is_empty() || resources.iter().any(|r| has_wildcard(r) || !r.starts_with("arn:")) {
            continue;
        }
        for a in list(s.get("Action")).into_iter().filter(|a| !has_wildcard(a)) {
            let Some(info) = iamdata::action(&a) else { continue };
            let fits = resources.iter().any(|r| iamdata::resource_arn_fits(&a, r));
            if fits {
                continue;
            }
            let needs = if info.supports_resource_scoping() {
                let formats = iamdata::arn_formats(&a);
                format!("it accepts only {}", formats.first().map(|f| format!("`{f}`-style ARNs")).unwrap_or_default())
            } else {
                "it supports no resource-level scoping and needs `\"Resource\": \"*\"`".into()
            };
            let mut f = warning(
                Cause::ActionScopedToUnusableArn,
                principal,
                policy,
                format!(
                    "statement {} of `{policy}` scopes `{a}` to `{}`, which never matches: {needs}",
                    label(s, i),
                    resources.join("`, `")
                ),
            );
            f.action = Some(a.clone());
            f.resource = resources.first().cloned();
            f.details.insert("statement".into(), label(s, i));
            out.push(f);
        }
    }
}

fn is_execution_role(principal: &PrincipalFacts, kind: Option<RoleKind>) -> bool {
    kind == Some(RoleKind::Execution)
        || principal.attached_policy_arns.iter().any(|a| a.ends_with(&format!("/{EXECUTION_ROLE_POLICY}")))
}

/// Lints the principals in play (by ARN, with the role kind the diagnosis found, where known).
pub fn lint(snapshot: &IamSnapshot, in_play: &BTreeMap<String, Option<RoleKind>>) -> Vec<Finding> {
    let mut out = Vec::new();
    for principal in &snapshot.principals {
        let Some(kind) = in_play.get(&principal.arn) else { continue };
        for (policy, document) in editable_documents(snapshot, principal) {
            overly_broad(principal, &policy, document, &mut out);
            unusable_arns(principal, &policy, document, &mut out);
            if principal.kind == PrincipalKind::Role && is_execution_role(principal, *kind) {
                execution_role_extras(principal, &policy, document, &mut out);
            }
        }
        unconditioned_trust(principal, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iam::NamedDocument;

    fn principal(document: Value, trust: Value) -> PrincipalFacts {
        PrincipalFacts {
            arn: "arn:aws:iam::111122223333:role/exec".into(),
            name: "exec".into(),
            path: "/".into(),
            trust_policy: Some(trust),
            inline_policies: vec![NamedDocument { name: "main".into(), document }],
            ..PrincipalFacts::default()
        }
    }

    fn causes(findings: &[Finding]) -> Vec<Cause> {
        findings.iter().map(|f| f.cause).collect()
    }

    #[test]
    fn each_lint_fires_on_its_pattern() {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Auth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
             "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/app"},
            {"Sid": "Pull", "Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": "*"},
            {"Sid": "App", "Effect": "Allow", "Action": "dynamodb:GetItem",
             "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/t"}]});
        let trust = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let snapshot = IamSnapshot { principals: vec![principal(document, trust)], ..IamSnapshot::default() };
        let in_play = BTreeMap::from([("arn:aws:iam::111122223333:role/exec".to_string(), Some(RoleKind::Execution))]);
        let found = lint(&snapshot, &in_play);
        let c = causes(&found);
        assert!(c.contains(&Cause::ActionScopedToUnusableArn), "{c:?}");
        assert!(c.contains(&Cause::OverlyBroadResource));
        assert!(c.contains(&Cause::ExecutionRoleHasAppPermissions));
        assert!(c.contains(&Cause::TrustPolicyUnconditioned));
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        let unusable = found.iter().find(|f| f.cause == Cause::ActionScopedToUnusableArn).unwrap();
        assert_eq!(unusable.action.as_deref(), Some("ecr:GetAuthorizationToken"));
        assert!(lint(&snapshot, &BTreeMap::new()).is_empty(), "only principals in play are linted");
    }

    #[test]
    fn conditioned_trust_and_scoped_actions_are_clean() {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/app"}]});
        let trust = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]});
        let snapshot = IamSnapshot { principals: vec![principal(document, trust)], ..IamSnapshot::default() };
        let in_play = BTreeMap::from([("arn:aws:iam::111122223333:role/exec".to_string(), Some(RoleKind::Execution))]);
        assert_eq!(causes(&lint(&snapshot, &in_play)), Vec::<Cause>::new());
    }
}
