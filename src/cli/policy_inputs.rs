//! The policy inputs shared by `trail`, `reason` and the live command: an IAM snapshot and the policies it lacks.

use crate::source::iam_snapshot::PolicyInputs;
use clap::Args;

#[derive(Debug, Args, Clone, Default)]
pub struct PolicyInputArgs {
    /// `aws iam get-account-authorization-details` output: explains each denial with the real policies and
    /// verifies every fix against them
    #[arg(long, value_name = "FILE")]
    pub iam: Option<String>,

    /// SCP or RCP: `aws organizations describe-policy` output or a policy document; prefix the level it is
    /// attached to (`r-…`, `ou-…` or the account id) as `LEVEL=FILE`, root first (repeatable)
    #[arg(long = "scp", value_name = "[LEVEL=]FILE")]
    pub scps: Vec<String>,

    /// Resource policy of a repository, secret, bucket…: `get-repository-policy`, `get-resource-policy`,
    /// `get-bucket-policy` output or a document (repeatable)
    #[arg(long = "resource-policy", value_name = "ARN=FILE")]
    pub resource_policies: Vec<String>,

    /// KMS key policy: `aws kms get-key-policy` output or a document (repeatable)
    #[arg(long = "key-policy", value_name = "ARN=FILE")]
    pub key_policies: Vec<String>,
}

impl PolicyInputArgs {
    pub fn inputs(&self) -> PolicyInputs {
        PolicyInputs {
            iam: self.iam.clone(),
            scps: self.scps.clone(),
            resource_policies: self.resource_policies.clone(),
            key_policies: self.key_policies.clone(),
        }
    }
}
