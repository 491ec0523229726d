//! Secrets Manager: a referenced secret's metadata (DescribeSecret). The value is never read.

use super::error::SourceError;
use crate::model::task::SecretMetadata;
use std::future::Future;

pub trait SecretsSource {
    /// `None` when no such secret exists in `region`. `secret_id` is an ARN or a name.
    fn describe_secret(
        &self,
        secret_id: &str,
        region: &str,
    ) -> impl Future<Output = Result<Option<SecretMetadata>, SourceError>>;
}
