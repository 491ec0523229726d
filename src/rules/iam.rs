//! Roles, trust and PassRole, and every AccessDenied a stopped reason embeds. The IAM part of a denial is read by
//! the AccessDenied grammar (`denial`); this family adds the ECS context: which step failed, hence which role.

use super::{Rule, Scan, Stage, alternative, denial, text};
use crate::model::{Cause, Confidence, Finding, RoleKind, Severity};

pub(super) static ROLES: &[Rule] = &[
    Rule {
        id: "iam.ecs-cannot-assume-role",
        family: "iam",
        title: "ECS could not assume the task or execution role",
        cause: Cause::TrustPolicyDenied,
        yields: &[],
        patterns: &[r"(?i)ECS was unable to assume the role", r"(?i)unable to assume the role '"],
        extracts: &["role_arn"],
        explanation: "ECS assumes the task role and the execution role as the service principal \
                      ecs-tasks.amazonaws.com. The role's trust policy must allow that principal sts:AssumeRole \
                      (conditions on aws:SourceAccount / aws:SourceArn must match); the role must exist; and whoever \
                      runs the task must be allowed iam:PassRole on it.",
        fix: "Trust ecs-tasks.amazonaws.com in the role's trust policy (scoped with aws:SourceAccount and aws:SourceArn), \
              and allow the caller iam:PassRole on the role with iam:PassedToService = ecs-tasks.amazonaws.com.",
        generic: false,
        apply: cannot_assume,
    },
    Rule {
        id: "iam.service-linked-role-missing",
        family: "iam",
        title: "The ECS service-linked role does not exist",
        cause: Cause::ServiceLinkedRoleMissing,
        yields: &[],
        patterns: &[
            r"(?i)assume the service linked role",
            r"(?i)service[- ]linked role[^\n]{0,60}(?:exist|missing|not found)",
            r"(?i)AWSServiceRoleForECS",
        ],
        extracts: &[],
        explanation: "ECS uses the service-linked role AWSServiceRoleForECS to manage ENIs and load balancer \
                      targets. It is created with the first cluster; accounts set up by automation sometimes lack it.",
        fix: "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
        generic: false,
        apply: service_linked_role,
    },
    Rule {
        id: "iam.role-not-valid",
        family: "iam",
        title: "The role in the task definition does not exist or is not usable by ECS",
        cause: Cause::RoleNotFound,
        yields: &[],
        patterns: &[
            r"(?i)Role is not valid",
            r"(?i)role[^\n]{0,80}(?:does not exist|cannot be found)",
            r"(?i)NoSuchEntity[^\n]{0,80}role",
        ],
        extracts: &["role_arn"],
        explanation: "RegisterTaskDefinition and RunTask check that the taskRoleArn / executionRoleArn names an \
                      existing role that ECS can assume. A typo, a deleted role, or a role that does not trust \
                      ecs-tasks.amazonaws.com is reported this way.",
        fix: "Point the task definition at an existing role whose trust policy allows ecs-tasks.amazonaws.com.",
        generic: false,
        apply: role_not_valid,
    },
];

pub(super) static DENIED: &[Rule] = &[Rule {
    id: "iam.access-denied",
    family: "iam",
    title: "An AWS call was denied",
    cause: Cause::AccessDeniedUnattributed,
    yields: &[
        Cause::IdentityPolicyDenied,
        Cause::ResourcePolicyDenied,
        Cause::PermissionsBoundaryDenied,
        Cause::SessionPolicyDenied,
        Cause::ScpDenied,
        Cause::RcpDenied,
        Cause::VpcEndpointPolicyDenied,
        Cause::ExplicitDenyUnattributed,
        Cause::TrustPolicyDenied,
        Cause::PassroleDenied,
        Cause::KmsKeyUnusable,
    ],
    patterns: &[
        r"(?i)is not authorized to perform",
        r"(?i)(?:don't|doesn't|does not|do not) have permission to (?:call|perform)",
        r"\bAccessDenied(?:Exception)?\b",
        r"\bAccess Denied\b",
        r"UnauthorizedOperation",
    ],
    extracts: &[
        "principal",
        "action",
        "resource",
        "role_session",
        "policy_arn",
        "secret_arn",
        "parameter",
        "log_group",
    ],
    explanation: "The AccessDenied message names the principal, the action and the resource, and since 2021-2022 \
                  often the policy type that decided (and the policy ARN for explicit denies). Inside a stopped \
                  reason the step tells which role made the call: image pull, registry auth, secrets and log set-up \
                  run as the task execution role, never the task role.",
    fix: "Allow exactly the action on exactly the resource (with the ARN shape the action needs) on the role that \
          made the call; for resource-policy denials, in the resource's policy; for explicit denies, in the policy \
          the message names.",
    generic: false,
    apply: access_denied,
}];

fn cannot_assume(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let role = text::unassumable_role(scan.text);
    let what = role.as_deref().map(|r| format!("role `{r}`")).unwrap_or("the role".into());
    let mut f = scan.finding(
        rule,
        Cause::TrustPolicyDenied,
        Confidence::Medium,
        format!("ECS could not assume {what}: its trust policy does not allow ecs-tasks.amazonaws.com (or it does not exist)"),
    );
    if let Some(r) = role {
        f.resource = Some(r.clone());
        f.details.insert("role_arn".into(), r);
    }
    f.action = Some("sts:AssumeRole".into());
    f.role_kind = RoleKind::Unknown;
    f.alternatives.push(alternative(
        Cause::PassroleDenied,
        Confidence::Low,
        "the caller may lack iam:PassRole on the role (the message names both)",
    ));
    f.alternatives.push(alternative(
        Cause::RoleNotFound,
        Confidence::Low,
        "the role ARN may be wrong or the role deleted",
    ));
    Some(f)
}

