//! KMS over the SDK.

use super::{LiveAws, policy_document};
use crate::model::task::KmsKey;
use crate::source::error::{SourceError, SourceErrorKind};
use crate::source::kms::KmsSource;
use serde_json::Value;

impl KmsSource for LiveAws {
    async fn describe_key(&self, key_id: &str, region: &str) -> Result<KmsKey, SourceError> {
        let client = aws_sdk_kms::Client::new(&self.config_for(region));
        let out = self.call("kms:DescribeKey", key_id, client.describe_key().key_id(key_id).send()).await?;
        let Some(meta) = out.key_metadata() else {
            return Err(SourceError::new("kms:DescribeKey", key_id, SourceErrorKind::Other, "no key metadata"));
        };
        Ok(KmsKey {
            arn: meta.arn().unwrap_or(key_id).to_string(),
            key_id: meta.key_id().to_string(),
            key_manager: meta.key_manager().map(|m| m.as_str().to_string()),
            key_state: meta.key_state().map(|s| s.as_str().to_string()),
            policy: None,
        })
    }

    async fn get_key_policy(&self, key_arn: &str, region: &str) -> Result<Value, SourceError> {
        let client = aws_sdk_kms::Client::new(&self.config_for(region));
        let out = self
            .call("kms:GetKeyPolicy", key_arn, client.get_key_policy().key_id(key_arn).policy_name("default").send())
            .await?;
        let text = out.policy().ok_or_else(|| {
            SourceError::new("kms:GetKeyPolicy", key_arn, SourceErrorKind::Other, "the key has no policy")
        })?;
        policy_document(text, "kms:GetKeyPolicy", key_arn)
    }
}
