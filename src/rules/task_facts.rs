//! Causes read from the facts the live gather plan fetched (not from text): the task definition names a log group
//! that does not exist, a role whose trust policy does not admit ECS tasks, a secret that is not where the ARN
//! says, a KMS key whose policy leaves the execution role out, an image that is not in ECR, an execution role
//! whose policies do not allow what ECS does on its behalf. Each finding carries the deciding statement
//! (`explanation`) and a fix scoped to the real ARNs. Pure functions over `TaskEvidence`.

use super::policy_match::{Decision, KeyPolicyDecision, NamedPolicy, Principal, decide, key_policy_decision};
use crate::fix::role_name_of_arn;
use crate::model::task::{
    EcrImageName, ImageFacts, ImageReference, Lookup, Role, SecretFacts, SecretTarget, TaskEvidence,
};
use crate::model::{
    Cause, Confidence, Evidence, EvidenceSource, Finding, Fix, FixTarget, PolicyType, RoleKind, Severity,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";

/// Every fact-based finding for one task.
pub fn findings(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(missing_roles(e));
    out.extend(trust_policies(e));
    out.extend(log_groups(e));
    out.extend(secrets(e));
    out.extend(images(e));
    let (key_findings, delegated_keys) = kms_keys(e);
    out.extend(key_findings);
    out.extend(execution_role_permissions(e, &delegated_keys));
    for f in &mut out {
        corroborate(e, f);
    }
    out
}

/// A JSON document single-quoted for a POSIX shell.
fn shell_json(doc: &Value) -> String {
    format!("'{}'", doc.to_string().replace('\'', "'\\''"))
}

fn role_kind_of(e: &TaskEvidence, role_arn: &str) -> RoleKind {
    let td = e.task_definition.as_ref();
    if td.and_then(|t| t.execution_role_arn.as_deref()) == Some(role_arn) {
        RoleKind::Execution
    } else if td.and_then(|t| t.task_role_arn.as_deref()) == Some(role_arn) {
        RoleKind::Task
    } else {
        RoleKind::Unknown
    }
}

fn task_definition_evidence(e: &TaskEvidence, text: String) -> Evidence {
    let mut ev = Evidence::text(EvidenceSource::TaskDefinition, text);
    ev.file = e.task_definition.as_ref().map(|t| t.arn.clone());
    ev
}

fn missing_roles(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    for (arn, lookup) in &e.roles {
        if !matches!(lookup, Lookup::Missing) {
            continue;
        }
        let kind = role_kind_of(e, arn);
        let mut f = Finding::new(
            Cause::RoleNotFound,
            format!("the task definition names the {} role `{arn}`, which does not exist", kind.as_str()),
        );
        f.role_kind = kind;
        f.resource = Some(arn.clone());
        f.confidence = Confidence::High;
        f.evidence.push(Evidence::text(EvidenceSource::Iam, format!("iam:GetRole `{arn}`: NoSuchEntity")));
        let field = if kind == RoleKind::Task { "taskRoleArn" } else { "executionRoleArn" };
        let mut fix = Fix::new(FixTarget::TaskDefinition, format!("point `{field}` at an existing role"));
        fix.target_arn = e.task_definition.as_ref().map(|t| t.arn.clone());
        fix.steps.push(format!(
            "create the role `{}` with a trust policy for `{ECS_TASKS}`, or register a task definition revision \
             whose `{field}` names an existing role",
            role_name_of_arn(arn).unwrap_or(arn)
        ));
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

/// The trust statement ECS needs, scoped to this account's ECS resources (the confused-deputy guard AWS
/// recommends for `ecs-tasks.amazonaws.com`).
fn ecs_trust_statement(e: &TaskEvidence) -> Value {
    json!({
        "Sid": "AllowEcsTasksToAssume",
        "Effect": "Allow",
        "Principal": {"Service": ECS_TASKS},
        "Action": "sts:AssumeRole",
        "Condition": {
            "ArnLike": {"aws:SourceArn": format!("arn:{}:ecs:{}:{}:*", e.partition, e.region, e.account)},
            "StringEquals": {"aws:SourceAccount": e.account},
        },
    })
}

/// The document with one more statement (a `Statement` object becomes a list).
fn with_statement(document: Option<&Value>, statement: Value) -> Value {
    let mut statements: Vec<Value> =
        document.map(|d| super::policy_match::statements(d).into_iter().cloned().collect()).unwrap_or_default();
    statements.push(statement);
    let version = document.and_then(|d| d.get("Version")).cloned().unwrap_or_else(|| json!("2012-10-17"));
    let mut doc = json!({"Version": version, "Statement": statements});
    if let Some(id) = document.and_then(|d| d.get("Id")) {
        doc["Id"] = id.clone();
    }
    doc
}

fn trust_policies(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    let ecs = Principal::Service(ECS_TASKS.to_string());
    for (arn, lookup) in &e.roles {
        let Some(role) = lookup.found() else { continue };
        let Some(trust) = &role.trust_policy else { continue };
        let decision =
            decide(&[NamedPolicy { name: "trust policy", document: trust }], "sts:AssumeRole", arn, Some(&ecs));
        if decision.allows() {
            continue;
        }
        let kind = role_kind_of(e, arn);
        let trusted: Vec<String> = super::policy_match::statements(trust)
            .iter()
            .filter_map(|s| s.get("Principal"))
            .map(|p| p.to_string())
            .collect();
        let mut f = Finding::new(
            Cause::TrustPolicyDenied,
            format!(
                "the {} role `{}` does not trust `{ECS_TASKS}`, so ECS cannot assume it for the task",
                kind.as_str(),
                role.name
            ),
        );
        f.role_kind = kind;
        f.principal = Some(ECS_TASKS.to_string());
        f.action = Some("sts:AssumeRole".into());
        f.resource = Some(arn.clone());
        f.policy_type = Some(PolicyType::Trust);
        f.confidence = Confidence::High;
        f.details.insert("trusted_principals".into(), trusted.join(", "));
        f.explanation = Some(decision.explanation("trust", 1));
        f.evidence
            .push(Evidence::text(EvidenceSource::Iam, format!("iam:GetRole `{}` trust policy: {trust}", role.name)));
        let document = with_statement(Some(trust), ecs_trust_statement(e));
        let mut fix = Fix::new(FixTarget::TrustPolicy, format!("let `{ECS_TASKS}` assume role `{}`", role.name));
        fix.target_arn = Some(arn.clone());
        fix.commands.push(format!(
            "aws iam update-assume-role-policy --role-name {} --policy-document {}",
            role.name,
            shell_json(&document)
        ));
        fix.document = Some(document);
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

fn log_groups(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(td) = &e.task_definition else { return out };
    for c in &td.containers {
        if c.log_driver.as_deref() != Some("awslogs") {
            continue;
        }
        let Some(group) = c.log_options.get("awslogs-group") else { continue };
        if !matches!(e.log_groups.get(group), Some(Lookup::Missing)) {
            continue;
        }
        let creates = c.log_options.get("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if creates {
            // ECS creates it; whether the execution role may is checked with the role's permissions.
            continue;
        }
        let region = c.log_options.get("awslogs-region").cloned().unwrap_or_else(|| e.region.clone());
        let mut f = Finding::new(
            Cause::LogGroupNotFound,
            format!(
                "container `{}` logs to the awslogs group `{group}` in {region}, which does not exist, and the task \
                 definition does not ask ECS to create it",
                c.name
            ),
        );
        f.role_kind = RoleKind::Execution;
        f.resource = Some(format!("arn:{}:logs:{region}:{}:log-group:{group}", e.partition, e.account));
        f.confidence = Confidence::High;
        f.details.insert("log_group".into(), group.clone());
        f.details.insert("region".into(), region.clone());
        f.evidence.push(Evidence::text(
            EvidenceSource::Logs,
            format!("logs:DescribeLogGroups prefix `{group}` in {region}: no group of that name"),
        ));
        f.evidence.push(task_definition_evidence(
            e,
            format!("container `{}` logConfiguration awslogs-group `{group}`", c.name),
        ));
        let mut fix = Fix::new(FixTarget::Other, format!("create the log group `{group}`"));
        fix.target_arn = f.resource.clone();
        fix.commands.push(format!("aws logs create-log-group --log-group-name {group} --region {region}"));
        fix.steps.push(format!(
            "or set `awslogs-create-group` to `true` in container `{}`'s logConfiguration and allow \
             `logs:CreateLogGroup` to the execution role",
            c.name
        ));
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

fn secret_label(s: &SecretFacts) -> String {
    format!("`{}` (container `{}`, `{}`)", s.reference.value_from, s.reference.container, s.reference.name)
}

fn secrets(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &e.secrets {
        match &s.target {
            SecretTarget::SecretsManager { arn, name, region, .. } => {
                let referenced = arn.clone().unwrap_or_else(|| name.clone());
                if let Lookup::Found(meta) = &s.secret {
                    if let Some(deleted) = &meta.deleted_date {
                        let mut f = Finding::new(
                            Cause::SecretNotFound,
                            format!("the secret {} is scheduled for deletion (since {deleted})", secret_label(s)),
                        );
                        f.resource = Some(meta.arn.clone());
                        f.role_kind = RoleKind::Execution;
                        f.confidence = Confidence::High;
                        let mut fix = Fix::new(FixTarget::Other, format!("restore the secret `{}`", meta.name));
                        fix.target_arn = Some(meta.arn.clone());
                        fix.commands.push(format!(
                            "aws secretsmanager restore-secret --secret-id {} --region {}",
                            meta.arn, s.region
                        ));
                        f.fixes.push(fix);
                        out.push(f);
                    }
                    continue;
                }
                if !matches!(s.secret, Lookup::Missing) {
                    continue;
                }
                let mut f = Finding::new(
                    Cause::SecretNotFound,
                    format!("the secret {} does not exist in {}", secret_label(s), s.region),
                );
                f.role_kind = RoleKind::Execution;
                f.action = Some("secretsmanager:GetSecretValue".into());
                f.resource = Some(referenced.clone());
                f.confidence = Confidence::High;
                f.details.insert("secret".into(), referenced.clone());
                f.details.insert("region".into(), s.region.clone());
                f.evidence.push(Evidence::text(
                    EvidenceSource::SecretsManager,
                    format!("secretsmanager:DescribeSecret `{referenced}` in {}: ResourceNotFoundException", s.region),
                ));
                let mut fix = Fix::new(
                    FixTarget::TaskDefinition,
                    format!("reference a secret that exists for `{}`", s.reference.name),
                );
                fix.target_arn = e.task_definition.as_ref().map(|t| t.arn.clone());
                if let Some(actual) = &s.same_name_in_task_region {
                    f.summary = format!(
                        "the secret {} points at {}, but the secret `{}` lives in {}",
                        secret_label(s),
                        region.as_deref().unwrap_or(&s.region),
                        actual.name,
                        e.region
                    );
                    f.details.insert("found_in_region".into(), e.region.clone());
                    f.details.insert("found_arn".into(), actual.arn.clone());
                    f.evidence.push(Evidence::text(
                        EvidenceSource::SecretsManager,
                        format!("secretsmanager:DescribeSecret `{}` in {}: found `{}`", name, e.region, actual.arn),
                    ));
                    fix.title = format!("point `{}` at `{}`", s.reference.name, actual.arn);
                    fix.steps.push(format!(
                        "in container `{}`, set the `valueFrom` of `{}` to `{}` and register a new task definition \
                         revision (and allow `secretsmanager:GetSecretValue` on it to the execution role)",
                        s.reference.container, s.reference.name, actual.arn
                    ));
                } else {
                    fix.steps.push(format!(
                        "create the secret `{name}` in {}, or set the `valueFrom` of `{}` in container `{}` to the full \
                         ARN of the secret that holds the value, then register a new task definition revision",
                        s.region, s.reference.name, s.reference.container
                    ));
                }
                f.fixes.push(fix);
                out.push(f);
            }
            SecretTarget::Ssm { name, .. } => {
                if !matches!(s.parameter, Lookup::Missing) {
                    continue;
                }
                let mut f = Finding::new(
                    Cause::SsmParameterNotFound,
                    format!("the parameter {} does not exist in {}", secret_label(s), s.region),
                );
                f.role_kind = RoleKind::Execution;
                f.action = Some("ssm:GetParameters".into());
                f.resource = Some(ssm_parameter_arn(e, &s.region, name));
                f.confidence = Confidence::High;
                f.details.insert("parameter".into(), name.clone());
                f.details.insert("region".into(), s.region.clone());
                f.evidence.push(Evidence::text(
                    EvidenceSource::Ssm,
                    format!("ssm:DescribeParameters Name=`{name}` in {}: no such parameter", s.region),
                ));
                let mut fix = Fix::new(
                    FixTarget::TaskDefinition,
                    format!("reference a parameter that exists for `{}`", s.reference.name),
                );
                fix.target_arn = e.task_definition.as_ref().map(|t| t.arn.clone());
                fix.steps.push(format!(
                    "create the parameter `{name}` in {} (`aws ssm put-parameter --name {name} --type SecureString …`), \
                     or fix the `valueFrom` of `{}` in container `{}` (a parameter in another region needs its full ARN)",
                    s.region, s.reference.name, s.reference.container
                ));
                f.fixes.push(fix);
                out.push(f);
            }
        }
    }
    out
}

fn ssm_parameter_arn(e: &TaskEvidence, region: &str, name: &str) -> String {
    let path = if name.starts_with('/') { name.to_string() } else { format!("/{name}") };
    format!("arn:{}:ssm:{region}:{}:parameter{path}", e.partition, e.account)
}

fn execution_principal(e: &TaskEvidence) -> Option<Principal> {
    let arn = e.task_definition.as_ref()?.execution_role_arn.clone()?;
    Some(Principal::Arn { arn, account: e.account.clone() })
}

/// Checks each customer managed key behind a secret or parameter. Returns the findings and the keys whose policy
/// delegates to IAM (so the execution role's IAM policies must allow `kms:Decrypt`).
fn kms_keys(e: &TaskEvidence) -> (Vec<Finding>, Vec<(String, String)>) {
    let mut out = Vec::new();
    let mut delegated = Vec::new();
    let Some(principal) = execution_principal(e) else { return (out, delegated) };
    let Principal::Arn { arn: role_arn, .. } = &principal else { return (out, delegated) };
    let mut seen = std::collections::BTreeSet::new();
    for s in &e.secrets {
        let Lookup::Found(key) = &s.key else { continue };
        if !seen.insert(key.arn.clone()) || key.key_manager.as_deref() == Some("AWS") {
            continue;
        }
        let via = match s.target {
            SecretTarget::SecretsManager { .. } => format!("secretsmanager.{}.amazonaws.com", s.region),
            SecretTarget::Ssm { .. } => format!("ssm.{}.amazonaws.com", s.region),
        };
        if let Some(state) = key.key_state.as_deref().filter(|st| *st != "Enabled") {
            let mut f = Finding::new(
                Cause::KmsKeyUnusable,
                format!("the KMS key `{}` that encrypts {} is {state}", key.arn, secret_label(s)),
            );
            f.resource = Some(key.arn.clone());
            f.role_kind = RoleKind::Execution;
            f.confidence = Confidence::High;
            let mut fix = Fix::new(FixTarget::KeyPolicy, format!("make the key `{}` usable again", key.key_id));
            fix.target_arn = Some(key.arn.clone());
            fix.commands.push(if state == "PendingDeletion" {
                format!("aws kms cancel-key-deletion --key-id {} && aws kms enable-key --key-id {}", key.arn, key.arn)
            } else {
                format!("aws kms enable-key --key-id {}", key.arn)
            });
            f.fixes.push(fix);
            out.push(f);
            continue;
        }
        let Some(policy) = &key.policy else { continue };
        match key_policy_decision(policy, &principal, "kms:Decrypt", &key.arn) {
            KeyPolicyDecision::Grants(_) => {}
            KeyPolicyDecision::DelegatesToIam { .. } => delegated.push((key.arn.clone(), via)),
            decision @ (KeyPolicyDecision::NoGrant | KeyPolicyDecision::Denies(_)) => {
                let (why, explanation) = match &decision {
                    KeyPolicyDecision::Denies(d) => {
                        ("a statement of its key policy denies it", d.explanation("key", 1))
                    }
                    _ => (
                        "its key policy neither names the role nor lets the account's IAM policies grant access",
                        Decision::ImplicitDeny.explanation("key", 1),
                    ),
                };
                let mut f = Finding::new(
                    Cause::KmsKeyUnusable,
                    format!(
                        "the execution role cannot decrypt {} with the KMS key `{}`: {why}",
                        secret_label(s),
                        key.arn
                    ),
                );
                f.principal = Some(role_arn.clone());
                f.role_kind = RoleKind::Execution;
                f.action = Some("kms:Decrypt".into());
                f.resource = Some(key.arn.clone());
                f.policy_type = Some(PolicyType::Key);
                f.confidence = Confidence::High;
                f.explanation = Some(explanation);
                f.details.insert("kms_key".into(), key.arn.clone());
                f.evidence
                    .push(Evidence::text(EvidenceSource::Kms, format!("kms:GetKeyPolicy `{}`: {policy}", key.arn)));
                let statement = json!({
                    "Sid": "AllowEcsExecutionRoleDecrypt",
                    "Effect": "Allow",
                    "Principal": {"AWS": role_arn},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": via}},
                });
                let document = with_statement(Some(policy), statement);
                let mut fix = Fix::new(
                    FixTarget::KeyPolicy,
                    format!(
                        "let the execution role `{}` decrypt with key `{}` via {via}",
                        role_name_of_arn(role_arn).unwrap_or(role_arn),
                        key.key_id
                    ),
                );
                fix.target_arn = Some(key.arn.clone());
                fix.commands.push(format!(
                    "aws kms put-key-policy --key-id {} --policy-name default --policy {}",
                    key.arn,
                    shell_json(&document)
                ));
                if matches!(decision, KeyPolicyDecision::Denies(_)) {
                    fix.steps
                        .push("remove or narrow the key policy statement that denies `kms:Decrypt` to the role".into());
                }
                fix.document = Some(document);
                f.fixes.push(fix);
                out.push(f);
            }
        }
    }
    (out, delegated)
}

fn images(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    for img in &e.images {
        let reference = match &img.name.reference {
            ImageReference::Tag(t) => format!("tag `{t}`"),
            ImageReference::Digest(d) => format!("digest `{d}`"),
        };
        let summary = match (&img.image, img.repository_exists) {
            (_, Some(false)) => format!(
                "container `{}` uses the ECR repository `{}` in {}, which does not exist",
                img.container, img.name.repository, img.name.region
            ),
            (Lookup::Missing, _) => format!(
                "container `{}` uses {reference} of the ECR repository `{}`, which has no such image",
                img.container, img.name.repository
            ),
            _ => {
                out.extend(cross_account_pull(e, img));
                continue;
            }
        };
        let mut f = Finding::new(Cause::ImageNotFound, summary);
        f.resource = Some(img.name.repository_arn(&e.partition));
        f.confidence = Confidence::High;
        f.details.insert("image".into(), image_uri(&img.name));
        f.evidence.push(Evidence::text(
            EvidenceSource::Ecr,
            format!("ecr:DescribeImages `{}` {reference}: not found", img.name.repository),
        ));
        let mut fix = Fix::new(
            FixTarget::Registry,
            format!("push the image or fix the reference in container `{}`", img.container),
        );
        fix.target_arn = f.resource.clone();
        fix.steps.push(format!(
            "push `{}` (or change container `{}`'s image to a tag or digest that `aws ecr describe-images \
             --repository-name {} --region {}` lists), then register a new task definition revision",
            image_uri(&img.name),
            img.container,
            img.name.repository,
            img.name.region
        ));
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

fn image_uri(name: &EcrImageName) -> String {
    let host = format!("{}.dkr.ecr.{}.amazonaws.com/{}", name.registry_id, name.region, name.repository);
    match &name.reference {
        ImageReference::Tag(t) => format!("{host}:{t}"),
        ImageReference::Digest(d) => format!("{host}@{d}"),
    }
}

/// A repository in another account must let the execution role pull.
fn cross_account_pull(e: &TaskEvidence, img: &ImageFacts) -> Option<Finding> {
    if img.name.registry_id == e.account {
        return None;
    }
    let principal = execution_principal(e)?;
    let repo_arn = img.name.repository_arn(&e.partition);
    let allowed = match &img.repository_policy {
        Lookup::Found(policy) => {
            let direct = decide(
                &[NamedPolicy { name: "repository policy", document: policy }],
                "ecr:BatchGetImage",
                &repo_arn,
                Some(&principal),
            );
            direct.allows()
                || super::policy_match::statements(policy).iter().any(|s| {
                    s.get("Effect").and_then(Value::as_str) == Some("Allow")
                        && super::policy_match::statement_applies(s, "ecr:BatchGetImage", &repo_arn)
                        && principal.account_delegated_by(s)
                })
        }
        Lookup::Missing => false,
        Lookup::Unknown => return None,
    };
    if allowed {
        return None;
    }
    let Principal::Arn { arn: role_arn, .. } = &principal else { return None };
    let mut f = Finding::new(
        Cause::ImagePullDenied,
        format!(
            "the repository `{}` is in account {}, and its repository policy does not let the execution role pull",
            img.name.repository, img.name.registry_id
        ),
    );
    f.principal = Some(role_arn.clone());
    f.role_kind = RoleKind::Execution;
    f.action = Some("ecr:BatchGetImage".into());
    f.resource = Some(repo_arn.clone());
    f.policy_type = Some(PolicyType::Resource);
    f.confidence = Confidence::High;
    let statement = json!({
        "Sid": "AllowPullFromTaskExecutionRole",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
    });
    let document = with_statement(img.repository_policy.found(), statement);
    let mut fix = Fix::new(FixTarget::ResourcePolicy, format!("let `{role_arn}` pull from `{}`", img.name.repository));
    fix.target_arn = Some(repo_arn);
    fix.commands.push(format!(
        "aws ecr set-repository-policy --repository-name {} --region {} --registry-id {} --policy-text {}",
        img.name.repository,
        img.name.region,
        img.name.registry_id,
        shell_json(&document)
    ));
    fix.document = Some(document);
    f.fixes.push(fix);
    Some(f)
}

/// One permission ECS needs from the execution role for this task, and why.
struct Need {
    cause: Cause,
    action: &'static str,
    resource: String,
}

fn execution_needs(e: &TaskEvidence, delegated_keys: &[(String, String)]) -> Vec<Need> {
    let mut needs = Vec::new();
    let Some(td) = &e.task_definition else { return needs };
    let mut push = |cause, action, resource: String| {
        if !needs.iter().any(|n: &Need| n.action == action && n.resource == resource) {
            needs.push(Need { cause, action, resource });
        }
    };
    for img in &e.images {
        push(Cause::ImagePullDenied, "ecr:GetAuthorizationToken", "*".to_string());
        let repo = img.name.repository_arn(&e.partition);
        push(Cause::ImagePullDenied, "ecr:BatchGetImage", repo.clone());
        push(Cause::ImagePullDenied, "ecr:GetDownloadUrlForLayer", repo);
    }
    for c in &td.containers {
        if c.log_driver.as_deref() != Some("awslogs") {
            continue;
        }
        let Some(group) = c.log_options.get("awslogs-group") else { continue };
        let region = c.log_options.get("awslogs-region").map_or(e.region.as_str(), String::as_str);
        let group_arn = format!("arn:{}:logs:{region}:{}:log-group:{group}", e.partition, e.account);
        if c.log_options.get("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            && matches!(e.log_groups.get(group), Some(Lookup::Missing))
        {
            push(Cause::IdentityPolicyDenied, "logs:CreateLogGroup", format!("{group_arn}:*"));
        }
        push(Cause::IdentityPolicyDenied, "logs:CreateLogStream", format!("{group_arn}:log-stream:*"));
        push(Cause::IdentityPolicyDenied, "logs:PutLogEvents", format!("{group_arn}:log-stream:*"));
    }
    for s in &e.secrets {
        match (&s.target, &s.secret, &s.parameter) {
            (SecretTarget::SecretsManager { .. }, Lookup::Found(meta), _) => {
                push(Cause::IdentityPolicyDenied, "secretsmanager:GetSecretValue", meta.arn.clone())
            }
            (SecretTarget::Ssm { name, .. }, _, Lookup::Found(_)) => {
                push(Cause::IdentityPolicyDenied, "ssm:GetParameters", ssm_parameter_arn(e, &s.region, name))
            }
            _ => {}
        }
    }
    for (key_arn, _) in delegated_keys {
        push(Cause::IdentityPolicyDenied, "kms:Decrypt", key_arn.clone());
    }
    needs
}

fn role_policies(role: &Role) -> (Vec<NamedPolicy<'_>>, bool) {
    let mut complete = true;
    let mut policies: Vec<NamedPolicy<'_>> =
        role.inline_policies.iter().map(|(name, doc)| NamedPolicy { name, document: doc }).collect();
    for attached in &role.attached_policies {
        match &attached.document {
            Some(doc) => policies.push(NamedPolicy { name: &attached.arn, document: doc }),
            None => complete = false,
        }
    }
    (policies, complete)
}

/// The execution role must allow (and its boundary must not cut) every call ECS makes for the task.
fn execution_role_permissions(e: &TaskEvidence, delegated_keys: &[(String, String)]) -> Vec<Finding> {
    let Some(role_arn) = e.task_definition.as_ref().and_then(|t| t.execution_role_arn.clone()) else {
        return Vec::new();
    };
    let Some(role) = e.role(Some(&role_arn)) else { return Vec::new() };
    let (policies, complete) = role_policies(role);
    let boundary = role.permissions_boundary.as_ref().and_then(|b| b.document.as_ref().map(|d| (b.arn.as_str(), d)));
    // (cause, layer) → the needs that layer refuses, with the deciding explanation.
    let mut refused: BTreeMap<(Cause, PolicyType), Vec<(Need, Value)>> = BTreeMap::new();
    for need in execution_needs(e, delegated_keys) {
        let decision = decide(&policies, need.action, &need.resource, None);
        if !decision.allows() {
            let explanation = decision.explanation("identity", policies.len());
            refused.entry((need.cause, PolicyType::Identity)).or_default().push((need, explanation));
            continue;
        }
        if let Some((boundary_arn, doc)) = boundary {
            let b = decide(&[NamedPolicy { name: boundary_arn, document: doc }], need.action, &need.resource, None);
            if !b.allows() {
                let explanation = b.explanation("permissions-boundary", 1);
                refused
                    .entry((Cause::PermissionsBoundaryDenied, PolicyType::PermissionsBoundary))
                    .or_default()
                    .push((need, explanation));
            }
        }
    }
    let mut out = Vec::new();
    for ((cause, layer), items) in refused {
        let actions: Vec<&str> = items.iter().map(|(n, _)| n.action).collect();
        let what = match cause {
            Cause::ImagePullDenied => "pull the image from ECR",
            _ => "do what ECS needs for this task",
        };
        let layer_text = match layer {
            PolicyType::PermissionsBoundary => "its permissions boundary does not allow",
            _ if items.iter().any(|(_, x)| x["decision"] == "explicit-deny") => "a statement explicitly denies",
            _ => "none of its policies allows",
        };
        let mut f = Finding::new(
            cause,
            format!(
                "the execution role `{}` cannot {what}: {layer_text} {}",
                role.name,
                actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        );
        f.principal = Some(role_arn.clone());
        f.role_kind = RoleKind::Execution;
        f.action = actions.first().map(|a| a.to_string());
        f.resource = items.first().map(|(n, _)| n.resource.clone());
        f.policy_type = Some(layer);
        f.policy_arn = role
            .permissions_boundary
            .as_ref()
            .filter(|_| layer == PolicyType::PermissionsBoundary)
            .map(|b| b.arn.clone());
        f.confidence = if complete { Confidence::High } else { Confidence::Medium };
        f.details.insert("actions".into(), actions.join(", "));
        if !complete {
            f.details.insert("note".into(), "some attached policies could not be read; they may allow this".into());
        }
        f.explanation = Some(Value::Array(
            items
                .iter()
                .map(|(n, x)| {
                    let mut x = x.clone();
                    x["action"] = json!(n.action);
                    x["resource"] = json!(n.resource);
                    x
                })
                .collect(),
        ));
        f.evidence.push(Evidence::text(
            EvidenceSource::Iam,
            format!(
                "role `{}`: {} inline and {} attached policies{}",
                role.name,
                role.inline_policies.len(),
                role.attached_policies.len(),
                role.permissions_boundary.as_ref().map(|b| format!(", boundary `{}`", b.arn)).unwrap_or_default()
            ),
        ));
        // One statement per resource, with every action it needs there.
        let mut by_resource: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (n, _) in &items {
            by_resource.entry(n.resource.as_str()).or_default().push(n.action);
        }
        let statements: Vec<Value> = by_resource
            .iter()
            .map(|(resource, acts)| {
                let action = if acts.len() == 1 { json!(acts[0]) } else { json!(acts) };
                json!({"Effect": "Allow", "Action": action, "Resource": resource})
            })
            .collect();
        let document = json!({"Version": "2012-10-17", "Statement": statements});
        let mut fix = if layer == PolicyType::PermissionsBoundary {
            let mut fix = Fix::new(
                FixTarget::PermissionsBoundary,
                format!("allow {} in the boundary of role `{}`", actions.join(", "), role.name),
            );
            fix.target_arn = f.policy_arn.clone();
            fix.steps.push("add these statements to the boundary policy (a new default version), or attach a boundary that allows them".into());
            fix
        } else {
            let mut fix = Fix::new(
                FixTarget::IdentityPolicy,
                format!("allow {} to the execution role `{}`", actions.join(", "), role.name),
            );
            fix.target_arn = Some(role_arn.clone());
            let policy_name = match cause {
                Cause::ImagePullDenied => "ecs-image-pull",
                _ => "ecs-task-execution",
            };
            fix.commands.push(format!(
                "aws iam put-role-policy --role-name {} --policy-name {policy_name} --policy-document {}",
                role.name,
                shell_json(&document)
            ));
            if f.explanation.as_ref().is_some_and(|x| x.to_string().contains("explicit-deny")) {
                fix.steps.push(
                    "remove or narrow the statement that explicitly denies these actions (see explanation)".into(),
                );
            }
            fix
        };
        fix.document = Some(document);
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

/// The IAM action a CloudTrail record is about (`ecr.amazonaws.com` + `GetAuthorizationToken`).
fn event_action(event: &Value) -> Option<String> {
    let source = event.get("eventSource")?.as_str()?;
    let name = event.get("eventName")?.as_str()?;
    Some(format!("{}:{name}", source.strip_suffix(".amazonaws.com").unwrap_or(source)))
}

/// Whether a CloudTrail record is a denied call.
pub fn is_denied_event(event: &Value) -> bool {
    event.get("errorCode").and_then(Value::as_str).is_some_and(|c| {
        c.contains("AccessDenied") || c.contains("Unauthorized") || c == "Client.UnauthorizedOperation"
    })
}

/// Words of a stopped reason that point at each cause (beyond the finding's own ARNs and actions).
fn cause_keywords(cause: Cause) -> &'static [&'static str] {
    match cause {
        Cause::LogGroupNotFound => &["log group does not exist", "log group"],
        Cause::TrustPolicyDenied => &["unable to assume the role"],
        Cause::KmsKeyUnusable => &["kms"],
        Cause::ImagePullDenied => &["ecr registry auth", "cannotpullcontainer"],
        Cause::ImageNotFound => &["not found", "manifest unknown", "repository does not exist"],
        Cause::SecretNotFound => &["can't find the specified secret", "resourcenotfoundexception"],
        Cause::SsmParameterNotFound => &["invalid parameters", "parameter"],
        _ => &[],
    }
}

/// Adds the stopped reason, container reasons and CloudTrail records that say the same as a fact finding, and
/// raises its confidence: the facts say what is wrong, the task's own record says it is what stopped it.
fn corroborate(e: &TaskEvidence, f: &mut Finding) {
    let mut needles: Vec<String> = Vec::new();
    if let Some(r) = &f.resource {
        needles.push(r.to_lowercase());
    }
    if let Some(actions) = f.details.get("actions") {
        needles.extend(actions.split(", ").map(str::to_lowercase));
    } else if let Some(a) = &f.action {
        needles.push(a.to_lowercase());
    }
    needles.extend(cause_keywords(f.cause).iter().map(|k| k.to_string()));
    let mentions = |text: &str| {
        let lower = text.to_lowercase();
        needles.iter().any(|n| n != "*" && lower.contains(n.as_str()))
    };
    let mut corroborated = false;
    if let Some(task) = &e.task {
        if let Some(reason) = task.stopped_reason.as_deref().filter(|r| mentions(r)) {
            let mut ev = Evidence::text(EvidenceSource::StoppedReason, reason);
            ev.time = task.stopped_at.clone();
            f.evidence.push(ev);
            corroborated = true;
        }
        for c in &task.containers {
            if let Some(reason) = c.reason.as_deref().filter(|r| mentions(r)) {
                f.evidence.push(Evidence::text(EvidenceSource::ContainerReason, format!("{}: {reason}", c.name)));
                corroborated = true;
            }
        }
    }
    let actions: Vec<String> = f
        .details
        .get("actions")
        .map(|a| a.split(", ").map(str::to_string).collect())
        .or_else(|| f.action.clone().map(|a| vec![a]))
        .unwrap_or_default();
    for event in e.trail_events.iter().filter(|ev| is_denied_event(ev)) {
        let Some(action) = event_action(event) else { continue };
        if !actions.iter().any(|a| a.eq_ignore_ascii_case(&action)) {
            continue;
        }
        let mut ev = Evidence::text(
            EvidenceSource::Cloudtrail,
            event.get("errorMessage").and_then(Value::as_str).unwrap_or("denied").to_string(),
        );
        ev.event_id = event.get("eventID").and_then(Value::as_str).map(str::to_string);
        ev.time = event.get("eventTime").and_then(Value::as_str).map(str::to_string);
        if f.first_seen.is_none() || ev.time < f.first_seen {
            f.first_seen = ev.time.clone();
        }
        if ev.time > f.last_seen {
            f.last_seen = ev.time.clone();
        }
        if f.role_session.is_none() {
            f.role_session = e.task_id().map(str::to_string);
        }
        f.evidence.push(ev);
        corroborated = true;
    }
    if corroborated {
        f.confidence = Confidence::High;
        f.details.insert("corroborated".into(), "the task's stopped reason or CloudTrail says the same".into());
    } else if e.task.as_ref().is_some_and(|t| t.last_status.as_deref() == Some("RUNNING")) {
        // The task runs: whatever the facts say did not stop it (yet).
        f.severity = Severity::Warning;
        f.confidence = Confidence::Medium;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::task::{
        AttachedPolicy, ContainerDefinition, KmsKey, SecretMetadata, SecretRef, Task, TaskDefinition,
    };

    fn evidence() -> TaskEvidence {
        let exec = "arn:aws:iam::111122223333:role/exec".to_string();
        let mut log_options = BTreeMap::new();
        log_options.insert("awslogs-group".to_string(), "/ecs/app".to_string());
        let td = TaskDefinition {
            arn: "arn:aws:ecs:us-east-1:111122223333:task-definition/app:3".into(),
            execution_role_arn: Some(exec.clone()),
            containers: vec![ContainerDefinition {
                name: "app".into(),
                image: Some("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1".into()),
                essential: true,
                log_driver: Some("awslogs".into()),
                log_options,
                ..Default::default()
            }],
            ..Default::default()
        };
        let role = Role {
            arn: exec.clone(),
            name: "exec".into(),
            trust_policy: Some(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ECS_TASKS}, "Action": "sts:AssumeRole"}]}),
            ),
            inline_policies: BTreeMap::new(),
            attached_policies: vec![AttachedPolicy {
                arn: "arn:aws:iam::111122223333:policy/logs".into(),
                name: "logs".into(),
                document: Some(
                    json!({"Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}),
                ),
            }],
            permissions_boundary: None,
        };
        let mut roles = BTreeMap::new();
        roles.insert(exec, Lookup::Found(role));
        let mut log_groups = BTreeMap::new();
        log_groups.insert(
            "/ecs/app".to_string(),
            Lookup::Found(crate::model::task::LogGroup { name: "/ecs/app".into(), arn: None, kms_key_id: None }),
        );
        TaskEvidence {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
            task: Some(Task { arn: "arn:aws:ecs:us-east-1:111122223333:task/c/abc".into(), ..Default::default() }),
            task_definition: Some(td),
            roles,
            log_groups,
            images: vec![ImageFacts {
                container: "app".into(),
                name: EcrImageName::parse("111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1").expect("ecr"),
                image: Lookup::Found(crate::model::task::EcrImage {
                    registry_id: "111122223333".into(),
                    region: "us-east-1".into(),
                    repository: "app".into(),
                    reference: ImageReference::Tag("1".into()),
                    digest: None,
                    tags: vec!["1".into()],
                }),
                repository_exists: Some(true),
                repository_policy: Lookup::Missing,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn missing_ecr_permissions_give_one_scoped_fix() {
        let e = evidence();
        let found = findings(&e);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.cause, Cause::ImagePullDenied);
        assert_eq!(f.role_kind, RoleKind::Execution);
        assert_eq!(f.details["actions"], "ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer");
        let doc = f.fixes[0].document.as_ref().expect("document");
        assert_eq!(doc["Statement"][0]["Resource"], "*");
        assert_eq!(doc["Statement"][1]["Resource"], "arn:aws:ecr:us-east-1:111122223333:repository/app");
        assert!(f.fixes[0].commands[0].starts_with("aws iam put-role-policy --role-name exec"));
    }

    #[test]
    fn stopped_reason_corroborates() {
        let mut e = evidence();
        if let Some(t) = e.task.as_mut() {
            t.stopped_reason = Some("ResourceInitializationError: unable to retrieve ecr registry auth: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/abc is not authorized to perform: ecr:GetAuthorizationToken on resource: *".into());
        }
        let found = findings(&e);
        assert_eq!(found[0].confidence, Confidence::High);
        assert!(found[0].evidence.iter().any(|ev| ev.source == EvidenceSource::StoppedReason));
    }

    #[test]
    fn key_policy_without_role_or_account() {
        let mut e = evidence();
        let key_arn = "arn:aws:kms:us-east-1:111122223333:key/k1".to_string();
        e.secrets.push(SecretFacts {
            reference: SecretRef { container: "app".into(), name: "TOKEN".into(), value_from: "arn:aws:secretsmanager:us-east-1:111122223333:secret:t-AbCdEf".into() },
            target: SecretTarget::parse("arn:aws:secretsmanager:us-east-1:111122223333:secret:t-AbCdEf", false),
            region: "us-east-1".into(),
            secret: Lookup::Found(SecretMetadata { arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:t-AbCdEf".into(), name: "t".into(), kms_key_id: Some(key_arn.clone()), deleted_date: None }),
            parameter: Lookup::Unknown,
            same_name_in_task_region: None,
            key: Lookup::Found(KmsKey { arn: key_arn.clone(), key_id: "k1".into(), key_manager: Some("CUSTOMER".into()), key_state: Some("Enabled".into()), policy: Some(json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"}, "Action": "kms:*", "Resource": "*"}]})) }),
        });
        let found = findings(&e);
        let kms = found.iter().find(|f| f.cause == Cause::KmsKeyUnusable).expect("kms finding");
        let doc = kms.fixes[0].document.as_ref().expect("key policy");
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(2));
        assert_eq!(doc["Statement"][1]["Principal"]["AWS"], "arn:aws:iam::111122223333:role/exec");
        assert_eq!(
            doc["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
            "secretsmanager.us-east-1.amazonaws.com"
        );
    }
}
