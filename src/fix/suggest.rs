//! From a finding to the changes that resolve it: the right target (execution role, task role, caller, trust
//! policy, key policy, repository policy, network, task definition) and least-privilege statements.

use super::FixContext;
use super::arn::{self, Env};
use super::targets::{self, Identity, policy};
use crate::model::{Cause, Finding, Fix, FixTarget, PolicyType, RoleKind};
use crate::rules::text;
use serde_json::{Value, json};

/// The ECR actions a pull needs on the repository (GetAuthorizationToken is separate: it has no resource).
const ECR_PULL_ACTIONS: [&str; 3] =
    ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"];

/// Everything a suggestion needs, resolved once.
struct Facts<'a> {
    f: &'a Finding,
    ctx: &'a FixContext,
    env: Env,
}

impl<'a> Facts<'a> {
    fn new(f: &'a Finding, ctx: &'a FixContext) -> Self {
        let mut arns: Vec<&str> = Vec::new();
        arns.extend(ctx.execution_role_arn.as_deref());
        arns.extend(ctx.task_role_arn.as_deref());
        arns.extend(ctx.task_definition_arn.as_deref());
        arns.extend(ctx.cluster_arn.as_deref());
        arns.extend(f.principal.as_deref());
        arns.extend(f.resource.as_deref());
        arns.extend(f.details.values().map(String::as_str).filter(|v| v.starts_with("arn:")));
        // A registry host names the account and Region of an ECR image.
        let registry_arn = f
            .details
            .get("registry")
            .filter(|r| text::is_ecr_host(r))
            .map(|r| arn::ecr_repository_arn(Some(r), "x", &Env::resolve(None, None, None, [])));
        arns.extend(registry_arn.as_deref());
        let env = Env::resolve(ctx.partition.as_deref(), ctx.account_id.as_deref(), ctx.region.as_deref(), arns);
        Facts { f, ctx, env }
    }

    fn detail(&self, key: &str) -> Option<&str> {
        self.f.details.get(key).map(String::as_str)
    }

    /// The identity that made the failed call.
    fn actor(&self) -> Identity {
        let principal = self.f.principal.as_deref();
        match self.f.role_kind {
            RoleKind::Execution => match principal {
                Some(p) => Identity::of_principal(Some(p), "EXECUTION_ROLE_NAME"),
                None => Identity::role(self.ctx.execution_role_arn.clone(), "EXECUTION_ROLE_NAME"),
            },
            RoleKind::Task => match principal {
                Some(p) => Identity::of_principal(Some(p), "TASK_ROLE_NAME"),
                None => Identity::role(self.ctx.task_role_arn.clone(), "TASK_ROLE_NAME"),
            },
            RoleKind::Caller => {
                Identity::of_principal(principal.or(self.ctx.caller_principal.as_deref()), "CALLER_ROLE_NAME")
            }
            RoleKind::Unknown => Identity::of_principal(principal, "ROLE_NAME"),
        }
    }

    fn execution_role(&self) -> Identity {
        if self.f.role_kind == RoleKind::Execution {
            return self.actor();
        }
        Identity::role(self.ctx.execution_role_arn.clone(), "EXECUTION_ROLE_NAME")
    }

    fn role_arn_or_placeholder(&self, who: &Identity) -> String {
        who.arn
            .clone()
            .unwrap_or_else(|| format!("arn:{}:iam::{}:role/{}", self.env.partition, self.env.account, who.name))
    }

    fn repository_arn(&self) -> Option<String> {
        if let Some(r) = self.detail("repository_arn").or(self.ctx.ecr_repository_arn.as_deref()) {
            return Some(arn::concrete(r, &self.env));
        }
        let repo = self.detail("repository")?;
        let registry = self.detail("registry");
        if registry.is_some_and(|r| !text::is_ecr_host(r)) {
            return None;
        }
        Some(arn::ecr_repository_arn(registry, repo, &self.env))
    }

    fn is_ecr(&self) -> bool {
        match self.detail("registry") {
            Some(r) => text::is_ecr_host(r),
            None => {
                self.detail("repository_arn").is_some()
                    || self.f.action.as_deref().is_some_and(|a| a.starts_with("ecr:"))
            }
        }
    }

    fn note_placeholders(&self, fix: &mut Fix) {
        if !self.env.complete {
            fix.verification_note = Some(format!(
                "replace the placeholders ({}, {}) with the task's account and Region",
                arn::ACCOUNT_PLACEHOLDER,
                arn::REGION_PLACEHOLDER
            ));
        }
    }
}

