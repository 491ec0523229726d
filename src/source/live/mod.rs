//! The AWS SDK implementation of every source. SDK types are converted to `crate::model` here and nowhere else.
//!
//! Credentials, region and endpoint come from aws-config's default chain (environment, shared profiles, SSO,
//! `credential_process`, web identity, ECS container credentials, IMDS), with `--profile`, `--region` and
//! `--endpoint-url` on top; `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are honoured by aws-config itself.
//! Retries are the SDK's standard retries in adaptive mode (client-side rate limiting after throttling).

mod cloudtrail;
mod ecr;
mod ecs;
mod iam;
mod kms;
mod logs;
mod secrets;
mod ssm;

pub use cloudtrail::{LogGroupTrail, LookupEventsTrail};

use super::calls::CallLog;
use super::error::{SourceError, SourceErrorKind, kind_of_code};
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;
use std::sync::Arc;

/// How to reach AWS, as the user asked on the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The IAM actions the live sources call: the read-only policy the tool needs (`why-task-failed permissions`).
pub const REQUIRED_ACTIONS: &[&str] = &[
    "cloudtrail:LookupEvents",
    "ecr:DescribeImages",
    "ecr:GetRepositoryPolicy",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "ecs:ListTasks",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "logs:DescribeLogGroups",
    "logs:FilterLogEvents",
    "secretsmanager:DescribeSecret",
    "ssm:DescribeParameters",
];

/// Loads the SDK configuration. One HTTPS client (hyper 1 + rustls with ring) serves every service client and
/// the credential providers.
pub async fn load_config(opts: &AwsOptions) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(RetryConfig::adaptive().with_max_attempts(5));
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// Every live source over one SDK configuration; the calls are tallied in `calls`.
#[derive(Debug, Clone)]
pub struct LiveAws {
    config: SdkConfig,
    calls: Arc<CallLog>,
}

impl LiveAws {
    pub fn new(config: SdkConfig, calls: Arc<CallLog>) -> Self {
        LiveAws { config, calls }
    }

    /// The region calls go to unless a resource lives elsewhere.
    pub fn region(&self) -> Option<&str> {
        self.config.region().map(Region::as_ref)
    }

    /// The shared configuration, moved to `region` when that differs from the default one.
    fn config_for(&self, region: &str) -> SdkConfig {
        if self.region() == Some(region) {
            self.config.clone()
        } else {
            self.config.to_builder().region(Region::new(region.to_string())).build()
        }
    }

    /// Sends one request: tallies it and turns an SDK error into a `SourceError` naming the IAM action.
    async fn call<T, E, R>(
        &self,
        api: &'static str,
        resource: &str,
        request: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, SourceError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        self.calls.record(api, resource);
        request.await.map_err(|e| source_error(api, resource, e))
    }
}

fn source_error<E, R>(api: &'static str, resource: &str, err: SdkError<E, R>) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let service_err = ctx.err();
            let code = service_err.code().map(str::to_string);
            let kind = code.as_deref().map_or(SourceErrorKind::Other, kind_of_code);
            let message = service_err.message().map(str::to_string).unwrap_or_else(|| service_err.to_string());
            SourceError { api, resource: resource.to_string(), kind, code, message }
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            let detail = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
            let kind = if detail.contains("credentials") || detail.contains("Credentials") {
                SourceErrorKind::Credentials
            } else {
                SourceErrorKind::Unreachable
            };
            SourceError::new(api, resource, kind, detail)
        }
        _ => {
            let detail = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
            SourceError::new(api, resource, SourceErrorKind::Other, detail)
        }
    }
}

/// An SDK timestamp as RFC 3339.
fn rfc3339(t: &aws_smithy_types::DateTime) -> Option<String> {
    t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

/// A policy document as IAM returns it (URL-encoded JSON) or as KMS/ECR return it (plain JSON).
fn policy_document(text: &str, api: &'static str, resource: &str) -> Result<serde_json::Value, SourceError> {
    let decoded;
    let json = if text.trim_start().starts_with('{') {
        text
    } else {
        decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
        &decoded
    };
    serde_json::from_str(json).map_err(|e| {
        SourceError::new(api, resource, SourceErrorKind::Other, format!("the policy document is not JSON: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_decode_both_ways() {
        let iam = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let doc = policy_document(iam, "iam:GetRolePolicy", "r").expect("url-encoded");
        assert_eq!(doc["Version"], "2012-10-17");
        let kms = r#"{"Version":"2012-10-17","Statement":[]}"#;
        assert!(policy_document(kms, "kms:GetKeyPolicy", "k").is_ok());
        let err = policy_document("%7Bnot", "iam:GetRolePolicy", "r").expect_err("bad");
        assert!(err.message.contains("not JSON"));
    }
}
