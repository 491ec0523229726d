//! Secrets and parameters: a `secrets` entry (or `repositoryCredentials`) ECS could not read.

use super::{Rule, Scan, Stage, alternative};
use crate::model::{Cause, Confidence, Finding};

pub(super) static SPECIFIC: &[Rule] = &[
    Rule {
        id: "secrets.secret-not-found",
        family: "secrets",
        title: "The Secrets Manager secret does not exist (in this account and Region)",
        cause: Cause::SecretNotFound,
        yields: &[],
        patterns: &[
            r"(?i)Secrets Manager can.t find the specified secret",
            r"(?i)ResourceNotFoundException[^\n]{0,200}secret",
            r"(?i)secret[^\n]{0,80}(?:was )?(?:not found|does not exist|marked for deletion)",
        ],
        extracts: &["secret_arn"],
        explanation: "The task definition references a secret ARN (or name) that Secrets Manager cannot find: misspelt, \
                      in another Region or account, deleted, or referenced without its random suffix while another \
                      secret shares the prefix.",
        fix: "Reference the secret by its full ARN (with the 6-character suffix), in the Region the task runs in; \
              restore it if it is scheduled for deletion.",
        generic: false,
        apply: secret_not_found,
    },
    Rule {
        id: "secrets.parameter-not-found",
        family: "secrets",
        title: "The SSM parameter does not exist (in this account and Region)",
        cause: Cause::SsmParameterNotFound,
        yields: &[],
        patterns: &[r"(?i)ParameterNotFound", r"(?i)invalid (?:ssm )?parameters?:", r"(?i)InvalidParameters\b"],
        extracts: &["parameter"],
        explanation: "SSM reports the names it could not find as invalid parameters. The parameter is misspelt, lives \
                      in another Region or account, or the task definition uses a name where an ARN is needed \
                      (parameters in another Region need the full ARN).",
        fix: "Create the parameter or correct the name in the task definition's `secrets` (`valueFrom`).",
        generic: false,
        apply: parameter_not_found,
    },
    Rule {
        id: "secrets.invalid-reference",
        family: "secrets",
        title: "The task definition's secret reference is malformed",
        cause: Cause::InvalidSecretReference,
        yields: &[],
        patterns: &[
            r"(?i)Parameter name: can.t be prefixed with",
            r"(?i)did not contain json key",
            r"(?i)invalid (?:secret )?(?:arn|reference)",
            r"(?i)ValidationException[^\n]{0,120}(?:secret|parameter)",
            r"(?i)secret[^\n]{0,40}(?:version|json key)[^\n]{0,40}(?:not found|invalid)",
        ],
        extracts: &["secret_arn", "parameter"],
        explanation: "The `valueFrom` of a `secrets` entry does not have a shape ECS accepts: an SSM parameter named \
                      by a full ARN where a name was expected, a JSON key or version id that the secret does not \
                      have, or an ARN of the wrong service.",
        fix: "Use `arn:…:secret:NAME-AbCdEf:JSON_KEY:VERSION_STAGE:VERSION_ID` for Secrets Manager (empty fields keep \
              their defaults) and the parameter name or full parameter ARN for SSM.",
        generic: false,
        apply: invalid_reference,
    },
];

pub(super) static GENERIC: &[Rule] = &[Rule {
    id: "secrets.retrieval-failed",
    family: "secrets",
    title: "ECS could not retrieve a secret (the text does not say why)",
    cause: Cause::NetworkUnreachable,
    yields: &[],
    patterns: &[
        r"(?i)unable to retrieve secrets? from (?:asm|ssm)",
        r"(?i)unable to pull secrets or registry auth",
        r"(?i)Fetching secret data from",
        r"(?i)execution resource retrieval failed",
    ],
    extracts: &["secret_arn", "parameter"],
    explanation: "Before the container starts, the execution role reads every `secrets` entry (and registry \
                  credentials). When the inner error is cut off, the usual causes are, in order: no network path to \
                  the service endpoint, a missing permission, a missing secret.",
    fix: "Check the route to the service (NAT, public IP or VPC endpoint) and the execution role's permissions.",
    generic: true,
    apply: retrieval_failed,
}];

fn secret_not_found(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let what = scan.fact("secret_arn").map(|s| format!("secret `{s}`")).unwrap_or("the secret".into());
    Some(scan.finding(rule, Cause::SecretNotFound, Confidence::High, format!("{what} does not exist")))
}

fn parameter_not_found(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let what = scan.fact("parameter").map(|p| format!("SSM parameter `{p}`")).unwrap_or("an SSM parameter".into());
    Some(scan.finding(rule, Cause::SsmParameterNotFound, Confidence::High, format!("{what} does not exist")))
}

fn invalid_reference(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let summary = if scan.mentions(&["json key"]) {
        "the secret does not contain the JSON key the task definition asks for".to_string()
    } else if scan.mentions(&["prefixed with"]) {
        "the SSM reference is an ARN where a parameter name was expected (or a name starting with `aws`/`ssm`)"
            .to_string()
    } else {
        "the task definition's secret reference (`valueFrom`) is malformed".to_string()
    };
    Some(scan.finding(rule, Cause::InvalidSecretReference, Confidence::High, summary))
}

fn retrieval_failed(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let (service, not_found) = match scan.stage {
        Some(Stage::Ssm) => ("SSM Parameter Store", Cause::SsmParameterNotFound),
        Some(Stage::EcrAuth) => ("the ECR API", Cause::ImagePullDenied),
        _ => ("Secrets Manager", Cause::SecretNotFound),
    };
    let mut f = scan.finding(
        rule,
        Cause::NetworkUnreachable,
        Confidence::Low,
        format!("ECS could not read a secret from {service}; the inner error is missing, most often a network path"),
    );
    f.details
        .entry("service".into())
        .or_insert_with(|| scan.stage.map_or("secretsmanager", |s| s.service(None)).into());
    f.alternatives.push(alternative(
        Cause::AccessDeniedUnattributed,
        Confidence::Low,
        "the execution role may lack the read permission (ssm:GetParameters / secretsmanager:GetSecretValue)",
    ));
    f.alternatives.push(alternative(not_found, Confidence::Low, "the referenced secret or parameter may not exist"));
    Some(f)
}
