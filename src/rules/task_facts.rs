//! Causes read from the facts the live gather plan fetched (not from text): the task definition names a log group
//! that does not exist, a role whose trust policy does not admit ECS tasks, a secret that is not where the ARN
//! says, a KMS key whose policy leaves the execution role out, an image that is not in ECR, an execution role
//! whose policies do not allow what ECS does on its behalf. Each finding carries the deciding statement
//! (`explanation`) and a fix scoped to the real ARNs. Pure functions over `TaskEvidence`.

use super::access_denied::is_denied_error_code;
use crate::fix::role_name_of_arn;
use crate::iamdata::event_names::iam_actions_for_event;
use crate::model::event::TrailEvent;
use crate::model::task::{EcrImageName, ImageReference, Lookup, Role, SecretFacts, SecretTarget, TaskEvidence};
use crate::model::{
    Cause, Confidence, Evidence, EvidenceSource, Finding, Fix, FixTarget, PolicyType, RoleKind, Severity,
};
use crate::policy::{
    self, Decision, Evaluation, Layer, LayerDecision, Policy, PolicyKind, PolicySet, RawValue, Request,
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
    out.extend(kms_key_states(e));
    out.extend(execution_role_permissions(e));
    for f in &mut out {
        corroborate(e, f);
    }
    let denials = unexplained_denials(e, &out);
    out.extend(denials);
    out
}

