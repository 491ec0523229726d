//! The AccessDenied grammar: every wording AWS uses to say "denied", parsed into `AccessDenied`, classified
//! into a stable cause, and turned into a finding with a first fix.
//!
//! Wordings handled (AWS IAM User Guide, "Access denied error messages", plus texts seen in the wild):
//! - old form: `User: P is not authorized to perform: A on resource: R` (also without `User: `, or without
//!   the resource);
//! - reasoned forms: `… because no identity-based | resource-based | permissions boundary | session |
//!   service control | resource control | VPC endpoint | role trust policy allows the A action`, and
//!   `… with an explicit deny in a(n) <type> policy[: <policy-arn>]`;
//! - bare `Access Denied` (S3) and `AccessDenied…` codes inside longer texts;
//! - EC2's `You are not authorized to perform this operation. Encoded authorization failure message: …`;
//! - `User doesn't have permission to call A` (CloudFormation/SSM validation);
//! - KMS's `The ciphertext refers to a customer master key that does not exist, … or you are not allowed to access`.
//!
//! Any of these may be embedded in a longer ECS stopped reason or SDK error (`… status code: 400, request id: …`).

use crate::fix;
use crate::model::event::assumed_role_parts;
use crate::model::{AccessDenied, AlternativeCause, Cause, Confidence, Evidence, Finding, Fix, PolicyType, Severity};
use regex::Regex;
use std::sync::LazyLock;

static NOT_AUTHORIZED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:User: )?(?P<principal>[^\s\x22']+) is not authorized to perform:? (?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)",
    )
    .expect("static regex")
});
static NO_PERMISSION_TO_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:doesn't|does not|do not|don't) have permission to (?:call|perform) (?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)")
        .expect("static regex")
});
static BECAUSE_NO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)because no (?P<kind>[a-z -]*?(?:policy|policies|boundary)) (?:allows|allow)\b")
        .expect("static regex")
});
static EXPLICIT_DENY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)with an explicit deny(?: in (?:a|an) (?P<kind>[a-z -]*?(?:policy|boundary)))?(?:: (?P<arn>arn:[^\s\x22'\\]+))?(?:[\s.,;\x22'\\]|$)")
        .expect("static regex")
});
static ENCODED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Encoded authorization failure message: (?P<msg>[A-Za-z0-9_\-+/=]+)").expect("static regex")
});
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)access ?denied|not authorized to perform this operation|UnauthorizedOperation")
        .expect("static regex")
});
static KMS_CIPHERTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)ciphertext refers to a (?:customer master key|kms key) that does not exist.*not allowed to access")
        .expect("static regex")
});

/// Where a resource ARN written inside a longer text ends.
const RESOURCE_TERMINATORS: &[&str] = &[
    " because ",
    " with an explicit deny",
    " status code",
    "\n",
    "\r",
    "\"",
    "'",
    "\\",
    ". Encoded",
    " Encoded authorization",
    ", request id",
    " (Service:",
];

fn policy_type_of(kind: &str) -> Option<PolicyType> {
    let kind = kind.to_ascii_lowercase();
    let table: &[(&str, PolicyType)] = &[
        ("identity", PolicyType::Identity),
        ("resource-based", PolicyType::Resource),
        ("resource based", PolicyType::Resource),
        ("permissions boundar", PolicyType::PermissionsBoundary),
        ("session", PolicyType::Session),
        ("service control", PolicyType::Scp),
        ("resource control", PolicyType::Rcp),
        ("vpc endpoint", PolicyType::VpcEndpoint),
        ("trust", PolicyType::Trust),
        ("key policy", PolicyType::Key),
    ];
    table.iter().find(|(needle, _)| kind.contains(needle)).map(|(_, t)| *t)
}

