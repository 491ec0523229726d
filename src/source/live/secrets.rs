//! Secrets Manager over the SDK: DescribeSecret only; the secret's value is never read.

use super::{LiveAws, rfc3339};
use crate::model::task::SecretMetadata;
use crate::source::error::{SourceError, SourceErrorKind};
use crate::source::secrets::SecretsSource;

impl SecretsSource for LiveAws {
    async fn describe_secret(&self, secret_id: &str, region: &str) -> Result<Option<SecretMetadata>, SourceError> {
        let client = aws_sdk_secretsmanager::Client::new(&self.config_for(region));
        let request = client.describe_secret().secret_id(secret_id).send();
        match self.call("secretsmanager:DescribeSecret", secret_id, request).await {
            Ok(out) => Ok(Some(SecretMetadata {
                arn: out.arn().unwrap_or(secret_id).to_string(),
                name: out.name().unwrap_or(secret_id).to_string(),
                kms_key_id: out.kms_key_id().map(str::to_string),
                deleted_date: out.deleted_date().and_then(rfc3339),
            })),
            Err(e) if e.kind == SourceErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}
