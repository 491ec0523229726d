//! KMS: the key behind a secret or parameter, and its key policy.

use super::error::SourceError;
use crate::model::task::KmsKey;
use serde_json::Value;
use std::future::Future;

pub trait KmsSource {
    /// Resolves a key id, key ARN, alias name or alias ARN to the key (DescribeKey).
    fn describe_key(&self, key_id: &str, region: &str) -> impl Future<Output = Result<KmsKey, SourceError>>;
    /// The key's `default` policy (GetKeyPolicy).
    fn get_key_policy(&self, key_arn: &str, region: &str) -> impl Future<Output = Result<Value, SourceError>>;
}
