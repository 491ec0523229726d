//! Data sources: one trait per source; `live` talks to AWS, `offline` reads files.

pub mod calls;
pub mod cloudtrail;
pub mod ecr;
pub mod ecs;
pub mod error;
pub mod iam;
pub mod kms;
pub mod live;
pub mod logs;
pub mod secrets;
pub mod ssm;
pub mod task_file;

pub use error::{SourceError, SourceErrorKind};