fn allow(actions: &[&str], resource: Value) -> Value {
    let action = if actions.len() == 1 { json!(actions[0]) } else { json!(actions) };
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

/// The policy name for a fix: stable, readable, and unique per action.
fn policy_name(action: &str) -> String {
    format!("why-task-failed-{}", action.replace(':', "-").replace('*', "all"))
}

/// The least-privilege resource for `action`, from the denied resource and the finding's details.
fn resource_for(action: &str, facts: &Facts) -> Value {
    let env = &facts.env;
    let denied = facts.f.resource.as_deref().filter(|r| *r != "*" && r.starts_with("arn:"));
    let service = action.split(':').next().unwrap_or("");
    let placeholder =
        |kind: &str, id: &str| format!("arn:{}:{service}:{}:{}:{kind}{id}", env.partition, env.region, env.account);
    let resource = match (service, action) {
        ("ecr", "ecr:GetAuthorizationToken") => "*".to_string(),
        ("ecr", _) => denied
            .map(|r| arn::concrete(r, env))
            .or_else(|| facts.repository_arn())
            .unwrap_or_else(|| placeholder("repository/", "REPOSITORY")),
        ("secretsmanager", _) => denied
            .or(facts.detail("secret_arn"))
            .map(|s| arn::secret_arn(s, env))
            .unwrap_or_else(|| placeholder("secret:", "SECRET_NAME-??????")),
        ("ssm", _) => denied
            .map(|r| arn::concrete(r, env))
            .or_else(|| facts.detail("parameter").map(|p| arn::parameter_arn(p, env)))
            .unwrap_or_else(|| placeholder("parameter/", "PARAMETER_NAME")),
        ("logs", _) => {
            let group = denied
                .and_then(text::log_group_of_arn)
                .or_else(|| facts.detail("log_group").map(str::to_string))
                .unwrap_or_else(|| "LOG_GROUP_NAME".into());
            if matches!(action, "logs:CreateLogStream" | "logs:PutLogEvents") {
                arn::log_streams_arn(&group, env)
            } else {
                arn::log_group_arn(&group, env)
            }
        }
        ("kms", _) => denied
            .or(facts.detail("kms_key_arn"))
            .or(facts.ctx.kms_key_arn.as_deref())
            .map(|k| arn::concrete(k, env))
            .unwrap_or_else(|| placeholder("key/", "KEY_ID")),
        // Actions without resource-level scoping only work with `*`.
        _ if crate::iamdata::action(action).is_some_and(|a| !a.supports_resource_scoping()) => "*".to_string(),
        _ => match facts.f.resource.as_deref() {
            Some(r) if r.starts_with("arn:") => arn::concrete(r, env),
            _ => "*".to_string(),
        },
    };
    json!(resource)
}

/// The statements a denied action needs. ECR and CloudWatch Logs steps need their sibling actions too, or the next
/// call of the same step fails.
fn statements_for(action: &str, facts: &Facts) -> Vec<Value> {
    let is_ecs_step = facts.f.role_kind == RoleKind::Execution;
    if is_ecs_step && (action == "ecr:GetAuthorizationToken" || ECR_PULL_ACTIONS.contains(&action)) {
        let repo = resource_for("ecr:BatchGetImage", facts);
        return vec![allow(&["ecr:GetAuthorizationToken"], json!("*")), allow(&ECR_PULL_ACTIONS, repo)];
    }
    if is_ecs_step && matches!(action, "logs:CreateLogStream" | "logs:PutLogEvents" | "logs:CreateLogGroup") {
        // The awslogs driver creates the stream and writes to it; with awslogs-create-group it also creates the group.
        let streams = allow(&["logs:CreateLogStream", "logs:PutLogEvents"], resource_for("logs:PutLogEvents", facts));
        if action == "logs:CreateLogGroup" {
            return vec![allow(&["logs:CreateLogGroup"], resource_for(action, facts)), streams];
        }
        return vec![streams];
    }
    vec![allow(&[action], resource_for(action, facts))]
}

pub fn suggest(f: &Finding, ctx: &FixContext) -> Vec<Fix> {
    let facts = Facts::new(f, ctx);
    // An explicit Deny is never fixed by adding an Allow: the Deny itself has to change.
    let explicit = f.details.get("decision").is_some_and(|d| d == "explicit-deny");
    let mut fixes = decode_first(&facts);
    fixes.extend(match f.cause {
        Cause::IdentityPolicyDenied | Cause::PassroleDenied if explicit => identity_deny(&facts),
        Cause::IdentityPolicyDenied | Cause::AccessDeniedUnattributed => identity_fixes(&facts),
        Cause::PermissionsBoundaryDenied => boundary(&facts),
        Cause::ResourcePolicyDenied => resource_policy(&facts),
        Cause::ScpDenied | Cause::RcpDenied => organization_policy(&facts),
        Cause::SessionPolicyDenied => vec![targets::steps(
            FixTarget::Other,
            "widen the session policy passed when the role was assumed",
            &["the AssumeRole / federation call passed a session policy that does not allow the action; pass one that does, or none".into()],
        )],
        Cause::VpcEndpointPolicyDenied => endpoint_policy(&facts),
        Cause::ExplicitDenyUnattributed => explicit_deny(&facts),
        Cause::TrustPolicyDenied => trust(&facts),
        Cause::PassroleDenied => passrole(&facts),
        Cause::KmsKeyUnusable => kms(&facts),
        Cause::ImagePullDenied => image_pull(&facts),
        Cause::RegistryAuthFailed => registry_auth(&facts),
        Cause::ImageNotFound => image_not_found(&facts),
        Cause::ImagePlatformMismatch => platform(&facts),
        Cause::RegistryRateLimited => rate_limit(&facts),
        Cause::NetworkUnreachable => network(&facts),
        Cause::SecretNotFound => secret_not_found(&facts),
        Cause::SsmParameterNotFound => parameter_not_found(&facts),
        Cause::InvalidSecretReference => invalid_secret_reference(&facts),
        Cause::LogGroupNotFound => log_group(&facts),
        Cause::RoleNotFound => role_not_found(&facts),
        Cause::ServiceLinkedRoleMissing => vec![service_linked_role()],
        Cause::InvalidTaskDefinition => task_definition(&facts),
        Cause::EfsMountFailed => efs(&facts),
        Cause::ContainerOutOfMemory => vec![memory(&facts)],
        Cause::EssentialContainerExited => vec![targets::steps(
            FixTarget::Other,
            "find why the essential container exited",
            &[
                "read the container's `reason` and `exitCode` (describe-tasks) and its log stream".into(),
                "exit code 137 is SIGKILL (often out of memory), 139 a segfault, 143 SIGTERM, 1 an application error".into(),
            ],
        )],
        Cause::HealthCheckFailed => vec![targets::steps(
            FixTarget::Other,
            "make the health check pass",
            &[
                "check the target group's health check path, port and success codes against the container".into(),
                "raise the service's healthCheckGracePeriodSeconds above the application's start time".into(),
                "allow the load balancer's security group to reach the container port".into(),
            ],
        )],
        Cause::SpotInterruption => vec![targets::steps(
            FixTarget::Other,
            "tolerate Spot interruptions",
            &[
                "handle SIGTERM and finish within stopTimeout (up to 120 s on Fargate)".into(),
                "keep a FARGATE base in the capacity provider strategy (e.g. base=1 on FARGATE, weight on FARGATE_SPOT)".into(),
            ],
        )],
        Cause::HostFailure => vec![host(&facts)],
        // Policy lints (`rules::policy_lints`) carry their own fixes.
        Cause::OverlyBroadResource
        | Cause::ExecutionRoleHasAppPermissions
        | Cause::TrustPolicyUnconditioned
        | Cause::ActionScopedToUnusableArn => Vec::new(),
        Cause::ScalingOrDeployment | Cause::Unknown => Vec::new(),
    });
    for fix in &mut fixes {
        let problems = super::check::problems(fix);
        if !problems.is_empty() {
            // Only an action the message itself names wrongly (a placeholder, a truncation) gets here.
            fix.verified = Some(false);
            fix.verification_note = Some(format!("check before applying: {}", problems.join("; ")));
        } else if fix.verification_note.is_none() && fix.document.is_some() {
            facts.note_placeholders(fix);
        }
    }
    fixes
}

fn identity_fixes(facts: &Facts) -> Vec<Fix> {
    let Some(action) = facts.f.action.clone() else {
        return vec![targets::steps(
            FixTarget::IdentityPolicy,
            "find the call that was denied",
            &["the message names no action; look up the denied call in CloudTrail (`why-task-failed trail`)".into()],
        )];
    };
    let who = facts.actor();
    let statements = statements_for(&action, facts);
    let resource = statements.last().and_then(|s| s["Resource"].as_str()).unwrap_or("*").to_string();
    let role_word = role_word(facts.f.role_kind);
    let mut fix = targets::identity_policy(
        &who,
        &policy_name(&action),
        format!("allow `{action}` on `{resource}` to {role_word}"),
        statements,
    );
    if facts.f.cause == Cause::AccessDeniedUnattributed {
        fix.verification_note = Some(
            "the message does not say which policy denied; if the role already allows this, look for a deny in a \
             permissions boundary, SCP, or the resource's policy"
                .into(),
        );
    }
    let mut fixes = vec![fix];
    if action == "ecr:BatchGetImage" || action == "ecr:GetDownloadUrlForLayer" {
        fixes.extend(cross_account_repository(facts, &who));
    }
    fixes
}

fn role_word(kind: RoleKind) -> &'static str {
    match kind {
        RoleKind::Execution => "the task execution role",
        RoleKind::Task => "the task role",
        RoleKind::Caller => "the caller",
        RoleKind::Unknown => "the principal",
    }
}

