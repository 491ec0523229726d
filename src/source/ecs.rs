//! ECS: the task, its task definition, and a service's stopped tasks and events.

use super::error::SourceError;
use crate::model::task::{Service, Task, TaskDefinition};
use std::future::Future;

/// DescribeTasks' answer: the tasks ECS still knows, and the ones it does not (`MISSING` once a stopped task
/// has aged out, about an hour after it stopped).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribedTasks {
    pub tasks: Vec<Task>,
    /// (ARN, reason) for each task ECS could not describe.
    pub failures: Vec<(String, String)>,
}

pub trait EcsSource {
    fn describe_tasks(
        &self,
        cluster: &str,
        task_arns: &[String],
    ) -> impl Future<Output = Result<DescribedTasks, SourceError>>;

    fn describe_task_definition(&self, arn: &str) -> impl Future<Output = Result<TaskDefinition, SourceError>>;

    /// The ARNs of the service's most recently stopped tasks (ListTasks desiredStatus=STOPPED), at most `max`.
    fn list_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
        max: usize,
    ) -> impl Future<Output = Result<Vec<String>, SourceError>>;

    /// `None` when ECS does not know the service.
    fn describe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl Future<Output = Result<Option<Service>, SourceError>>;
}
