//! ECR: does the image a container definition names exist, and what does the repository policy say?

use super::error::SourceError;
use crate::model::task::{EcrImage, EcrImageName};
use serde_json::Value;
use std::future::Future;

pub trait EcrSource {
    /// `Ok(None)` when the repository exists but has no such tag/digest; a `NotFound` error when the repository
    /// itself does not exist.
    fn describe_image(&self, image: &EcrImageName) -> impl Future<Output = Result<Option<EcrImage>, SourceError>>;
    /// `None` when the repository has no policy.
    fn repository_policy(&self, image: &EcrImageName) -> impl Future<Output = Result<Option<Value>, SourceError>>;
}