/// Denied calls of the task's sessions that no fact finding explains (the fetched facts cannot see SCPs, session
/// policies, VPC endpoint policies or other accounts' resource policies): one finding per (principal, action,
/// resource), from the AccessDenied message.
fn unexplained_denials(e: &TaskEvidence, explained: &[Finding]) -> Vec<Finding> {
    let used: std::collections::BTreeSet<&str> =
        explained.iter().flat_map(|f| f.evidence.iter().filter_map(|ev| ev.event_id.as_deref())).collect();
    let mut out: Vec<Finding> = Vec::new();
    for event in e.trail_events.iter().filter(|ev| is_denied_event(ev)) {
        if event.event_id.as_deref().is_some_and(|id| used.contains(id)) {
            continue;
        }
        let message = event.error_message.clone().unwrap_or_default();
        let mut denied = super::access_denied::parse(&message).unwrap_or_default();
        if denied.action.is_none() {
            denied.action = event_actions(event).into_iter().next();
        }
        if denied.principal.is_none() {
            denied.principal = event.caller_arn().map(str::to_string);
        }
        if denied.role_session.is_none() {
            denied.role_session = event.session_name().map(str::to_string);
        }
        let evidence = event_evidence(event);
        if let Some(existing) = out
            .iter_mut()
            .find(|f| f.principal == denied.principal && f.action == denied.action && f.resource == denied.resource)
        {
            existing.count += 1;
            if evidence.time < existing.first_seen {
                existing.first_seen = evidence.time.clone();
            }
            if evidence.time > existing.last_seen {
                existing.last_seen = evidence.time.clone();
            }
            existing.evidence.push(evidence);
            continue;
        }
        let mut f = super::access_denied::finding(&denied, evidence);
        if let Some(role) = event.issuer_role_arn() {
            f.role_kind = role_kind_of(e, role);
        }
        out.push(f);
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

/// The statements of a policy document (`Statement` may be one object or a list).
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// The document with one more statement (a `Statement` object becomes a list).
fn with_statement(document: Option<&Value>, statement: Value) -> Value {
    let mut statements: Vec<Value> = document.map(|d| statements(d).into_iter().cloned().collect()).unwrap_or_default();
    statements.push(statement);
    let version = document.and_then(|d| d.get("Version")).cloned().unwrap_or_else(|| json!("2012-10-17"));
    let mut doc = json!({"Version": version, "Statement": statements});
    if let Some(id) = document.and_then(|d| d.get("Id")) {
        doc["Id"] = id.clone();
    }
    doc
}

/// ECS assumes a task's roles as `ecs-tasks.amazonaws.com`, with the task's account and ARN as source.
fn ecs_assume_request(e: &TaskEvidence, role_arn: &str) -> Request {
    let source_arn = e
        .task
        .as_ref()
        .map(|t| t.arn.clone())
        .unwrap_or_else(|| format!("arn:{}:ecs:{}:{}:task/*", e.partition, e.region, e.account));
    let context = [
        ("aws:SourceAccount".to_string(), RawValue::One(e.account.clone())),
        ("aws:SourceArn".to_string(), RawValue::One(source_arn)),
    ];
    Request::new(ECS_TASKS, "sts:AssumeRole", role_arn, None, &context)
}

fn trust_evaluation(e: &TaskEvidence, role_arn: &str, trust: &Value) -> Option<Evaluation> {
    let set = PolicySet {
        trust_policy: Some(Policy::parse("trust policy", trust, PolicyKind::Resource).ok()?),
        ..Default::default()
    };
    Some(policy::evaluate(&set, &ecs_assume_request(e, role_arn)))
}

/// Records whether re-evaluating with the fix applied allows what was denied.
fn set_verified(fix: &mut Fix, after: &[Evaluation]) {
    let blocked: Vec<String> =
        after.iter().filter(|ev| ev.decision != Decision::Allowed).map(|ev| ev.reason.clone()).collect();
    fix.verified = Some(blocked.is_empty());
    fix.verification_note = Some(if blocked.is_empty() {
        "re-evaluated with this change applied: allowed".to_string()
    } else {
        format!("re-evaluated with this change applied, still denied: {}", blocked.join("; "))
    });
}

fn explanation(evaluation: &Evaluation) -> Option<Value> {
    serde_json::to_value(evaluation).ok()
}

fn trust_policies(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    for (arn, lookup) in &e.roles {
        let Some(role) = lookup.found() else { continue };
        let Some(trust) = &role.trust_policy else { continue };
        let Some(evaluation) = trust_evaluation(e, arn, trust) else { continue };
        if evaluation.decision == Decision::Allowed {
            continue;
        }
        let kind = role_kind_of(e, arn);
        let trusted: Vec<String> =
            statements(trust).iter().filter_map(|s| s.get("Principal")).map(|p| p.to_string()).collect();
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
        f.explanation = explanation(&evaluation);
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
        let after: Vec<Evaluation> = trust_evaluation(e, arn, &document).into_iter().collect();
        set_verified(&mut fix, &after);
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
            _ => continue,
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

/// The execution role as ECS uses it: a session named after the task.
fn execution_session(e: &TaskEvidence, role: &Role) -> String {
    format!("arn:{}:sts::{}:assumed-role/{}/{}", e.partition, e.account, role.name, e.task_id().unwrap_or("ecs-task"))
}

/// The role's identity policies and boundary as the evaluator takes them; `false` when some could not be read.
fn role_policy_set(role: &Role) -> (PolicySet, bool) {
    let mut complete = true;
    let mut identity = Vec::new();
    for (name, doc) in &role.inline_policies {
        match Policy::parse(name, doc, PolicyKind::Identity) {
            Ok(p) => identity.push(p),
            Err(_) => complete = false,
        }
    }
    for attached in &role.attached_policies {
        match attached.document.as_ref().map(|d| Policy::parse(&attached.arn, d, PolicyKind::Identity)) {
            Some(Ok(p)) => identity.push(p),
            _ => complete = false,
        }
    }
    let boundary = role.permissions_boundary.as_ref().map(|b| {
        match b.document.as_ref().map(|d| Policy::parse(&b.arn, d, PolicyKind::Identity)) {
            Some(Ok(p)) => vec![p],
            _ => {
                complete = false;
                Vec::new()
            }
        }
    });
    // An unreadable boundary is left out rather than taken to deny everything.
    let boundary = boundary.filter(|b| !b.is_empty());
    (PolicySet { identity_policies: identity, permission_boundaries: boundary, ..Default::default() }, complete)
}

/// One call ECS makes with the execution role for this task, with the resource-side policy that also decides it.
#[derive(Clone)]
struct Need {
    cause: Cause,
    action: &'static str,
    resource: String,
    context: Vec<(String, RawValue)>,
    /// The KMS key policy (for `kms:Decrypt`) or the ECR repository policy.
    key_policy: Option<Value>,
    repository_policy: Option<Value>,
    /// What the need serves, for messages (`secret …`, `image …`).
    what: String,
    /// The secret or parameter behind a `kms:Decrypt`.
    via: Option<String>,
}

impl Need {
    fn new(cause: Cause, action: &'static str, resource: String, what: String) -> Self {
        Need {
            cause,
            action,
            resource,
            context: Vec::new(),
            key_policy: None,
            repository_policy: None,
            what,
            via: None,
        }
    }

    fn evaluate(
        &self,
        base: &PolicySet,
        session: &str,
        extra_identity: Option<&Policy>,
        key_policy: Option<&Value>,
    ) -> Evaluation {
        let mut set = base.clone();
        if let Some(p) = extra_identity {
            set.identity_policies.push(p.clone());
        }
        if let Some(doc) = key_policy.or(self.key_policy.as_ref()) {
            set.kms_key_policy = Policy::parse("key policy", doc, PolicyKind::Resource).ok();
        }
        if let Some(doc) = &self.repository_policy {
            set.resource_policy = Policy::parse("repository policy", doc, PolicyKind::Resource).ok();
        }
        policy::evaluate(&set, &Request::new(session, self.action, &self.resource, None, &self.context))
    }
}

fn execution_needs(e: &TaskEvidence) -> Vec<Need> {
    let mut needs: Vec<Need> = Vec::new();
    let Some(td) = &e.task_definition else { return needs };
    let mut push = |need: Need| {
        if !needs.iter().any(|n| n.action == need.action && n.resource == need.resource) {
            needs.push(need);
        }
    };
    for img in &e.images {
        let what = format!("image `{}`", image_uri(&img.name));
        push(Need::new(Cause::ImagePullDenied, "ecr:GetAuthorizationToken", "*".to_string(), what.clone()));
        let repo = img.name.repository_arn(&e.partition);
        let policy = img.repository_policy.found().cloned();
        for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
            let mut need = Need::new(Cause::ImagePullDenied, action, repo.clone(), what.clone());
            need.repository_policy = policy.clone();
            push(need);
        }
    }
    for c in &td.containers {
        if c.log_driver.as_deref() != Some("awslogs") {
            continue;
        }
        let Some(group) = c.log_options.get("awslogs-group") else { continue };
        let region = c.log_options.get("awslogs-region").map_or(e.region.as_str(), String::as_str);
        let group_arn = format!("arn:{}:logs:{region}:{}:log-group:{group}", e.partition, e.account);
        let what = format!("log group `{group}`");
        if c.log_options.get("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            && matches!(e.log_groups.get(group), Some(Lookup::Missing))
        {
            push(Need::new(Cause::IdentityPolicyDenied, "logs:CreateLogGroup", format!("{group_arn}:*"), what.clone()));
        }
        let stream = format!("{group_arn}:log-stream:*");
        push(Need::new(Cause::IdentityPolicyDenied, "logs:CreateLogStream", stream.clone(), what.clone()));
        push(Need::new(Cause::IdentityPolicyDenied, "logs:PutLogEvents", stream, what));
    }
    for s in &e.secrets {
        let (action, resource, via) = match (&s.target, &s.secret, &s.parameter) {
            (SecretTarget::SecretsManager { .. }, Lookup::Found(meta), _) => (
                "secretsmanager:GetSecretValue",
                meta.arn.clone(),
                format!("secretsmanager.{}.amazonaws.com", s.region),
            ),
            (SecretTarget::Ssm { name, .. }, _, Lookup::Found(_)) => {
                ("ssm:GetParameters", ssm_parameter_arn(e, &s.region, name), format!("ssm.{}.amazonaws.com", s.region))
            }
            _ => continue,
        };
        push(Need::new(Cause::IdentityPolicyDenied, action, resource, secret_label(s)));
        if let Lookup::Found(key) = &s.key
            && key.key_manager.as_deref() != Some("AWS")
            && key.key_state.as_deref().is_none_or(|st| st == "Enabled")
        {
            let mut need = Need::new(Cause::KmsKeyUnusable, "kms:Decrypt", key.arn.clone(), secret_label(s));
            need.context = vec![
                ("kms:ViaService".to_string(), RawValue::One(via.clone())),
                ("kms:CallerAccount".to_string(), RawValue::One(e.account.clone())),
            ];
            need.key_policy = key.policy.clone();
            need.via = Some(via);
            push(need);
        }
    }
    needs
}

/// Disabled or deleted keys: no policy change helps.
fn kms_key_states(e: &TaskEvidence) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in &e.secrets {
        let Lookup::Found(key) = &s.key else { continue };
        let Some(state) = key.key_state.as_deref().filter(|st| *st != "Enabled") else { continue };
        if !seen.insert(key.arn.clone()) {
            continue;
        }
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
    }
    out
}

/// The layer that blocked a denied need, as the finding's cause and policy type.
fn blocked_layer(need: &Need, evaluation: &Evaluation) -> (Cause, PolicyType) {
    let blocked = |l: Layer| evaluation.blocked_by.contains(&l);
    let denied_by = |l: Layer| evaluation.deciding_statements.iter().any(|s| s.layer == l && s.effect == "Deny");
    // A key policy that neither names the role nor delegates to the account blocks whatever IAM says: fix it first.
    let key_refuses = evaluation
        .layer(Layer::Resource)
        .is_some_and(|l| matches!(l.decision, LayerDecision::ImplicitlyDenied | LayerDecision::ExplicitlyDenied));
    if need.action == "kms:Decrypt" && (key_refuses || blocked(Layer::Resource) || denied_by(Layer::Resource)) {
        (Cause::KmsKeyUnusable, PolicyType::Key)
    } else if blocked(Layer::Identity) || denied_by(Layer::Identity) {
        let cause = if need.cause == Cause::KmsKeyUnusable { Cause::IdentityPolicyDenied } else { need.cause };
        (cause, PolicyType::Identity)
    } else if blocked(Layer::PermissionsBoundary) || denied_by(Layer::PermissionsBoundary) {
        (Cause::PermissionsBoundaryDenied, PolicyType::PermissionsBoundary)
    } else if blocked(Layer::Resource) || denied_by(Layer::Resource) {
        (need.cause, PolicyType::Resource)
    } else {
        (need.cause, PolicyType::Identity)
    }
}

/// The execution role must be allowed (by its policies, its boundary, and the key or repository policy) every
/// call ECS makes for the task. Denied calls are grouped by the layer to change; each group gets one fix,
/// re-evaluated with the fix applied.
fn execution_role_permissions(e: &TaskEvidence) -> Vec<Finding> {
    let Some(role_arn) = e.task_definition.as_ref().and_then(|t| t.execution_role_arn.clone()) else {
        return Vec::new();
    };
    let Some(role) = e.role(Some(&role_arn)) else { return Vec::new() };
    let (base, complete) = role_policy_set(role);
    let session = execution_session(e, role);
    let mut refused: BTreeMap<(Cause, PolicyType, String), Vec<(Need, Evaluation)>> = BTreeMap::new();
    for need in execution_needs(e) {
        let evaluation = need.evaluate(&base, &session, None, None);
        if evaluation.decision == Decision::Allowed {
            continue;
        }
        let (cause, layer) = blocked_layer(&need, &evaluation);
        // Resource-side fixes are per resource (one key or repository policy each); identity fixes are one policy.
        let target = if layer == PolicyType::Identity || layer == PolicyType::PermissionsBoundary {
            String::new()
        } else {
            need.resource.clone()
        };
        refused.entry((cause, layer, target)).or_default().push((need, evaluation));
    }
    let mut out = Vec::new();
    for ((cause, layer, target), items) in refused {
        let actions: Vec<&str> = items.iter().map(|(n, _)| n.action).collect();
        let explicit = items.iter().any(|(_, ev)| ev.decision == Decision::ExplicitlyDenied);
        let mut f = match layer {
            PolicyType::Key => Finding::new(
                cause,
                format!(
                    "the execution role cannot decrypt {} with the KMS key `{target}`: {}",
                    items[0].0.what,
                    if explicit {
                        "a statement of the key policy denies it"
                    } else {
                        "the key policy neither names the role nor lets the account's IAM policies grant access"
                    }
                ),
            ),
            PolicyType::Resource => Finding::new(
                cause,
                format!("the repository policy of `{target}` does not let the execution role `{}` pull", role.name),
            ),
            _ => {
                let what = match cause {
                    Cause::ImagePullDenied => "pull the image from ECR",
                    _ => "do what ECS needs for this task",
                };
                let layer_text = match layer {
                    PolicyType::PermissionsBoundary => "its permissions boundary does not allow",
                    _ if explicit => "a statement explicitly denies",
                    _ => "none of its policies allows",
                };
                Finding::new(
                    cause,
                    format!(
                        "the execution role `{}` cannot {what}: {layer_text} {}",
                        role.name,
                        actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
            }
        };
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
            f.details
                .insert("note".into(), "some of the role's policies could not be read; they may allow this".into());
        }
        f.explanation = Some(Value::Array(
            items
                .iter()
                .map(|(n, ev)| json!({"action": n.action, "resource": n.resource, "evaluation": explanation(ev)}))
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
        let fix = match layer {
            PolicyType::Key => key_policy_fix(role, &items, &target, &base, &session),
            PolicyType::Resource => repository_policy_fix(role, &items, &target, &base, &session),
            _ => identity_fix(role, &role_arn, cause, layer, &items, explicit, &base, &session),
        };
        f.fixes.push(fix);
        out.push(f);
    }
    out
}

fn identity_document(items: &[(Need, Evaluation)]) -> Value {
    // One statement per resource, with every action it needs there.
    let mut by_resource: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (n, _) in items {
        by_resource.entry(n.resource.as_str()).or_default().push(n.action);
    }
    let statements: Vec<Value> = by_resource
        .iter()
        .map(|(resource, acts)| {
            let action = if acts.len() == 1 { json!(acts[0]) } else { json!(acts) };
            json!({"Effect": "Allow", "Action": action, "Resource": resource})
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

#[allow(clippy::too_many_arguments)]
fn identity_fix(
    role: &Role,
    role_arn: &str,
    cause: Cause,
    layer: PolicyType,
    items: &[(Need, Evaluation)],
    explicit: bool,
    base: &PolicySet,
    session: &str,
) -> Fix {
    let actions: Vec<&str> = items.iter().map(|(n, _)| n.action).collect();
    let document = identity_document(items);
    let mut fix = if layer == PolicyType::PermissionsBoundary {
        let mut fix = Fix::new(
            FixTarget::PermissionsBoundary,
            format!("allow {} in the permissions boundary of role `{}`", actions.join(", "), role.name),
        );
        fix.target_arn = role.permissions_boundary.as_ref().map(|b| b.arn.clone());
        fix.steps.push(
            "add these statements to the boundary policy (as a new default version), or attach a boundary that allows them"
                .into(),
        );
        fix
    } else {
        let mut fix = Fix::new(
            FixTarget::IdentityPolicy,
            format!("allow {} to the execution role `{}`", actions.join(", "), role.name),
        );
        fix.target_arn = Some(role_arn.to_string());
        let policy_name = if cause == Cause::ImagePullDenied { "ecs-image-pull" } else { "ecs-task-execution" };
        fix.commands.push(format!(
            "aws iam put-role-policy --role-name {} --policy-name {policy_name} --policy-document {}",
            role.name,
            shell_json(&document)
        ));
        if explicit {
            fix.steps
                .push("remove or narrow the statement that explicitly denies these actions (see explanation)".into());
        }
        fix
    };
    if layer == PolicyType::Identity
        && let Ok(added) = Policy::parse("proposed fix", &document, PolicyKind::Identity)
    {
        let after: Vec<Evaluation> = items.iter().map(|(n, _)| n.evaluate(base, session, Some(&added), None)).collect();
        set_verified(&mut fix, &after);
    }
    fix.document = Some(document);
    fix
}

fn key_policy_fix(role: &Role, items: &[(Need, Evaluation)], key_arn: &str, base: &PolicySet, session: &str) -> Fix {
    let need = &items[0].0;
    let via = need.via.clone().unwrap_or_default();
    let statement = json!({
        "Sid": "AllowEcsExecutionRoleDecrypt",
        "Effect": "Allow",
        "Principal": {"AWS": role.arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": via}},
    });
    let document = with_statement(need.key_policy.as_ref(), statement);
    let key_id = key_arn.rsplit('/').next().unwrap_or(key_arn);
    let mut fix = Fix::new(
        FixTarget::KeyPolicy,
        format!("let the execution role `{}` decrypt with key `{key_id}` via {via}", role.name),
    );
    fix.target_arn = Some(key_arn.to_string());
    fix.commands.push(format!(
        "aws kms put-key-policy --key-id {key_arn} --policy-name default --policy {}",
        shell_json(&document)
    ));
    if items.iter().any(|(_, ev)| ev.decision == Decision::ExplicitlyDenied) {
        fix.steps.push("remove or narrow the key policy statement that denies `kms:Decrypt` to the role".into());
    }
    let after: Vec<Evaluation> = items.iter().map(|(n, _)| n.evaluate(base, session, None, Some(&document))).collect();
    set_verified(&mut fix, &after);
    fix.document = Some(document);
    fix
}

fn repository_policy_fix(
    role: &Role,
    items: &[(Need, Evaluation)],
    repo_arn: &str,
    base: &PolicySet,
    session: &str,
) -> Fix {
    let need = &items[0].0;
    let statement = json!({
        "Sid": "AllowPullFromTaskExecutionRole",
        "Effect": "Allow",
        "Principal": {"AWS": role.arn},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
    });
    let document = with_statement(need.repository_policy.as_ref(), statement);
    let repository = repo_arn.split_once(":repository/").map_or(repo_arn, |(_, r)| r);
    let mut fix = Fix::new(FixTarget::ResourcePolicy, format!("let `{}` pull from `{repository}`", role.arn));
    fix.target_arn = Some(repo_arn.to_string());
    let parts: Vec<&str> = repo_arn.split(':').collect();
    let (region, registry) = (parts.get(3).copied().unwrap_or_default(), parts.get(4).copied().unwrap_or_default());
    fix.commands.push(format!(
        "aws ecr set-repository-policy --repository-name {repository} --region {region} --registry-id {registry} \
         --policy-text {}",
        shell_json(&document)
    ));
    let after: Vec<Evaluation> = items
        .iter()
        .map(|(n, _)| {
            let patched = Need { repository_policy: Some(document.clone()), ..n.clone() };
            patched.evaluate(base, session, None, None)
        })
        .collect();
    set_verified(&mut fix, &after);
    fix.document = Some(document);
    fix
}

/// Whether a CloudTrail record is a denied call.
pub fn is_denied_event(event: &TrailEvent) -> bool {
    event.error_code.as_deref().is_some_and(is_denied_error_code)
}

/// The IAM actions that authorize a CloudTrail record's call.
pub fn event_actions(event: &TrailEvent) -> Vec<String> {
    match (event.event_source.as_deref(), event.event_name.as_deref()) {
        (Some(source), Some(name)) => iam_actions_for_event(source, name),
        _ => Vec::new(),
    }
}

/// A CloudTrail record as evidence.
pub fn event_evidence(event: &TrailEvent) -> Evidence {
    let mut ev = Evidence::text(
        EvidenceSource::Cloudtrail,
        event.error_message.clone().unwrap_or_else(|| event.error_code.clone().unwrap_or_default()),
    );
    ev.event_id = event.event_id.clone();
    ev.time = event.event_time.clone();
    ev
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
        if !event_actions(event).iter().any(|action| actions.iter().any(|a| a.eq_ignore_ascii_case(action))) {
            continue;
        }
        let ev = event_evidence(event);
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
        AttachedPolicy, ContainerDefinition, ImageFacts, KmsKey, SecretMetadata, SecretRef, Task, TaskDefinition,
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
        assert_eq!(f.fixes[0].verified, Some(true), "{:?}", f.fixes[0].verification_note);
        assert!(crate::fix::check::problems(&f.fixes[0]).is_empty(), "{:?}", crate::fix::check::problems(&f.fixes[0]));
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
        let kms = found.iter().find(|f| f.cause == Cause::KmsKeyUnusable).unwrap_or_else(|| panic!("{found:#?}"));
        let doc = kms.fixes[0].document.as_ref().expect("key policy");
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(2));
        assert_eq!(doc["Statement"][1]["Principal"]["AWS"], "arn:aws:iam::111122223333:role/exec");
        assert_eq!(
            doc["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"],
            "secretsmanager.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn denial_the_facts_cannot_see_comes_from_cloudtrail() {
        let mut e = evidence();
        // The role may pull (so no fact finding), yet CloudTrail shows an SCP denying it.
        if let Some(Lookup::Found(role)) = e.roles.values_mut().next() {
            role.inline_policies
                .insert("ecr".into(), json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}));
        }
        let record = json!({
            "eventID": "e-1", "eventTime": "2026-01-01T00:00:00Z", "eventSource": "ecr.amazonaws.com",
            "eventName": "GetAuthorizationToken", "errorCode": "AccessDenied",
            "errorMessage": "User: arn:aws:sts::111122223333:assumed-role/exec/abc is not authorized to perform: ecr:GetAuthorizationToken on resource: * with an explicit deny in a service control policy",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/exec/abc",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/exec"}}}
        });
        e.trail_events.push(serde_json::from_value(record).expect("event"));
        let found = findings(&e);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].cause, Cause::ScpDenied);
        assert_eq!(found[0].role_kind, RoleKind::Execution);
        assert_eq!(found[0].role_session.as_deref(), Some("abc"));
    }
}
