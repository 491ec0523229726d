//! KMS: the key behind a secret or SecureString parameter cannot be used by the execution role.

use super::{Rule, Scan, Stage};
use crate::model::{Cause, Confidence, Finding};

pub(super) static RULES: &[Rule] = &[Rule {
    id: "kms.key-unusable",
    family: "kms",
    title: "The execution role cannot use the KMS key that encrypts the secret",
    cause: Cause::KmsKeyUnusable,
    yields: &[],
    patterns: &[
        r"(?i)Access to KMS is not allowed",
        r"(?i)ciphertext refers to a customer master key",
        r"(?i)KMS(?:\.|: ?)?(?:Disabled|KMSInvalidState|KMSAccessDenied|KeyUnavailable)Exception",
        r"(?i)\bKMS key (?:is )?(?:disabled|pending deletion)",
    ],
    extracts: &["secret_arn", "parameter", "kms_key_arn"],
    explanation: "Secrets Manager (or SSM for a SecureString) decrypts the value with the KMS key on behalf of the caller. \
                  When the key is a customer managed key, the execution role needs kms:Decrypt through that service, \
                  and the key policy must let the account (or the role) use the key; a disabled or deleted key fails \
                  the same way.",
    fix: "Allow kms:Decrypt on the key ARN to the execution role with kms:ViaService set to the secret's service, and \
          add the role to the key policy (or make sure the key policy delegates to IAM).",
    generic: false,
    apply,
}];

fn apply(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let what = match (scan.fact("secret_arn"), scan.fact("parameter")) {
        (Some(secret), _) => format!("secret `{secret}`"),
        (None, Some(p)) => format!("parameter `{p}`"),
        _ => "the secret".to_string(),
    };
    let disabled = scan.mentions(&["DisabledException", "KMSInvalidState", "pending deletion", "is disabled"]);
    let who = match scan.stage {
        Some(Stage::SecretsManager | Stage::Ssm | Stage::RegistryCredentials) => "the task execution role",
        _ => "the caller",
    };
    let summary = if disabled {
        format!("the KMS key that encrypts {what} is disabled or pending deletion")
    } else {
        format!("{who} may not use the KMS key that encrypts {what} (kms:Decrypt)")
    };
    let mut f = scan.finding(rule, Cause::KmsKeyUnusable, Confidence::High, summary);
    let via = match scan.stage {
        Some(Stage::Ssm) => "ssm",
        _ => "secretsmanager",
    };
    f.details.insert("service".into(), via.into());
    f.action = Some("kms:Decrypt".into());
    Some(f)
}