fn boundary(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.clone().unwrap_or_else(|| "ACTION".into());
    let statements = statements_for(&action, facts);
    let mut fix = targets::steps(
        FixTarget::PermissionsBoundary,
        format!("allow `{action}` in the permissions boundary of {}", facts.actor().name),
        &["add the statement to the boundary policy (a new default policy version); the identity policy must allow it too".into()],
    );
    fix.commands.push(format!(
        "aws iam get-role --role-name {} --query Role.PermissionsBoundary.PermissionsBoundaryArn --output text",
        facts.actor().name
    ));
    fix.commands.push("aws iam create-policy-version --policy-arn BOUNDARY_POLICY_ARN --policy-document file://boundary.json --set-as-default".into());
    fix.document = Some(policy(statements));
    vec![fix]
}

fn resource_policy(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.clone().unwrap_or_default();
    let who = facts.actor();
    let principal = facts
        .f
        .principal
        .as_deref()
        .and_then(super::role_arn_of_principal)
        .or_else(|| who.arn.clone())
        .unwrap_or_else(|| facts.role_arn_or_placeholder(&who));
    if action.starts_with("ecr:")
        && let Some(repo) = facts.repository_arn()
    {
        let mut actions: Vec<&str> = ECR_PULL_ACTIONS.to_vec();
        if !actions.contains(&action.as_str()) {
            actions = vec![action.as_str()];
        }
        let statement =
            json!({"Sid": "AllowPull", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions});
        return vec![targets::repository_policy_statement(
            &repo,
            format!("let `{principal}` pull from the repository"),
            statement,
        )];
    }
    if action.starts_with("kms:") {
        let key = resource_for(&action, facts);
        let statement = json!({"Sid": "AllowUseOfTheKey", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*"});
        return vec![targets::key_policy_statement(
            key.as_str().unwrap_or("KEY_ARN"),
            format!("let `{principal}` use the key"),
            statement,
        )];
    }
    let resource = resource_for(&action, facts);
    let statement = json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource});
    let mut fix = targets::steps(
        FixTarget::ResourcePolicy,
        format!("allow `{action}` to `{principal}` in the resource's policy"),
        &["add the statement to the resource-based policy of the resource (the owner's account)".into()],
    );
    fix.target_arn = resource.as_str().map(str::to_string);
    if action.starts_with("secretsmanager:") {
        fix.commands.push(format!(
            "aws secretsmanager get-resource-policy --secret-id {}   # merge, then put-resource-policy",
            resource.as_str().unwrap_or("SECRET_ARN")
        ));
    }
    fix.document = Some(policy(vec![statement]));
    vec![fix]
}

fn organization_policy(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.as_deref().unwrap_or("the action");
    let kind = if facts.f.cause == Cause::ScpDenied { "service control policy" } else { "resource control policy" };
    let named = facts.f.policy_arn.as_deref().map(|p| format!(" `{p}`")).unwrap_or_default();
    let mut fix = targets::steps(
        FixTarget::Scp,
        format!("have the organization's administrators exempt `{action}` in the {kind}{named}"),
        &[
            format!("the {kind} denies `{action}` for this account; no change inside the account can override it"),
            "ask for an exception (a condition on the principal or tag) or use an allowed alternative".into(),
        ],
    );
    if let Some(id) = facts.f.policy_arn.as_deref().and_then(|p| p.rsplit('/').next()) {
        fix.commands
            .push(format!("aws organizations describe-policy --policy-id {id}   # from the management account"));
    }
    vec![fix]
}

fn endpoint_policy(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.clone().unwrap_or_default();
    let resource = resource_for(&action, facts);
    let mut fix = targets::steps(
        FixTarget::VpcEndpointPolicy,
        format!("allow `{action}` through the VPC endpoint's policy"),
        &["the request went through an interface/gateway endpoint whose policy does not allow it".into()],
    );
    let statement = json!({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource});
    // CloudTrail names the endpoint the call went through (`vpcEndpointId`).
    let endpoint = facts.detail("vpc_endpoint_id");
    fix.target_arn = endpoint.map(str::to_string);
    fix.commands.push(format!(
        "aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --policy-document {}   # merge into the endpoint's current policy",
        endpoint.unwrap_or("VPC_ENDPOINT_ID"),
        super::render::shell_json(&policy(vec![statement.clone()]))
    ));
    fix.document = Some(policy(vec![statement]));
    vec![fix]
}

/// When AWS did not say which layer denied but handed over an encoded reason (EC2), decoding it comes first.
fn decode_first(facts: &Facts) -> Vec<Fix> {
    let unattributed = matches!(facts.f.cause, Cause::AccessDeniedUnattributed | Cause::ExplicitDenyUnattributed);
    match facts.detail("encoded_message") {
        Some(encoded) if unattributed => {
            let mut fix = targets::steps(
                FixTarget::Other,
                "decode the authorization failure message to see the deciding policy",
                &["the decoded message names the action, resource, and each policy's decision".into()],
            );
            fix.commands.push(format!("aws sts decode-authorization-message --encoded-message '{encoded}'"));
            vec![fix]
        }
        _ => Vec::new(),
    }
}

/// An explicit Deny in the principal's own policies: name where to look, since an added Allow cannot win.
fn identity_deny(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.as_deref().unwrap_or("the action");
    let on = facts.f.resource.as_deref().unwrap_or("the resource");
    let who = facts.actor();
    let (kind, flag) = if who.is_user { ("user", "user") } else { ("role", "role") };
    let mut fix = targets::steps(
        FixTarget::IdentityPolicy,
        format!("remove or narrow the Deny on `{action}` for {kind} `{}`", who.name),
        &[format!(
            "an Allow cannot override it: edit the Deny statement matching `{action}` on `{on}` in the policies attached to {kind} `{}`",
            who.name
        )],
    );
    fix.target_arn = facts.f.policy_arn.clone().or(who.arn.clone());
    if who.arn.is_some() {
        fix.commands.push(format!("aws iam list-attached-{flag}-policies --{flag}-name {}", who.name));
        fix.commands.push(format!("aws iam list-{flag}-policies --{flag}-name {}", who.name));
    }
    vec![fix]
}

fn explicit_deny(facts: &Facts) -> Vec<Fix> {
    let action = facts.f.action.as_deref().unwrap_or("the action");
    let on = facts.f.resource.as_deref().unwrap_or("the resource");
    vec![targets::steps(
        FixTarget::Other,
        format!("find and narrow the Deny that matches `{action}` on `{on}`"),
        &[
            "an explicit Deny wins over every Allow; look in the identity policies, the permissions boundary, the SCPs and the resource policy".into(),
            "`why-task-failed simulate` names the deciding statement when given the policies".into(),
        ],
    )]
}

fn ecs_trust_policy(env: &Env) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": format!("arn:{}:ecs:{}:{}:*", env.partition, env.region, env.account)},
                "StringEquals": {"aws:SourceAccount": env.account},
            },
        }],
    })
}

fn trust(facts: &Facts) -> Vec<Fix> {
    let role_arn = facts
        .detail("role_arn")
        .map(str::to_string)
        .or_else(|| facts.f.resource.clone().filter(|r| r.contains(":role/")))
        .or_else(|| facts.ctx.execution_role_arn.clone());
    let ecs = facts.detail("rule") == Some("iam.ecs-cannot-assume-role") || facts.f.principal.is_none();
    let role = Identity::role(role_arn.clone(), "ROLE_NAME");
    if ecs {
        let mut fixes = vec![targets::trust_policy(
            &role,
            "let ECS tasks (ecs-tasks.amazonaws.com) assume the role, from this account only".into(),
            ecs_trust_policy(&facts.env),
        )];
        let caller = Identity::of_principal(facts.ctx.caller_principal.as_deref(), "CALLER_ROLE_NAME");
        fixes.push(passrole_fix(facts, &caller, &facts.role_arn_or_placeholder(&role)));
        return fixes;
    }
    // A person or service assuming a role: its trust policy must name that principal.
    let principal = facts.f.principal.clone().unwrap_or_default();
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
    });
    let mut fix = targets::trust_policy(&role, format!("let `{principal}` assume the role"), document);
    fix.steps.push(
        "merge this statement into the role's existing trust policy (update-assume-role-policy replaces it)".into(),
    );
    vec![fix]
}

