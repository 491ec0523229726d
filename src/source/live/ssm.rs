//! SSM Parameter Store over the SDK: DescribeParameters only; the parameter's value is never read.

use super::LiveAws;
use crate::model::task::ParameterMetadata;
use crate::source::error::{SourceError, SourceErrorKind};
use crate::source::ssm::SsmSource;
use aws_sdk_ssm::types::ParameterStringFilter;

impl SsmSource for LiveAws {
    async fn describe_parameter(&self, name: &str, region: &str) -> Result<Option<ParameterMetadata>, SourceError> {
        let client = aws_sdk_ssm::Client::new(&self.config_for(region));
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| SourceError::new("ssm:DescribeParameters", name, SourceErrorKind::Other, e.to_string()))?;
        let out = self
            .call("ssm:DescribeParameters", name, client.describe_parameters().parameter_filters(filter).send())
            .await?;
        Ok(out.parameters().iter().find(|p| p.name() == Some(name)).map(|p| ParameterMetadata {
            name: name.to_string(),
            kind: p.r#type().map(|t| t.as_str().to_string()),
            kms_key_id: p.key_id().map(str::to_string),
        }))
    }
}
