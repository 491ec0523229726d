//! ECS over the SDK.

use super::{LiveAws, rfc3339};
use crate::model::task::{Container, ContainerDefinition, SecretRef, Service, ServiceEvent, Task, TaskDefinition};
use crate::source::ecs::{DescribedTasks, EcsSource};
use crate::source::error::SourceError;
use aws_sdk_ecs::types as ecs;

impl LiveAws {
    fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.config)
    }
}

fn task_of(t: &ecs::Task) -> Task {
    Task {
        arn: t.task_arn().unwrap_or_default().to_string(),
        cluster_arn: t.cluster_arn().map(str::to_string),
        task_definition_arn: t.task_definition_arn().map(str::to_string),
        last_status: t.last_status().map(str::to_string),
        desired_status: t.desired_status().map(str::to_string),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(str::to_string),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        group: t.group().map(str::to_string),
        started_by: t.started_by().map(str::to_string),
        created_at: t.created_at().and_then(rfc3339),
        started_at: t.started_at().and_then(rfc3339),
        stopping_at: t.stopping_at().and_then(rfc3339),
        stopped_at: t.stopped_at().and_then(rfc3339),
        containers: t
            .containers()
            .iter()
            .map(|c| Container {
                name: c.name().unwrap_or_default().to_string(),
                image: c.image().map(str::to_string),
                image_digest: c.image_digest().map(str::to_string),
                last_status: c.last_status().map(str::to_string),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_string),
            })
            .collect(),
    }
}

fn container_definition_of(c: &ecs::ContainerDefinition) -> ContainerDefinition {
    let name = c.name().unwrap_or_default().to_string();
    let secret_ref = |s: &ecs::Secret| SecretRef {
        container: name.clone(),
        name: s.name().to_string(),
        value_from: s.value_from().to_string(),
    };
    let mut secrets: Vec<SecretRef> = c.secrets().iter().map(secret_ref).collect();
    let log = c.log_configuration();
    if let Some(log) = log {
        secrets.extend(log.secret_options().iter().map(secret_ref));
    }
    ContainerDefinition {
        name: name.clone(),
        image: c.image().map(str::to_string),
        essential: c.essential().unwrap_or(true),
        log_driver: log.map(|l| l.log_driver().as_str().to_string()),
        log_options: log
            .and_then(|l| l.options())
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        secrets,
        repository_credentials: c.repository_credentials().map(|r| r.credentials_parameter().to_string()),
        environment_files: c.environment_files().iter().map(|f| f.value().to_string()).collect(),
    }
}

impl EcsSource for LiveAws {
    async fn describe_tasks(&self, cluster: &str, task_arns: &[String]) -> Result<DescribedTasks, SourceError> {
        let resource = task_arns.join(",");
        let out = self
            .call(
                "ecs:DescribeTasks",
                &resource,
                self.ecs().describe_tasks().cluster(cluster).set_tasks(Some(task_arns.to_vec())).send(),
            )
            .await?;
        Ok(DescribedTasks {
            tasks: out.tasks().iter().map(task_of).collect(),
            failures: out
                .failures()
                .iter()
                .map(|f| (f.arn().unwrap_or_default().to_string(), f.reason().unwrap_or_default().to_string()))
                .collect(),
        })
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinition, SourceError> {
        let out = self
            .call("ecs:DescribeTaskDefinition", arn, self.ecs().describe_task_definition().task_definition(arn).send())
            .await?;
        let Some(td) = out.task_definition() else {
            return Err(SourceError::new(
                "ecs:DescribeTaskDefinition",
                arn,
                crate::source::SourceErrorKind::NotFound,
                "the response has no task definition",
            ));
        };
        Ok(TaskDefinition {
            arn: td.task_definition_arn().unwrap_or(arn).to_string(),
            family: td.family().map(str::to_string),
            revision: Some(td.revision()),
            execution_role_arn: td.execution_role_arn().map(str::to_string),
            task_role_arn: td.task_role_arn().map(str::to_string),
            network_mode: td.network_mode().map(|m| m.as_str().to_string()),
            containers: td.container_definitions().iter().map(container_definition_of).collect(),
        })
    }

    async fn list_stopped_tasks(&self, cluster: &str, service: &str, max: usize) -> Result<Vec<String>, SourceError> {
        // One page is enough: ECS keeps stopped tasks for about an hour, and we look at the most recent few.
        let page = i32::try_from(max.clamp(1, 100)).unwrap_or(100);
        let out = self
            .call(
                "ecs:ListTasks",
                service,
                self.ecs()
                    .list_tasks()
                    .cluster(cluster)
                    .service_name(service)
                    .desired_status(ecs::DesiredStatus::Stopped)
                    .max_results(page)
                    .send(),
            )
            .await?;
        Ok(out.task_arns().iter().take(max).cloned().collect())
    }

    async fn describe_service(&self, cluster: &str, service: &str) -> Result<Option<Service>, SourceError> {
        let out = self
            .call(
                "ecs:DescribeServices",
                service,
                self.ecs().describe_services().cluster(cluster).services(service).send(),
            )
            .await?;
        Ok(out.services().first().map(|s| Service {
            arn: s.service_arn().unwrap_or_default().to_string(),
            name: s.service_name().unwrap_or(service).to_string(),
            status: s.status().map(str::to_string),
            task_definition_arn: s.task_definition().map(str::to_string),
            desired_count: s.desired_count(),
            running_count: s.running_count(),
            events: s
                .events()
                .iter()
                .map(|e| ServiceEvent {
                    id: e.id().map(str::to_string),
                    created_at: e.created_at().and_then(rfc3339),
                    message: e.message().unwrap_or_default().to_string(),
                })
                .collect(),
        }))
    }
}