fn passrole_fix(facts: &Facts, caller: &Identity, role_arn: &str) -> Fix {
    let statement = json!({
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": role_arn,
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    });
    let _ = facts;
    targets::identity_policy(
        caller,
        "why-task-failed-iam-PassRole",
        format!("allow passing `{role_arn}` to ECS tasks"),
        vec![statement],
    )
}

fn passrole(facts: &Facts) -> Vec<Fix> {
    let caller = Identity::of_principal(
        facts.f.principal.as_deref().or(facts.ctx.caller_principal.as_deref()),
        "CALLER_ROLE_NAME",
    );
    let role = facts
        .f
        .resource
        .as_deref()
        .filter(|r| r.contains(":role/"))
        .map(|r| arn::concrete(r, &facts.env))
        .unwrap_or_else(|| facts.role_arn_or_placeholder(&facts.execution_role()));
    vec![passrole_fix(facts, &caller, &role)]
}

fn kms(facts: &Facts) -> Vec<Fix> {
    let env = &facts.env;
    let key = resource_for("kms:Decrypt", facts);
    let key_str = key.as_str().unwrap_or("KEY_ARN").to_string();
    if facts.f.summary.contains("disabled or pending deletion") {
        let mut fix = targets::steps(FixTarget::Other, "enable the KMS key (or cancel its deletion)", &[]);
        fix.target_arn = Some(key_str.clone());
        fix.commands.push(format!("aws kms cancel-key-deletion --key-id {key_str}   # if pending deletion"));
        fix.commands.push(format!("aws kms enable-key --key-id {key_str}"));
        return vec![fix];
    }
    let service = facts.detail("service").unwrap_or("secretsmanager");
    let via = format!("{service}.{}.amazonaws.com", env.region);
    let role = facts.actor();
    let statement = json!({
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_str,
        "Condition": {"StringEquals": {"kms:ViaService": via}},
    });
    let mut identity = targets::identity_policy(
        &role,
        "why-task-failed-kms-Decrypt",
        format!("allow `kms:Decrypt` on `{key_str}` through {service} to {}", role_word(facts.f.role_kind)),
        vec![statement],
    );
    if key_str.contains("KEY_ID") {
        let what = facts.detail("secret_arn").map(str::to_string).unwrap_or_else(|| "SECRET_ARN".into());
        identity.steps.push(format!(
            "find the key: aws secretsmanager describe-secret --secret-id {what} --query KmsKeyId (or aws ssm describe-parameters for a SecureString)"
        ));
    }
    let role_arn = facts.role_arn_or_placeholder(&role);
    let key_statement = json!({
        "Sid": "AllowEcsExecutionRoleDecrypt",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": via}},
    });
    let key_fix = targets::key_policy_statement(
        &key_str,
        "let the execution role decrypt with the key (key policy)".into(),
        key_statement,
    );
    // The layer the message blames comes first: "no resource-based policy allows" means the key policy.
    if facts.f.policy_type == Some(PolicyType::Resource) { vec![key_fix, identity] } else { vec![identity, key_fix] }
}

