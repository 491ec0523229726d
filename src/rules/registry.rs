//! Registries: rate limits and credentials (Docker Hub, private registries, ECR tokens).

use super::{Rule, Scan, alternative};
use crate::model::{Cause, Confidence, Finding, RoleKind};

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "registry.rate-limited",
        family: "registry",
        title: "The registry rate-limited the pull (Docker Hub `toomanyrequests`)",
        cause: Cause::RegistryRateLimited,
        yields: &[],
        patterns: &[r"(?i)toomanyrequests", r"(?i)pull rate limit", r"(?i)Too Many Requests", r"(?i)\b429 Too Many"],
        extracts: &["image", "registry"],
        explanation: "Docker Hub limits anonymous pulls per source IP (shared NAT gateways exhaust it quickly) and \
                      authenticated pulls per account.",
        fix: "Pull through an ECR pull-through cache rule (or mirror the image to ECR), or authenticate the pull with \
              `repositoryCredentials`.",
        generic: false,
        apply: rate_limited,
    },
    Rule {
        id: "registry.auth-failed",
        family: "registry",
        title: "The registry rejected the pull credentials",
        cause: Cause::RegistryAuthFailed,
        yields: &[],
        patterns: &[
            r"(?i)401 Unauthorized",
            r"(?i)no basic auth credentials",
            r"(?i)unauthorized: (?:authentication required|incorrect username or password|access to the requested resource is not authorized)",
            r"(?i)authorization token has expired",
        ],
        extracts: &["image", "registry"],
        explanation: "The registry did not accept the credentials: for a private registry the \
                      `repositoryCredentials` secret holds a wrong or expired username/password; for ECR the agent \
                      had no valid token (ecr:GetAuthorizationToken failed or the token expired).",
        fix: "Store valid credentials as `{\"username\":…,\"password\":…}` in the `repositoryCredentials` secret and let \
              the execution role read it; for ECR, allow ecr:GetAuthorizationToken on `*`.",
        generic: false,
        apply: auth_failed,
    },
];

fn rate_limited(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let registry = scan.fact("registry").unwrap_or("Docker Hub");
    let mut f = scan.finding(
        rule,
        Cause::RegistryRateLimited,
        Confidence::High,
        format!("{registry} refused the pull: pull rate limit reached"),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn auth_failed(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let registry = scan.fact("registry").map(|r| format!("registry `{r}`")).unwrap_or("the registry".into());
    let mut f = scan.finding(
        rule,
        Cause::RegistryAuthFailed,
        Confidence::High,
        format!("{registry} rejected the pull credentials"),
    );
    f.role_kind = RoleKind::Execution;
    f.alternatives.push(alternative(
        Cause::ImagePullDenied,
        Confidence::Low,
        "for ECR, the execution role may lack ecr:GetAuthorizationToken",
    ));
    Some(f)
}
