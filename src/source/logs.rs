//! CloudWatch Logs: does the log group a task definition names exist?

use super::error::SourceError;
use crate::model::task::LogGroup;
use std::future::Future;

pub trait LogsSource {
    /// `None` when no log group has exactly this name in `region`.
    fn find_log_group(&self, name: &str, region: &str) -> impl Future<Output = Result<Option<LogGroup>, SourceError>>;
}