fn cross_account_repository(facts: &Facts, who: &Identity) -> Option<Fix> {
    let repo = facts.repository_arn()?;
    let repo_account = arn::account_of(&repo)?;
    let task_account = who.arn.as_deref().and_then(arn::account_of).or(facts.ctx.account_id.as_deref())?;
    if repo_account == task_account {
        return None;
    }
    let principal = facts.role_arn_or_placeholder(who);
    let statement = json!({"Sid": "AllowCrossAccountPull", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": ECR_PULL_ACTIONS});
    Some(targets::repository_policy_statement(
        &repo,
        format!("let `{principal}` (account {task_account}) pull from the repository in account {repo_account}"),
        statement,
    ))
}

fn image_pull(facts: &Facts) -> Vec<Fix> {
    if facts.detail("registry").is_some_and(|r| r == "public.ecr.aws") {
        let mut fix = targets::steps(
            FixTarget::Registry,
            "pull from ECR Public anonymously, or with a fresh token",
            &[
                "ECR Public needs no credentials: remove stale public.ecr.aws entries from the Docker config (docker logout public.ecr.aws)".into(),
                "check that the repository and tag are still public in the gallery, and that no proxy or egress filter answers 403".into(),
            ],
        );
        fix.commands.push("docker logout public.ecr.aws".into());
        return vec![fix];
    }
    if !facts.is_ecr() {
        return registry_auth(facts);
    }
    let who = facts.execution_role();
    let repo = facts.repository_arn().map(Value::String).unwrap_or_else(|| resource_for("ecr:BatchGetImage", facts));
    let statements = vec![allow(&["ecr:GetAuthorizationToken"], json!("*")), allow(&ECR_PULL_ACTIONS, repo.clone())];
    let mut fixes = vec![targets::identity_policy(
        &who,
        "why-task-failed-ecr-pull",
        format!("allow pulling `{}` to the task execution role", repo.as_str().unwrap_or("the repository")),
        statements,
    )];
    fixes.extend(cross_account_repository(facts, &who));
    fixes
}

fn registry_auth(facts: &Facts) -> Vec<Fix> {
    if facts.is_ecr() {
        let who = facts.execution_role();
        return vec![targets::identity_policy(
            &who,
            "why-task-failed-ecr-GetAuthorizationToken",
            "allow `ecr:GetAuthorizationToken` (it has no resource: `*`) to the task execution role".into(),
            vec![allow(&["ecr:GetAuthorizationToken"], json!("*"))],
        )];
    }
    let env = &facts.env;
    let secret = facts.detail("secret_arn").map(|s| arn::secret_arn(s, env)).unwrap_or_else(|| {
        format!(
            "arn:{}:secretsmanager:{}:{}:secret:REGISTRY_CREDENTIALS-??????",
            env.partition, env.region, env.account
        )
    });
    let registry = facts.detail("registry").unwrap_or("the registry");
    let mut fix = targets::identity_policy(
        &facts.execution_role(),
        "why-task-failed-registry-credentials",
        format!("let the execution role read the credentials for {registry}"),
        vec![allow(&["secretsmanager:GetSecretValue"], json!(secret))],
    );
    fix.steps.push(format!(
        "store {{\"username\":…,\"password\":…}} for {registry} in the secret and set the container's repositoryCredentials.credentialsParameter to its ARN"
    ));
    vec![fix]
}

fn image_not_found(facts: &Facts) -> Vec<Fix> {
    let image = facts.detail("image").unwrap_or("the image");
    let mut steps = vec![format!("make `{image}` exist, or point the container definition at a reference that does")];
    if facts.f.details.contains_key("note") {
        steps.push(
            "use the full registry URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG) for an ECR image".into(),
        );
    }
    if facts.detail("digest").is_some() {
        steps.push("a pinned digest whose tag was overwritten is gone: push a new image and redeploy so ECS resolves the tag again".into());
    }
    let mut fix =
        targets::steps(FixTarget::TaskDefinition, format!("use an image reference that exists (`{image}`)"), &steps);
    if let (true, Some(repo)) = (facts.is_ecr(), facts.detail("repository")) {
        let registry_id = facts.detail("registry").and_then(|r| r.split('.').next()).filter(|a| text::is_account_id(a));
        let reg = registry_id.map(|r| format!(" --registry-id {r}")).unwrap_or_default();
        let id = match (facts.detail("digest"), facts.detail("tag")) {
            (Some(d), _) => format!("imageDigest={d}"),
            (None, Some(t)) => format!("imageTag={t}"),
            (None, None) => "imageTag=latest".into(),
        };
        fix.commands.push(format!("aws ecr describe-images{reg} --repository-name {repo} --image-ids {id}"));
        fix.commands.push(format!("aws ecr list-images{reg} --repository-name {repo} --query 'imageIds[].imageTag'"));
    } else if image != "the image" {
        fix.commands.push(format!("docker manifest inspect {image}"));
    }
    vec![fix]
}

fn platform(facts: &Facts) -> Vec<Fix> {
    let image = facts.detail("image").unwrap_or("IMAGE");
    let arch = if facts.detail("platform").is_some_and(|p| p.contains("arm64")) { "X86_64" } else { "ARM64" };
    let mut fix = targets::task_definition(
        format!("run the task on the image's architecture, or build `{image}` for the task's"),
        &["either rebuild the image for linux/amd64 and linux/arm64, or set runtimePlatform to the architecture the image has".into()],
        json!({"runtimePlatform": {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"}}),
        format!("runtime_platform {{\n  cpu_architecture        = \"{arch}\"\n  operating_system_family = \"LINUX\"\n}}\n"),
        format!("RuntimePlatform:\n  CpuArchitecture: {arch}\n  OperatingSystemFamily: LINUX\n"),
    );
    fix.commands.insert(0, format!("docker buildx build --platform linux/amd64,linux/arm64 -t {image} --push ."));
    vec![fix]
}

fn rate_limit(facts: &Facts) -> Vec<Fix> {
    let env = &facts.env;
    let secret = format!(
        "arn:{}:secretsmanager:{}:{}:secret:ecr-pullthroughcache/docker-hub-??????",
        env.partition, env.region, env.account
    );
    let mut fix = targets::steps(
        FixTarget::Registry,
        "pull Docker Hub images through an ECR pull-through cache",
        &[
            "store Docker Hub credentials in a secret named ecr-pullthroughcache/docker-hub".into(),
            format!(
                "reference images as {}.dkr.ecr.{}.amazonaws.com/docker-hub/library/NAME:TAG (official images live under library/)",
                env.account, env.region
            ),
            "or authenticate the pulls: repositoryCredentials with a Docker Hub access token".into(),
        ],
    );
    fix.commands.push(format!(
        "aws ecr create-pull-through-cache-rule --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io --credential-arn {secret}"
    ));
    fix.terraform = Some(format!(
        "resource \"aws_ecr_pull_through_cache_rule\" \"docker_hub\" {{\n  ecr_repository_prefix = \"docker-hub\"\n  upstream_registry_url = \"registry-1.docker.io\"\n  credential_arn        = \"{secret}\"\n}}\n"
    ));
    fix.cloudformation = Some(format!(
        "DockerHubPullThroughCache:\n  Type: AWS::ECR::PullThroughCacheRule\n  Properties:\n    EcrRepositoryPrefix: docker-hub\n    UpstreamRegistryUrl: registry-1.docker.io\n    CredentialArn: \"{secret}\"\n"
    ));
    vec![fix]
}

/// The VPC endpoint services a step needs (interface endpoints, then the S3 gateway for ECR layers).
fn endpoint_services(service: &str) -> (Vec<&'static str>, bool) {
    match service {
        "ecr.api" | "ecr.dkr" => (vec!["ecr.api", "ecr.dkr"], true),
        "secretsmanager" => (vec!["secretsmanager"], false),
        "ssm" => (vec!["ssm"], false),
        "logs" => (vec!["logs"], false),
        "kms" => (vec!["kms"], false),
        "sts" => (vec!["sts"], false),
        "s3" => (vec![], true),
        // The step is not named: every endpoint a Fargate task may need before its container starts.
        "unknown" => (vec!["ecr.api", "ecr.dkr", "secretsmanager", "ssm", "logs"], true),
        _ => (vec![], false),
    }
}

fn network(facts: &Facts) -> Vec<Fix> {
    let env = &facts.env;
    let service = facts.detail("service").unwrap_or("unknown");
    let (interfaces, s3_gateway) = endpoint_services(service);
    let vpc = facts.ctx.vpc_id.as_deref().unwrap_or("VPC_ID");
    let subnets = if facts.ctx.subnets.is_empty() { "SUBNET_IDS".to_string() } else { facts.ctx.subnets.join(" ") };
    let sgs = if facts.ctx.security_groups.is_empty() {
        "TASK_SECURITY_GROUP_ID".to_string()
    } else {
        facts.ctx.security_groups.join(" ")
    };
    let first_sg = facts.ctx.security_groups.first().map(String::as_str).unwrap_or("TASK_SECURITY_GROUP_ID");
    let target = match service {
        "registry" => format!("the registry `{}`", facts.detail("registry").unwrap_or("?")),
        "unknown" => "the AWS endpoints the task needs (ECR, S3, Secrets Manager, SSM, CloudWatch Logs)".into(),
        s => format!("`{}`", env.endpoint_service(s)),
    };
    let mut steps = vec![
        format!("allow outbound TCP 443 from the task's security group ({first_sg}) to {target}"),
        "public subnet: run the task with assignPublicIp=ENABLED (the subnet's route table must point 0.0.0.0/0 to an internet gateway)".into(),
        "private subnet: route 0.0.0.0/0 to a NAT gateway, or add the VPC endpoints below".into(),
        "the VPC needs enableDnsSupport and enableDnsHostnames for the endpoints' private DNS".into(),
    ];
    if service == "registry" {
        steps.truncate(3);
        steps[2] = "private subnet: route 0.0.0.0/0 to a NAT gateway (a registry outside AWS has no VPC endpoint), or mirror the image to ECR".into();
    }
    let mut fix = targets::steps(FixTarget::Network, format!("give the task's subnet a path to {target}"), &steps);
    fix.commands.push(format!(
        "aws ec2 authorize-security-group-egress --group-id {first_sg} --ip-permissions IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges='[{{CidrIp=0.0.0.0/0}}]'"
    ));
    let mut tf = String::new();
    let mut cfn = String::new();
    for s in &interfaces {
        let name = env.endpoint_service(s);
        fix.commands.push(format!(
            "aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Interface --service-name {name} --subnet-ids {subnets} --security-group-ids {sgs} --private-dns-enabled"
        ));
        let id = super::render::identifier(s);
        tf.push_str(&format!(
            "resource \"aws_vpc_endpoint\" \"{id}\" {{\n  vpc_id              = \"{vpc}\"\n  service_name        = \"{name}\"\n  vpc_endpoint_type   = \"Interface\"\n  subnet_ids          = [\"{}\"]\n  security_group_ids  = [\"{}\"]\n  private_dns_enabled = true\n}}\n\n",
            subnets.replace(' ', "\", \""),
            sgs.replace(' ', "\", \"")
        ));
        cfn.push_str(&format!(
            "{}Endpoint:\n  Type: AWS::EC2::VPCEndpoint\n  Properties:\n    VpcId: \"{vpc}\"\n    ServiceName: \"{name}\"\n    VpcEndpointType: Interface\n    PrivateDnsEnabled: true\n    SubnetIds: [{}]\n    SecurityGroupIds: [{}]\n",
            super::render::logical_id(s),
            quoted_list(&subnets),
            quoted_list(&sgs)
        ));
    }
    if s3_gateway {
        let name = env.endpoint_service("s3");
        fix.commands.push(format!(
            "aws ec2 create-vpc-endpoint --vpc-id {vpc} --vpc-endpoint-type Gateway --service-name {name} --route-table-ids ROUTE_TABLE_IDS   # ECR layers are served from S3"
        ));
        tf.push_str(&format!(
            "resource \"aws_vpc_endpoint\" \"s3\" {{\n  vpc_id            = \"{vpc}\"\n  service_name      = \"{name}\"\n  vpc_endpoint_type = \"Gateway\"\n  route_table_ids   = [\"ROUTE_TABLE_IDS\"]\n}}\n"
        ));
        cfn.push_str(&format!(
            "S3GatewayEndpoint:\n  Type: AWS::EC2::VPCEndpoint\n  Properties:\n    VpcId: \"{vpc}\"\n    ServiceName: \"{name}\"\n    VpcEndpointType: Gateway\n    RouteTableIds: [\"ROUTE_TABLE_IDS\"]\n"
        ));
    }
    if !tf.is_empty() {
        fix.terraform = Some(tf.trim_end().to_string() + "\n");
        fix.cloudformation = Some(cfn);
    }
    vec![fix]
}

fn quoted_list(space_separated: &str) -> String {
    space_separated.split(' ').map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")
}

fn secret_not_found(facts: &Facts) -> Vec<Fix> {
    let secret = facts.detail("secret_arn").unwrap_or("SECRET_ARN");
    let mut fix = targets::steps(
        FixTarget::TaskDefinition,
        "reference a secret that exists, by its full ARN, in the task's Region",
        &[
            "copy the ARN (with its 6-character suffix) from the secret and use it as valueFrom".into(),
            "a secret scheduled for deletion can be restored with restore-secret".into(),
        ],
    );
    fix.commands.push(format!("aws secretsmanager describe-secret --secret-id {secret}"));
    fix.commands
        .push(format!("aws secretsmanager list-secrets --region {} --query 'SecretList[].ARN'", facts.env.region));
    vec![fix]
}

fn parameter_not_found(facts: &Facts) -> Vec<Fix> {
    let name = facts.detail("parameter").unwrap_or("PARAMETER_NAME");
    let mut fix = targets::steps(
        FixTarget::TaskDefinition,
        format!("create `{name}` or reference the parameter that exists"),
        &["a parameter in another Region or account must be referenced by its full ARN".into()],
    );
    fix.commands.push(format!(
        "aws ssm describe-parameters --parameter-filters Key=Name,Values={name} --region {}",
        facts.env.region
    ));
    vec![fix]
}

fn invalid_secret_reference(_facts: &Facts) -> Vec<Fix> {
    vec![targets::steps(
        FixTarget::TaskDefinition,
        "correct the secrets entry's valueFrom",
        &[
            "Secrets Manager: arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf[:JSON_KEY:VERSION_STAGE:VERSION_ID] (keep the trailing colons when skipping fields)".into(),
            "SSM: the parameter name (same Region) or its full ARN; names cannot start with aws or ssm".into(),
        ],
    )]
}

fn log_group(facts: &Facts) -> Vec<Fix> {
    let env = &facts.env;
    let group = facts.detail("log_group").unwrap_or("LOG_GROUP_NAME");
    let mut create = targets::steps(FixTarget::Other, format!("create the log group `{group}`"), &[]);
    create.commands.push(format!("aws logs create-log-group --log-group-name {group} --region {}", env.region));
    create.terraform = Some(format!(
        "resource \"aws_cloudwatch_log_group\" \"{}\" {{\n  name = \"{group}\"\n}}\n",
        super::render::identifier(group)
    ));
    create.cloudformation = Some(format!(
        "{}:\n  Type: AWS::Logs::LogGroup\n  Properties:\n    LogGroupName: \"{group}\"\n",
        super::render::logical_id(&format!("{group} log group"))
    ));
    let mut auto = targets::identity_policy(
        &facts.execution_role(),
        "why-task-failed-logs-CreateLogGroup",
        format!("or let the awslogs driver create `{group}` (awslogs-create-group=true) as the execution role"),
        vec![
            allow(&["logs:CreateLogGroup"], json!(arn::log_group_arn(group, env))),
            allow(&["logs:CreateLogStream", "logs:PutLogEvents"], json!(arn::log_streams_arn(group, env))),
        ],
    );
    auto.steps.push("set logConfiguration.options.awslogs-create-group to \"true\" in the container definition".into());
    vec![create, auto]
}

fn role_not_found(facts: &Facts) -> Vec<Fix> {
    let role = facts.detail("role_arn").unwrap_or("ROLE_ARN");
    let mut fix = targets::steps(
        FixTarget::TaskDefinition,
        "point the task definition at an existing role that trusts ecs-tasks.amazonaws.com",
        &["check taskRoleArn and executionRoleArn for typos and deleted roles".into()],
    );
    if let Some(name) = super::role_name_of_arn(role) {
        fix.commands.push(format!("aws iam get-role --role-name {name} --query Role.AssumeRolePolicyDocument"));
    }
    vec![fix]
}

fn service_linked_role() -> Fix {
    let mut fix = targets::steps(FixTarget::Other, "create the ECS service-linked role", &[]);
    fix.commands.push("aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com".into());
    fix.terraform = Some(
        "resource \"aws_iam_service_linked_role\" \"ecs\" {\n  aws_service_name = \"ecs.amazonaws.com\"\n}\n".into(),
    );
    fix.cloudformation =
        Some("EcsServiceLinkedRole:\n  Type: AWS::IAM::ServiceLinkedRole\n  Properties:\n    AWSServiceName: ecs.amazonaws.com\n".into());
    fix
}

fn task_definition(facts: &Facts) -> Vec<Fix> {
    match facts.detail("rule") {
        Some("taskdef.fargate-cpu-memory") => vec![targets::task_definition(
            "use a CPU/memory pair Fargate supports",
            &[
                "256 CPU: 512, 1024 or 2048 MiB; 512: 1-4 GiB; 1024: 2-8 GiB; 2048: 4-16 GiB; 4096: 8-30 GiB (1 GiB steps)".into(),
                "8192: 16-60 GiB (4 GiB steps); 16384: 32-120 GiB (8 GiB steps)".into(),
            ],
            json!({"cpu": "1024", "memory": "2048"}),
            "cpu    = 1024\nmemory = 2048\n".into(),
            "Cpu: \"1024\"\nMemory: \"2048\"\n".into(),
        )],
        Some("taskdef.execution-role-required") => {
            let role = facts.role_arn_or_placeholder(&facts.execution_role());
            vec![targets::task_definition(
                "name an execution role in the task definition",
                &["the role needs the AmazonECSTaskExecutionRolePolicy managed policy and the secrets it reads".into()],
                json!({"executionRoleArn": role}),
                format!("execution_role_arn = \"{role}\"\n"),
                format!("ExecutionRoleArn: \"{role}\"\n"),
            )]
        }
        Some("taskdef.network-mode") => vec![targets::task_definition(
            "use the awsvpc network mode",
            &["pass subnets and security groups in networkConfiguration.awsvpcConfiguration when running the task".into()],
            json!({"networkMode": "awsvpc"}),
            "network_mode = \"awsvpc\"\n".into(),
            "NetworkMode: awsvpc\n".into(),
        )],
        Some("taskdef.client-exception") => vec![targets::steps(
            FixTarget::TaskDefinition,
            "correct the value ECS rejected",
            &["the message names the parameter; check it against the task definition parameters reference".into()],
        )],
        _ => vec![targets::task_definition(
            "set a command / entry point that exists in the image",
            &["run the image locally with the same command; check the image's ENTRYPOINT and the script's #! line".into()],
            json!({"containerDefinitions": [{"name": "CONTAINER", "entryPoint": ["/path/in/image"], "command": ["ARG"]}]}),
            "# in container_definitions (jsonencode):\nentryPoint = [\"/path/in/image\"]\ncommand    = [\"ARG\"]\n".into(),
            "# in the ContainerDefinitions entry:\nEntryPoint: [\"/path/in/image\"]\nCommand: [\"ARG\"]\n".into(),
        )],
    }
}

fn efs(facts: &Facts) -> Vec<Fix> {
    let fs = facts.detail("file_system_id").unwrap_or("FILE_SYSTEM_ID");
    let task_sg = facts.ctx.security_groups.first().map(String::as_str).unwrap_or("TASK_SECURITY_GROUP_ID");
    let mut network = targets::steps(
        FixTarget::Network,
        format!("let the task reach `{fs}` over NFS (TCP 2049)"),
        &[
            "allow inbound TCP 2049 on the mount targets' security group from the task's security group".into(),
            "create a mount target in every Availability Zone the task's subnets use".into(),
            "enable DNS hostnames and DNS resolution on the VPC (efs-utils resolves fs-….efs.REGION.amazonaws.com)"
                .into(),
        ],
    );
    network.commands.push(format!("aws efs describe-mount-targets --file-system-id {fs} --query 'MountTargets[].[AvailabilityZoneName,MountTargetId]'"));
    network.commands.push(format!(
        "aws ec2 authorize-security-group-ingress --group-id MOUNT_TARGET_SECURITY_GROUP_ID --protocol tcp --port 2049 --source-group {task_sg}"
    ));
    network
        .commands
        .push("aws ec2 modify-vpc-attribute --vpc-id VPC_ID --enable-dns-hostnames '{\"Value\":true}'".into());
    let mut fixes = vec![];
    if facts.f.summary.contains("no such directory") {
        let mut ap = targets::task_definition(
            "mount through an access point that creates the directory",
            &["an access point with a root directory and creation info creates the path on first use".into()],
            json!({"efsVolumeConfiguration": {"fileSystemId": fs, "transitEncryption": "ENABLED", "authorizationConfig": {"accessPointId": "ACCESS_POINT_ID", "iam": "ENABLED"}}}),
            format!(
                "efs_volume_configuration {{\n  file_system_id     = \"{fs}\"\n  transit_encryption = \"ENABLED\"\n  authorization_config {{\n    access_point_id = \"ACCESS_POINT_ID\"\n    iam             = \"ENABLED\"\n  }}\n}}\n"
            ),
            format!(
                "EFSVolumeConfiguration:\n  FilesystemId: \"{fs}\"\n  TransitEncryption: ENABLED\n  AuthorizationConfig:\n    AccessPointId: ACCESS_POINT_ID\n    IAM: ENABLED\n"
            ),
        );
        ap.commands.insert(0, format!(
            "aws efs create-access-point --file-system-id {fs} --posix-user Uid=1000,Gid=1000 --root-directory 'Path=/DIRECTORY,CreationInfo={{OwnerUid=1000,OwnerGid=1000,Permissions=755}}'"
        ));
        fixes.push(ap);
    } else if facts.f.role_kind == RoleKind::Task {
        let env = &facts.env;
        let fs_arn = facts.detail("file_system_arn").map(str::to_string).unwrap_or_else(|| {
            format!("arn:{}:elasticfilesystem:{}:{}:file-system/{fs}", env.partition, env.region, env.account)
        });
        fixes.push(targets::identity_policy(
            &Identity::role(facts.ctx.task_role_arn.clone(), "TASK_ROLE_NAME"),
            "why-task-failed-efs-mount",
            format!("allow mounting `{fs}` to the task role (IAM authorization)"),
            vec![allow(&["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], json!(fs_arn))],
        ));
    } else {
        fixes.push(network);
    }
    fixes
}

fn host(facts: &Facts) -> Fix {
    let (title, steps): (&str, &[&str]) = match facts.detail("rule") {
        Some("runtime.no-capacity") => (
            "add capacity, or ask for less",
            &[
                "scale the cluster's capacity provider / Auto Scaling group, or use an instance type with more CPU, memory or ENIs",
                "or lower the task's cpu/memory reservations; with awsvpc on EC2, enable ENI trunking for more tasks per instance",
            ],
        ),
        Some("runtime.host-disk-full") => (
            "free the storage images are unpacked to",
            &[
                "Fargate: raise the task definition's ephemeralStorage.sizeInGiB (21-200) above the image's unpacked size",
                "prune unused images and stopped containers; cap json-file logs with log-opts max-size",
                "enlarge the data volume, or shorten ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION / ECS_IMAGE_CLEANUP_INTERVAL",
            ],
        ),
        Some("runtime.agent-timeout") | Some("runtime.cannot-start") => (
            "replace the unhealthy container instance",
            &[
                "drain the instance (update-container-instances-state --status DRAINING) and let the ASG replace it",
                "check the instance's load (disk I/O, too many containers) and the ECS agent / Docker logs in /var/log/ecs",
            ],
        ),
        _ => (
            "run the service so one host does not stop it",
            &[
                "spread the service over several instances and Availability Zones",
                "on scale-in use managed termination protection and instance draining",
            ],
        ),
    };
    let mut fix = targets::steps(FixTarget::Other, title, &steps.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    if let Some(id) = facts.detail("instance_id") {
        fix.target_arn = Some(id.to_string());
    }
    fix
}

fn memory(facts: &Facts) -> Fix {
    let container = facts.detail("container").unwrap_or("CONTAINER");
    targets::task_definition(
        format!("give `{container}` more memory than its peak use"),
        &[
            "raise the container's memory (hard limit) and the task's memory; on Fargate pick the next supported size"
                .into(),
            "or cap the application (JVM -Xmx / MaxRAMPercentage, worker counts) below the limit".into(),
        ],
        json!({"containerDefinitions": [{"name": container, "memory": 2048}], "memory": "4096"}),
        "# task definition\nmemory = 4096\n# container_definitions (jsonencode): memory = 2048\n".into(),
        "Memory: \"4096\"\n# in the ContainerDefinitions entry:\nMemory: 2048\n".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EvidenceSource;
    use crate::rules::classify_text_with;

    fn ctx() -> FixContext {
        FixContext {
            account_id: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            execution_role_arn: Some("arn:aws:iam::111122223333:role/exec".into()),
            ..FixContext::default()
        }
    }

    #[test]
    fn ecr_pull_puts_get_authorization_token_on_star_and_layers_on_the_repository() {
        let f = &classify_text_with(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:v1: pulling from host 111122223333.dkr.ecr.eu-west-1.amazonaws.com failed with status code [manifests v1]: 403 Forbidden",
            EvidenceSource::StoppedReason,
            &ctx(),
        )[0];
        assert_eq!(f.cause, Cause::ImagePullDenied);
        let doc = f.fixes[0].document.as_ref().expect("document");
        assert_eq!(doc["Statement"][0]["Action"], "ecr:GetAuthorizationToken");
        assert_eq!(doc["Statement"][0]["Resource"], "*");
        assert_eq!(doc["Statement"][1]["Resource"], "arn:aws:ecr:eu-west-1:111122223333:repository/app");
        assert_eq!(f.fixes[0].target_arn.as_deref(), Some("arn:aws:iam::111122223333:role/exec"));
        assert_eq!(f.fixes.len(), 1, "same-account repository needs no repository policy");
    }

    #[test]
    fn cross_account_repository_gets_a_repository_policy() {
        let f = &classify_text_with(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/app:v1: 403 Forbidden",
            EvidenceSource::StoppedReason,
            &ctx(),
        )[0];
        let repo_fix = f.fixes.iter().find(|x| x.target == FixTarget::ResourcePolicy).expect("repository policy");
        assert_eq!(repo_fix.target_arn.as_deref(), Some("arn:aws:ecr:eu-west-1:444455556666:repository/shared/app"));
        let doc = repo_fix.document.as_ref().expect("doc");
        assert_eq!(doc["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111122223333:role/exec");
    }

    #[test]
    fn kms_fix_uses_via_service_and_the_key_policy() {
        let f = &classify_text_with(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf from secrets manager: AccessDeniedException: Access to KMS is not allowed status code: 400",
            EvidenceSource::StoppedReason,
            &FixContext {
                kms_key_arn: Some("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
                ..ctx()
            },
        )[0];
        assert_eq!(f.cause, Cause::KmsKeyUnusable);
        let doc = f.fixes[0].document.as_ref().expect("doc");
        assert_eq!(
            doc["Statement"][0]["Condition"]["StringEquals"]["kms:ViaService"],
            "secretsmanager.eu-west-1.amazonaws.com"
        );
        assert_eq!(f.fixes[1].target, FixTarget::KeyPolicy);
    }

    #[test]
    fn ecs_trust_policy_is_scoped_to_the_account() {
        let f = &classify_text_with(
            "service x failed to launch a task with (error ECS was unable to assume the role 'arn:aws:iam::111122223333:role/app' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.).",
            EvidenceSource::ServiceEvent,
            &ctx(),
        )[0];
        let trust = &f.fixes[0];
        assert_eq!(trust.target, FixTarget::TrustPolicy);
        let doc = trust.document.as_ref().expect("doc");
        assert_eq!(doc["Statement"][0]["Principal"]["Service"], "ecs-tasks.amazonaws.com");
        assert_eq!(doc["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"], "111122223333");
        assert_eq!(
            doc["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:ecs:eu-west-1:111122223333:*"
        );
        let pass = &f.fixes[1];
        assert_eq!(
            pass.document.as_ref().expect("doc")["Statement"][0]["Condition"]["StringEquals"]["iam:PassedToService"],
            "ecs-tasks.amazonaws.com"
        );
    }

    /// Every statement of every fix for every real text (shared samples and the rules' collection), with a
    /// complete context, validates against the IAM data.
    #[test]
    fn every_fix_statement_validates_against_the_iam_data() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/reasons");
        let mut checked = 0;
        let mut failures = Vec::new();
        for file in ["shared-real-error-messages.jsonl", "collection.jsonl"] {
            let body = std::fs::read_to_string(dir.join(file)).expect("samples");
            for line in body.lines().filter(|l| !l.trim().is_empty()) {
                let sample: Value = serde_json::from_str(line).expect("sample json");
                let text = sample["text"].as_str().expect("text");
                for f in classify_text_with(text, EvidenceSource::StoppedReason, &ctx()) {
                    for fix in &f.fixes {
                        checked += fix.document.is_some() as usize;
                        let problems = crate::fix::check::problems(fix);
                        // The message itself names a placeholder action (`<AWS_SERVICES:ACTION>`): nothing to validate.
                        let placeholder_action = f.action.as_deref().is_some_and(|a| a.contains('<'));
                        if !problems.is_empty() && !placeholder_action {
                            failures.push(format!("{}: {}: {problems:?}", f.cause, fix.title));
                        }
                    }
                }
            }
        }
        // Shapes the samples do not cover: permission fixes of every other family.
        for text in [
            "CannotPullContainerError: Error response from daemon: Get https://registry.example.com/v2/app/manifests/1: 401 Unauthorized",
            "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils command execution; code: 32",
            "ResourceInitializationError: failed to validate logger args: The specified log group does not exist. : exit status 1",
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf from secrets manager: AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/0123456789abcdef0123456789abcdef is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action",
            "User: arn:aws:sts::111122223333:assumed-role/exec/0123456789abcdef0123456789abcdef is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Decrypt action",
            "User: arn:aws:sts::111122223333:assumed-role/ci/job is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:eu-west-1:111122223333:task-definition/app:3 because no permissions boundary allows the ecs:RunTask action",
        ] {
            for f in classify_text_with(text, EvidenceSource::StoppedReason, &ctx()) {
                for fix in &f.fixes {
                    checked += fix.document.is_some() as usize;
                    let problems = crate::fix::check::problems(fix);
                    if !problems.is_empty() {
                        failures.push(format!("{}: {}: {problems:?}", f.cause, fix.title));
                    }
                }
            }
        }
        assert!(checked >= 35, "only {checked} policy documents checked");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn check_flags_wrong_shapes() {
        let mut fix = Fix::new(FixTarget::IdentityPolicy, "t");
        fix.document = Some(policy(vec![
            allow(&["ecr:BatchGetImage"], json!("*")),
            allow(&["secretsmanager:GetSecretValue"], json!("arn:aws:ssm:eu-west-1:111122223333:parameter/x")),
            allow(&["ecr:GetAuthorizationTokens"], json!("*")),
        ]));
        let problems = crate::fix::check::problems(&fix);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn network_fix_names_the_service_endpoint() {
        let f = &classify_text_with(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded",
            EvidenceSource::StoppedReason,
            &ctx(),
        )[0];
        assert_eq!(f.cause, Cause::NetworkUnreachable);
        assert_eq!(f.details.get("service").map(String::as_str), Some("ssm"));
        let fix = &f.fixes[0];
        assert!(
            fix.commands.iter().any(|c| c.contains("--service-name com.amazonaws.eu-west-1.ssm ")),
            "{:?}",
            fix.commands
        );
        assert!(fix.terraform.as_deref().is_some_and(|t| t.contains("com.amazonaws.eu-west-1.ssm")));
    }
}