fn service_linked_role(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::ServiceLinkedRoleMissing,
        Confidence::High,
        "the ECS service-linked role AWSServiceRoleForECS does not exist in this account".into(),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn role_not_valid(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::RoleNotFound,
        Confidence::Medium,
        "the task definition names a role that does not exist or that ECS cannot assume".into(),
    );
    f.role_kind = RoleKind::Unknown;
    f.alternatives.push(alternative(
        Cause::TrustPolicyDenied,
        Confidence::Low,
        "the role exists but its trust policy does not allow ecs-tasks.amazonaws.com",
    ));
    Some(f)
}

/// ECS sessions are named after the task id (32 hex digits).
fn is_task_session(session: &str) -> bool {
    session.len() == 32 && session.bytes().all(|b| b.is_ascii_hexdigit())
}

fn access_denied(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let ad = scan.denial.as_ref()?;
    let (mut cause, confidence) = denial::classify(ad);
    let action = ad.action.clone();
    let action_str = action.as_deref().unwrap_or("");
    if action_str.starts_with("kms:") && !matches!(cause, Cause::ScpDenied | Cause::RcpDenied) {
        cause = Cause::KmsKeyUnusable;
    }
    let ecs_session = ad.role_session.as_deref().is_some_and(is_task_session);
    let execution_named = ad.role_name.as_deref().is_some_and(|r| r.to_ascii_lowercase().contains("execution"));
    let ecs_step = scan.stage.is_some_and(|s| s != Stage::Efs) && (scan.from_ecs() || ecs_session);
    let role_kind = if action_str == "iam:PassRole" {
        RoleKind::Caller
    } else if execution_named || (ecs_step && (ad.principal.is_none() || ecs_session)) {
        RoleKind::Execution
    } else {
        RoleKind::Unknown
    };
    let who = match (&ad.role_name, &ad.principal) {
        (Some(role), _) => format!("role `{role}`"),
        (None, Some(p)) => format!("`{p}`"),
        (None, None) => "the caller".into(),
    };
    let who = match (role_kind, &ad.role_name) {
        (RoleKind::Execution, Some(_)) => format!("the task execution {who}"),
        (RoleKind::Execution, None) => "the task execution role".to_string(),
        _ => who,
    };
    let on = ad.resource.as_deref().map(|r| format!(" on `{r}`")).unwrap_or_default();
    let how = match cause {
        Cause::IdentityPolicyDenied => ": no identity-based policy allows it".to_string(),
        Cause::ResourcePolicyDenied => ": the resource's policy does not allow it".to_string(),
        Cause::PermissionsBoundaryDenied => ": the permissions boundary does not allow it".to_string(),
        Cause::SessionPolicyDenied => ": the session policy does not allow it".to_string(),
        Cause::ScpDenied => ": a service control policy denies it".to_string(),
        Cause::RcpDenied => ": a resource control policy denies it".to_string(),
        Cause::VpcEndpointPolicyDenied => ": the VPC endpoint policy does not allow it".to_string(),
        Cause::TrustPolicyDenied => ": the role's trust policy does not allow it".to_string(),
        Cause::ExplicitDenyUnattributed => ": an explicit deny decides".to_string(),
        _ => String::new(),
    };
    let verb = if action_str.is_empty() { "make the call".to_string() } else { format!("call `{action_str}`") };
    let mut f = scan.finding(rule, cause, confidence, format!("{who} may not {verb}{on}{how}"));
    f.principal = ad.principal.clone();
    f.role_session = ad.role_session.clone().or(f.role_session);
    f.action = action.clone();
    f.resource = ad.resource.clone();
    f.policy_type = ad.policy_type;
    f.policy_arn = ad.policy_arn.clone();
    f.role_kind = role_kind;
    if ecs_session && let Some(s) = &ad.role_session {
        f.details.entry("task_id".into()).or_insert_with(|| s.clone());
    }
    if let Some(r) = &ad.resource {
        if let Some(p) = text::parameter_name_of_arn(r) {
            f.details.insert("parameter".into(), p);
        }
        if let Some(g) = text::log_group_of_arn(r) {
            f.details.insert("log_group".into(), g);
        }
    }
    if let Some(m) = &ad.encoded_message {
        f.details.insert("encoded_message".into(), m.clone());
    }
    // Documented ambiguities: SSM and Secrets Manager answer AccessDenied for names the role may not read, so a
    // missing or misspelt name looks the same as a missing permission.
    match action_str {
        "ssm:GetParameters" | "ssm:GetParameter" => f.alternatives.push(alternative(
            Cause::SsmParameterNotFound,
            Confidence::Low,
            "the parameter may simply not exist (a policy scoped to existing names denies a misspelt one)",
        )),
        "secretsmanager:GetSecretValue" => f.alternatives.push(alternative(
            Cause::SecretNotFound,
            Confidence::Low,
            "the secret may not exist under that ARN (Secrets Manager answers AccessDenied before NotFound)",
        )),
        "ecr:BatchGetImage" | "ecr:GetDownloadUrlForLayer" if cause != Cause::ResourcePolicyDenied => {
            f.alternatives.push(alternative(
                Cause::ResourcePolicyDenied,
                Confidence::Low,
                "for a repository in another account, its repository policy must also allow the role",
            ))
        }
        _ => {}
    }
    if action_str == "iam:PassRole" {
        f.severity = Severity::Error;
    }
    Some(f)
}
