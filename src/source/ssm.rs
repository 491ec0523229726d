//! SSM Parameter Store: a referenced parameter's metadata (DescribeParameters). The value is never read.

use super::error::SourceError;
use crate::model::task::ParameterMetadata;
use std::future::Future;

pub trait SsmSource {
    /// `None` when no such parameter exists in `region`.
    fn describe_parameter(
        &self,
        name: &str,
        region: &str,
    ) -> impl Future<Output = Result<Option<ParameterMetadata>, SourceError>>;
}
