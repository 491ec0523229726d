//! ECR over the SDK.

use super::{LiveAws, policy_document};
use crate::model::task::{EcrImage, EcrImageName, ImageReference};
use crate::source::ecr::EcrSource;
use crate::source::error::SourceError;
use aws_sdk_ecr::types::ImageIdentifier;
use serde_json::Value;

impl EcrSource for LiveAws {
    async fn describe_image(&self, image: &EcrImageName) -> Result<Option<EcrImage>, SourceError> {
        let client = aws_sdk_ecr::Client::new(&self.config_for(&image.region));
        let id = match &image.reference {
            ImageReference::Tag(tag) => ImageIdentifier::builder().image_tag(tag).build(),
            ImageReference::Digest(digest) => ImageIdentifier::builder().image_digest(digest).build(),
        };
        let request = client
            .describe_images()
            .registry_id(&image.registry_id)
            .repository_name(&image.repository)
            .image_ids(id)
            .send();
        let out = match self.call("ecr:DescribeImages", &image.repository, request).await {
            Ok(out) => out,
            Err(e) if e.code.as_deref() == Some("ImageNotFoundException") => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(out.image_details().first().map(|d| EcrImage {
            registry_id: image.registry_id.clone(),
            region: image.region.clone(),
            repository: image.repository.clone(),
            reference: image.reference.clone(),
            digest: d.image_digest().map(str::to_string),
            tags: d.image_tags().to_vec(),
        }))
    }

    async fn repository_policy(&self, image: &EcrImageName) -> Result<Option<Value>, SourceError> {
        let client = aws_sdk_ecr::Client::new(&self.config_for(&image.region));
        let request =
            client.get_repository_policy().registry_id(&image.registry_id).repository_name(&image.repository).send();
        match self.call("ecr:GetRepositoryPolicy", &image.repository, request).await {
            Ok(out) => {
                out.policy_text().map(|t| policy_document(t, "ecr:GetRepositoryPolicy", &image.repository)).transpose()
            }
            Err(e) if e.code.as_deref() == Some("RepositoryPolicyNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }
}