/// Cuts a resource written inside a longer text at the first thing that cannot be part of it.
fn cut_resource(rest: &str) -> Option<String> {
    // Some services quote the resource: `on resource: "arn:aws:s3:::b/k" because …`.
    let rest = rest.trim_start_matches(['"', '\'', '`']);
    let mut end = rest.len();
    for t in RESOURCE_TERMINATORS {
        if let Some(i) = rest.find(t) {
            end = end.min(i);
        }
    }
    let candidate = rest[..end].split_whitespace().next()?;
    let trimmed = candidate.trim_end_matches(['.', ',', ';', ')']);
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

fn trim_arn(arn: &str) -> String {
    arn.trim_end_matches(['.', ',', ';', ')']).to_string()
}

/// Parses every known wording of an AWS authorization failure, also inside a longer text.
/// Returns `None` when the text does not say "denied" in any known way.
pub fn parse(message: &str) -> Option<AccessDenied> {
    let mut denied = AccessDenied::default();
    let mut recognised = false;
    let mut tail = message;
    if let Some(caps) = NOT_AUTHORIZED.captures(message) {
        recognised = true;
        let principal = &caps["principal"];
        denied.principal = Some(principal.to_string());
        if let Some((role, session)) = assumed_role_parts(principal) {
            denied.role_name = Some(role.to_string());
            denied.role_session = session.map(str::to_string);
        }
        denied.action = Some(caps["action"].to_string());
        let whole = caps.get(0).map_or(0, |m| m.end());
        tail = &message[whole..];
        if let Some(rest) = tail.strip_prefix(" on resource: ").or_else(|| tail.strip_prefix(" on resource ")) {
            denied.resource = cut_resource(rest);
        }
    } else if let Some(caps) = NO_PERMISSION_TO_CALL.captures(message) {
        recognised = true;
        denied.action = Some(caps["action"].to_string());
    }
    if let Some(caps) = BECAUSE_NO.captures(tail) {
        recognised = true;
        denied.explicit_deny = Some(false);
        denied.policy_type = policy_type_of(&caps["kind"]);
    } else if let Some(caps) = EXPLICIT_DENY.captures(tail) {
        recognised = true;
        denied.explicit_deny = Some(true);
        denied.policy_type = caps.name("kind").and_then(|k| policy_type_of(k.as_str()));
        denied.policy_arn = caps.name("arn").map(|a| trim_arn(a.as_str()));
    }
    if let Some(caps) = ENCODED.captures(message) {
        recognised = true;
        denied.encoded_message = Some(caps["msg"].to_string());
    }
    if !recognised && KMS_CIPHERTEXT.is_match(message) {
        recognised = true;
        denied.action = Some("kms:Decrypt".into());
        denied.policy_type = Some(PolicyType::Key);
    }
    if !recognised && BARE.is_match(message) {
        recognised = true;
    }
    recognised.then_some(denied)
}

/// The CloudTrail `errorCode` values that mean "not authorized". `errorCode` values are case-sensitive
/// identifiers; service-specific variants end in `AccessDenied…` (`KMS.AccessDeniedException`,
/// `Client.UnauthorizedOperation`, `AccessDeniedException`, `AccessDenied`).
pub fn is_denied_error_code(code: &str) -> bool {
    let code = code.trim();
    let base = code.rsplit('.').next().unwrap_or(code);
    matches!(
        base,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "UnauthorizedException"
            | "UnauthorizedAccess"
            | "NotAuthorized"
            | "NotAuthorizedException"
            | "AuthorizationError"
            | "AuthorizationErrorException"
            | "Forbidden"
            | "ForbiddenException"
            | "AccessDeniedFault"
    ) || base.starts_with("AccessDenied")
        || base.ends_with("AccessDeniedException")
}

fn is_assume_role(action: &str) -> bool {
    matches!(
        action.to_ascii_lowercase().as_str(),
        "sts:assumerole" | "sts:assumerolewithwebidentity" | "sts:assumerolewithsaml" | "sts:tagsession"
    )
}

fn is_kms(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("kms:")
}

fn is_passrole(action: &str) -> bool {
    action.eq_ignore_ascii_case("iam:PassRole")
}

/// Policy layer (or explicit deny) → cause id, with how sure the text alone makes us.
pub fn classify(denied: &AccessDenied) -> (Cause, Confidence) {
    let action = denied.action.as_deref().unwrap_or("");
    match denied.policy_type {
        Some(PolicyType::Trust) => (Cause::TrustPolicyDenied, Confidence::High),
        Some(PolicyType::Key) => (Cause::KmsKeyUnusable, Confidence::Medium),
        Some(PolicyType::Resource) if is_kms(action) => (Cause::KmsKeyUnusable, Confidence::High),
        Some(PolicyType::Identity) if is_passrole(action) => (Cause::PassroleDenied, Confidence::High),
        Some(PolicyType::Identity) => (Cause::IdentityPolicyDenied, Confidence::High),
        Some(PolicyType::Resource) => (Cause::ResourcePolicyDenied, Confidence::High),
        Some(PolicyType::PermissionsBoundary) => (Cause::PermissionsBoundaryDenied, Confidence::High),
        Some(PolicyType::Session) => (Cause::SessionPolicyDenied, Confidence::High),
        Some(PolicyType::Scp) => (Cause::ScpDenied, Confidence::High),
        Some(PolicyType::Rcp) => (Cause::RcpDenied, Confidence::High),
        Some(PolicyType::VpcEndpoint) => (Cause::VpcEndpointPolicyDenied, Confidence::High),
        None if denied.explicit_deny == Some(true) => (Cause::ExplicitDenyUnattributed, Confidence::High),
        // The old wording names no layer; for PassRole the caller's own policies are what grant it.
        None if is_passrole(action) => (Cause::PassroleDenied, Confidence::Medium),
        None if denied.action.is_some() => (Cause::AccessDeniedUnattributed, Confidence::Medium),
        None => (Cause::AccessDeniedUnattributed, Confidence::Low),
    }
}

/// Other causes the same text supports when it does not name the layer.
fn alternatives(cause: Cause, denied: &AccessDenied) -> Vec<AlternativeCause> {
    let action = denied.action.as_deref().unwrap_or("");
    let mut alts = Vec::new();
    let mut push =
        |cause, confidence, summary: &str| alts.push(AlternativeCause { cause, confidence, summary: summary.into() });
    match cause {
        Cause::AccessDeniedUnattributed if is_assume_role(action) => {
            push(
                Cause::TrustPolicyDenied,
                Confidence::Medium,
                "the target role's trust policy does not trust the caller",
            );
            push(
                Cause::IdentityPolicyDenied,
                Confidence::Medium,
                "the caller's policies do not allow sts:AssumeRole on the role",
            );
        }
        Cause::AccessDeniedUnattributed if is_kms(action) => {
            push(Cause::KmsKeyUnusable, Confidence::Medium, "the key policy (or a grant) does not allow the caller");
            push(Cause::IdentityPolicyDenied, Confidence::Medium, "no identity-based policy allows the KMS action");
        }
        Cause::AccessDeniedUnattributed if denied.action.is_some() => {
            push(
                Cause::IdentityPolicyDenied,
                Confidence::Medium,
                "most often: no identity-based policy allows the action",
            );
            if action.to_ascii_lowercase().starts_with("ecr:") {
                push(Cause::ImagePullDenied, Confidence::Medium, "the execution role cannot pull the image");
            }
            push(Cause::ResourcePolicyDenied, Confidence::Low, "a resource-based policy does not allow the caller");
            push(Cause::ScpDenied, Confidence::Low, "an organization policy (SCP) denies the action");
        }
        Cause::AccessDeniedUnattributed => {
            push(Cause::IdentityPolicyDenied, Confidence::Low, "no identity-based policy allows the call");
            push(Cause::ResourcePolicyDenied, Confidence::Low, "the resource's policy does not allow the caller");
        }
        Cause::ExplicitDenyUnattributed => {
            push(
                Cause::IdentityPolicyDenied,
                Confidence::Low,
                "a Deny statement in a policy attached to the principal",
            );
            push(Cause::ScpDenied, Confidence::Low, "a Deny statement in a service control policy");
            push(Cause::PermissionsBoundaryDenied, Confidence::Low, "a Deny statement in the permissions boundary");
        }
        _ => {}
    }
    alts
}

fn layer_phrase(denied: &AccessDenied) -> String {
    let layer = match denied.policy_type {
        Some(PolicyType::Identity) => "identity-based policy",
        Some(PolicyType::Resource) => "resource-based policy",
        Some(PolicyType::PermissionsBoundary) => "permissions boundary",
        Some(PolicyType::Session) => "session policy",
        Some(PolicyType::Scp) => "service control policy",
        Some(PolicyType::Rcp) => "resource control policy",
        Some(PolicyType::VpcEndpoint) => "VPC endpoint policy",
        Some(PolicyType::Trust) => "role trust policy",
        Some(PolicyType::Key) => "key policy",
        None => "",
    };
    match (denied.explicit_deny, layer) {
        (Some(true), "") => "an explicit deny (the message does not say in which policy)".into(),
        (Some(true), l) => match &denied.policy_arn {
            Some(arn) => format!("an explicit deny in the {l} `{arn}`"),
            None => format!("an explicit deny in a {l}"),
        },
        (_, "") if denied.encoded_message.is_some() => "an encoded reason (decode it to see which policy)".into(),
        (_, "") => "the message does not say which policy".into(),
        (_, l) if denied.policy_type == Some(PolicyType::Key) && denied.explicit_deny.is_none() => {
            format!("the KMS key does not exist or its {l} does not allow the caller")
        }
        (_, l) => format!("no {l} allows it"),
    }
}

fn summary(denied: &AccessDenied) -> String {
    let who = match (&denied.role_name, &denied.principal) {
        (Some(role), _) => format!("role `{role}`"),
        (None, Some(p)) => format!("`{p}`"),
        (None, None) => "the caller".into(),
    };
    let what = denied.action.as_deref().map(|a| format!("`{a}`")).unwrap_or("the call".into());
    let on = denied.resource.as_deref().map(|r| format!(" on `{r}`")).unwrap_or_default();
    format!("{who} was denied {what}{on}: {}", layer_phrase(denied))
}

/// A complete finding for one denial: cause, summary, evidence and first fix.
pub fn finding(denied: &AccessDenied, evidence: Evidence) -> Finding {
    let (cause, confidence) = classify(denied);
    let mut f = Finding::new(cause, summary(denied));
    f.severity = Severity::Error;
    f.confidence = confidence;
    f.principal = denied.principal.clone();
    f.role_session = denied.role_session.clone();
    f.action = denied.action.clone();
    f.resource = denied.resource.clone();
    f.policy_type = denied.policy_type;
    f.policy_arn = denied.policy_arn.clone();
    f.first_seen = evidence.time.clone();
    f.last_seen = evidence.time.clone();
    if let Some(explicit) = denied.explicit_deny {
        f.details.insert("decision".into(), if explicit { "explicit-deny" } else { "implicit-deny" }.into());
    }
    if let Some(encoded) = &denied.encoded_message {
        f.details.insert("encoded_message".into(), encoded.clone());
    }
    f.alternatives = alternatives(cause, denied);
    f.evidence.push(evidence);
    f.fixes = first_fixes(&f);
    f
}

/// The fixes for a denial, from the fix catalogue. The trail and `reason` paths share it, so one denial gets the
/// same fixes whichever way it reached the tool.
pub fn first_fixes(f: &Finding) -> Vec<Fix> {
    fix::suggest(f, &fix::FixContext::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EvidenceSource, FixTarget};

    fn parsed(text: &str) -> AccessDenied {
        parse(text).unwrap_or_else(|| panic!("not parsed: {text}"))
    }

    #[test]
    fn embedded_stopped_reason_stops_resource_before_because() {
        let d = parsed(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action status code: 400, request id: 0b1c",
        );
        assert_eq!(d.role_name.as_deref(), Some("ecsTaskExecutionRole"));
        assert_eq!(d.role_session.as_deref(), Some("8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b"));
        assert_eq!(d.action.as_deref(), Some("secretsmanager:GetSecretValue"));
        assert_eq!(d.resource.as_deref(), Some("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"));
        assert_eq!(d.policy_type, Some(PolicyType::Identity));
        assert_eq!(d.explicit_deny, Some(false));
        assert_eq!(classify(&d), (Cause::IdentityPolicyDenied, Confidence::High));
    }

    #[test]
    fn every_policy_layer_wording() {
        let cases = [
            (
                "because no resource-based policy allows the s3:GetObject action",
                PolicyType::Resource,
                false,
                Cause::ResourcePolicyDenied,
            ),
            (
                "because no permissions boundary allows the s3:GetObject action",
                PolicyType::PermissionsBoundary,
                false,
                Cause::PermissionsBoundaryDenied,
            ),
            (
                "because no session policy allows the s3:GetObject action",
                PolicyType::Session,
                false,
                Cause::SessionPolicyDenied,
            ),
            (
                "because no service control policy allows the s3:GetObject action",
                PolicyType::Scp,
                false,
                Cause::ScpDenied,
            ),
            (
                "because no resource control policy allows the s3:GetObject action",
                PolicyType::Rcp,
                false,
                Cause::RcpDenied,
            ),
            (
                "because no VPC endpoint policy allows the s3:GetObject action",
                PolicyType::VpcEndpoint,
                false,
                Cause::VpcEndpointPolicyDenied,
            ),
            (
                "with an explicit deny in an identity-based policy",
                PolicyType::Identity,
                true,
                Cause::IdentityPolicyDenied,
            ),
            (
                "with an explicit deny in a resource-based policy",
                PolicyType::Resource,
                true,
                Cause::ResourcePolicyDenied,
            ),
            (
                "with an explicit deny in a permissions boundary",
                PolicyType::PermissionsBoundary,
                true,
                Cause::PermissionsBoundaryDenied,
            ),
            ("with an explicit deny in a session policy", PolicyType::Session, true, Cause::SessionPolicyDenied),
            ("with an explicit deny in a resource control policy", PolicyType::Rcp, true, Cause::RcpDenied),
            (
                "with an explicit deny in a VPC endpoint policy",
                PolicyType::VpcEndpoint,
                true,
                Cause::VpcEndpointPolicyDenied,
            ),
        ];
        for (reason, layer, explicit, cause) in cases {
            let text = format!(
                "User: arn:aws:sts::111122223333:assumed-role/app/t1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bkt/key.txt {reason}"
            );
            let d = parsed(&text);
            assert_eq!(d.policy_type, Some(layer), "{reason}");
            assert_eq!(d.explicit_deny, Some(explicit), "{reason}");
            assert_eq!(d.resource.as_deref(), Some("arn:aws:s3:::bkt/key.txt"), "{reason}");
            assert_eq!(classify(&d).0, cause, "{reason}");
            let f = finding(&d, Evidence::text(EvidenceSource::Cloudtrail, text.clone()));
            assert_eq!(f.fixes.len(), 1, "{reason}");
        }
    }

    #[test]
    fn explicit_deny_with_policy_arn_and_trailing_punctuation() {
        let d = parsed(
            "An error occurred (AccessDenied) when calling the ListRoles operation: User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd.",
        );
        assert_eq!(d.policy_type, Some(PolicyType::Scp));
        assert_eq!(
            d.policy_arn.as_deref(),
            Some("arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd")
        );
        assert_eq!(d.resource.as_deref(), Some("arn:aws:iam::123456789012:role/*"));
        let f = finding(&d, Evidence::text(EvidenceSource::UserInput, "x"));
        assert_eq!(f.cause, Cause::ScpDenied);
        assert_eq!(f.fixes[0].target, FixTarget::Scp);
        assert!(f.fixes[0].commands[0].contains("--policy-id p-2kgnabcd"));
    }

    #[test]
    fn explicit_identity_deny_is_not_fixed_by_an_allow() {
        let d = parsed(
            "User: arn:aws:sts::111122223333:assumed-role/app-task/0c5d7e9f1a2b is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::exports/a.json with an explicit deny in an identity-based policy",
        );
        let f = finding(&d, Evidence::text(EvidenceSource::Cloudtrail, "x"));
        assert_eq!(f.cause, Cause::IdentityPolicyDenied);
        assert_eq!(f.fixes.len(), 1);
        assert_eq!(f.fixes[0].target, FixTarget::IdentityPolicy);
        assert!(f.fixes[0].title.starts_with("remove or narrow the Deny on `s3:PutObject`"), "{}", f.fixes[0].title);
        assert!(f.fixes[0].document.is_none(), "an Allow document would not help against a Deny");
        assert!(f.fixes[0].commands.iter().any(|c| c == "aws iam list-role-policies --role-name app-task"));
    }

    #[test]
    fn bare_and_encoded_forms() {
        let d = parsed("Access Denied");
        assert_eq!(d, AccessDenied::default());
        assert_eq!(classify(&d), (Cause::AccessDeniedUnattributed, Confidence::Low));
        let d =
            parsed("You are not authorized to perform this operation. Encoded authorization failure message: AbC-12_x");
        assert_eq!(d.encoded_message.as_deref(), Some("AbC-12_x"));
        let f = finding(&d, Evidence::text(EvidenceSource::Cloudtrail, "x"));
        assert!(f.fixes[0].commands[0].starts_with("aws sts decode-authorization-message"));
        assert!(parse("Task stopped at 10:00").is_none());
        assert!(parse("ResourceNotFoundException: Secrets Manager can't find the specified secret.").is_none());
    }

    #[test]
    fn trust_passrole_and_kms() {
        let d = parsed(
            "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: sts:AssumeRole because no role trust policy allows the sts:AssumeRole action",
        );
        assert_eq!(classify(&d).0, Cause::TrustPolicyDenied);
        assert_eq!(d.resource, None);
        let d = parsed(
            "User: arn:aws:sts::1:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::1:role/ecsTaskExecutionRole\n        status code: 400",
        );
        assert_eq!(d.resource.as_deref(), Some("arn:aws:iam::1:role/ecsTaskExecutionRole"));
        assert_eq!(classify(&d).0, Cause::PassroleDenied);
        let d = parsed(
            "User: arn:aws:sts::1:assumed-role/exec/t is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:1:key/abcd because no resource-based policy allows the kms:Decrypt action",
        );
        let f = finding(&d, Evidence::text(EvidenceSource::Cloudtrail, "x"));
        assert_eq!(f.cause, Cause::KmsKeyUnusable);
        assert_eq!(f.fixes[0].target, FixTarget::KeyPolicy);
        let d = parsed(
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        );
        assert_eq!(classify(&d).0, Cause::KmsKeyUnusable);
    }

    #[test]
    fn identity_fix_is_exact_allow() {
        let d = parsed(
            "User: arn:aws:sts::111122223333:assumed-role/exec/t1 is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream: because no identity-based policy allows the logs:CreateLogGroup action status code: 400, request id: f4",
        );
        assert_eq!(d.resource.as_deref(), Some("arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:"));
        let f = finding(&d, Evidence::text(EvidenceSource::StoppedReason, "x"));
        let doc = f.fixes[0].document.as_ref().expect("document");
        assert_eq!(doc["Statement"][0]["Action"], "logs:CreateLogGroup");
        assert_eq!(f.fixes[0].target_arn.as_deref(), Some("arn:aws:iam::111122223333:role/exec"));
    }

    #[test]
    fn denied_error_codes() {
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "Client.UnauthorizedOperation",
            "UnauthorizedOperation",
            "UnauthorizedException",
            "KMS.AccessDeniedException",
            "s3.AccessDenied",
            "AccessDeniedForDependencyException",
        ] {
            assert!(is_denied_error_code(code), "{code}");
        }
        for code in ["NoSuchKey", "ThrottlingException", "ResourceNotFoundException", "InvalidParameterValue", ""] {
            assert!(!is_denied_error_code(code), "{code}");
        }
    }
}

