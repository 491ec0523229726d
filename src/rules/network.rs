//! Network: the task's ENI has no path to the endpoint the failed step calls.

use super::{Rule, Scan, Stage, alternative};
use crate::model::{Cause, Confidence, Finding, RoleKind};

pub(super) static RULES: &[Rule] = &[Rule {
    id: "network.endpoint-unreachable",
    family: "network",
    title: "The task cannot reach the endpoint of the step that failed",
    cause: Cause::NetworkUnreachable,
    yields: &[],
    patterns: &[
        r"(?i)context deadl",
        r"(?i)i/o timeout",
        r"(?i)request cancel",
        r"(?i)RequestCanceled",
        r"(?i)RequestError: send request failed",
        r"(?i)dial tcp",
        r"(?i)no such host",
        r"(?i)connection timed out",
        r"(?i)TLS handshake timeout",
        r"(?i)Client\.Timeout",
        r"(?i)network is unreachable",
        r"(?i)connection refused",
        r"(?i)pull command failed: : signal: killed",
        r"(?i)check your task network configuration",
        r"(?i)waiting for connection",
    ],
    extracts: &["endpoint", "service", "image", "registry", "secret_arn", "parameter"],
    explanation: "Since Fargate platform 1.4.0 every call ECS makes for the task (ECR, Secrets Manager, SSM, \
                  CloudWatch Logs) leaves through the task's own ENI. In a private subnet that needs a NAT gateway or \
                  VPC endpoints (ecr.api, ecr.dkr and the S3 gateway for images; secretsmanager; ssm; logs); in a \
                  public subnet it needs a public IP; the security group must allow outbound 443 and the VPC needs \
                  DNS resolution.",
    fix: "Add the VPC endpoint(s) for the service named (or a NAT route / public IP) and allow outbound 443 from the \
          task's security group to it.",
    generic: false,
    apply,
}];

/// The endpoint prefix to name when the text does not say which step failed.
fn service_of_endpoint(endpoint: &str) -> Option<&'static str> {
    let e = endpoint.to_ascii_lowercase();
    [
        ("api.ecr.", "ecr.api"),
        (".dkr.ecr.", "ecr.dkr"),
        ("secretsmanager.", "secretsmanager"),
        ("ssm.", "ssm"),
        ("logs.", "logs"),
        ("sts.", "sts"),
        ("kms.", "kms"),
        ("s3.", "s3"),
        (".efs.", "elasticfilesystem"),
    ]
    .into_iter()
    .find(|(needle, _)| e.contains(needle) || e.starts_with(needle.trim_start_matches('.')))
    .map(|(_, s)| s)
}

fn apply(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let endpoint = scan.fact("endpoint");
    let service = scan
        .stage
        .map(|s| s.service(scan.fact("registry")))
        .or_else(|| endpoint.and_then(service_of_endpoint))
        .unwrap_or("unknown");
    let named = match (service, scan.fact("registry")) {
        ("registry", Some(r)) => format!("the registry `{r}`"),
        ("ecr.dkr", _) => "ECR (ecr.dkr, and S3 for the layers)".into(),
        ("ecr.api", _) => "the ECR API (ecr.api)".into(),
        ("secretsmanager", _) => "Secrets Manager".into(),
        ("ssm", _) => "SSM Parameter Store".into(),
        ("logs", _) => "CloudWatch Logs".into(),
        ("unknown", _) => "the AWS endpoint it needed".into(),
        (s, _) => format!("`{s}`"),
    };
    let at = endpoint.map(|e| format!(" (`{e}`)")).unwrap_or_default();
    let truncated = scan.text.ends_with("...") || scan.text.ends_with('…');
    let confidence = if truncated { Confidence::Medium } else { Confidence::High };
    let mut f = scan.finding(
        rule,
        Cause::NetworkUnreachable,
        confidence,
        format!("the task's network cannot reach {named}{at}: the call timed out"),
    );
    f.details.insert("service".into(), service.into());
    f.role_kind = RoleKind::Unknown;
    if scan.stage == Some(Stage::Efs) {
        f.alternatives.push(alternative(Cause::EfsMountFailed, Confidence::Medium, "the EFS mount itself failed"));
    }
    Some(f)
}