#[cfg(test)]
mod real_messages {
    use super::*;
    use serde_json::Value;

    /// Texts copied verbatim from public sources (see `samples/trail/messages/README.md`).
    const REAL: &str = include_str!("../../samples/trail/messages/real-error-messages.jsonl");

    #[test]
    fn real_access_denied_texts_parse_to_expected_action_resource_and_an_acceptable_cause() {
        let mut checked = 0;
        for line in REAL.lines().filter(|l| !l.trim().is_empty()) {
            let sample: Value = serde_json::from_str(line).expect("sample line is JSON");
            let text = sample["text"].as_str().expect("text");
            let is_denial = sample["kind"] == "access_denied"
                || sample["acceptable_causes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c == "access-denied-unattributed" || c == "passrole-denied"));
            if !is_denial {
                continue;
            }
            let denied = parse(text).unwrap_or_else(|| panic!("not parsed: {text}"));
            if let Some(action) = sample["expected_action"].as_str() {
                assert_eq!(denied.action.as_deref(), Some(action), "{text}");
            }
            if let Some(resource) = sample["expected_resource"].as_str() {
                assert_eq!(denied.resource.as_deref(), Some(resource), "{text}");
            }
            let (cause, _) = classify(&denied);
            let acceptable: Vec<&str> =
                sample["acceptable_causes"].as_array().expect("causes").iter().filter_map(Value::as_str).collect();
            // The Karpenter text names the SCP explicitly ("with an explicit deny in a service control policy");
            // the sample's list omits scp-denied, but the message itself supports only that reading.
            let scp_named = text.contains("explicit deny in a service control policy");
            assert!(acceptable.contains(&cause.id()) || (scp_named && cause == Cause::ScpDenied), "{cause} for {text}");
            checked += 1;
        }
        assert!(checked >= 12, "only {checked} denial samples checked");
    }
}
