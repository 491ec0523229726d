//! Tasks from saved JSON: `aws ecs describe-tasks` output (`--task-json`), an EventBridge "ECS Task State Change"
//! event (`--task-event`), or the `tasks` of a RunTask/StartTask response recorded in CloudTrail. All three carry
//! the task in the same camelCase shape.

use crate::model::task::{Container, Task};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Reads the tasks from a saved document. `file` names it in error messages.
pub fn tasks_from_json(text: &str, file: &str) -> Result<Vec<Task>, String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("cannot read `{file}` at line {} column {}: {e}", e.line(), e.column()))?;
    tasks_from_value(&doc).ok_or_else(|| {
        format!(
            "`{file}` is neither describe-tasks output (`tasks`), an \"ECS Task State Change\" event (`detail`), nor \
             a task object (`taskArn`)"
        )
    })
}

/// The tasks in a parsed document; `None` when the document has none of the known shapes.
pub fn tasks_from_value(doc: &Value) -> Option<Vec<Task>> {
    if let Some(detail) = doc.get("detail").filter(|_| doc.get("detail-type").is_some()) {
        return task_from_value(detail).map(|t| vec![t]);
    }
    if let Some(tasks) = doc.get("tasks").and_then(Value::as_array) {
        return Some(tasks.iter().filter_map(task_from_value).collect());
    }
    task_from_value(doc).map(|t| vec![t])
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A timestamp as RFC 3339: strings are kept as written, numbers are epoch seconds (the CLI's default).
fn time_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => {
            let secs = n.as_f64()?;
            let nanos = (secs * 1e9) as i128;
            OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?.format(&Rfc3339).ok()
        }
        _ => None,
    }
}

/// One task object (camelCase, as the ECS API writes it); `None` without a `taskArn`.
pub fn task_from_value(v: &Value) -> Option<Task> {
    let arn = str_field(v, "taskArn")?;
    let containers = v
        .get("containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .map(|c| Container {
                    name: str_field(c, "name").unwrap_or_default(),
                    image: str_field(c, "image"),
                    image_digest: str_field(c, "imageDigest"),
                    last_status: str_field(c, "lastStatus"),
                    exit_code: c.get("exitCode").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok()),
                    reason: str_field(c, "reason"),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Task {
        arn,
        cluster_arn: str_field(v, "clusterArn"),
        task_definition_arn: str_field(v, "taskDefinitionArn"),
        last_status: str_field(v, "lastStatus"),
        desired_status: str_field(v, "desiredStatus"),
        stop_code: str_field(v, "stopCode"),
        stopped_reason: str_field(v, "stoppedReason"),
        launch_type: str_field(v, "launchType"),
        group: str_field(v, "group"),
        started_by: str_field(v, "startedBy"),
        created_at: time_field(v, "createdAt"),
        started_at: time_field(v, "startedAt"),
        stopping_at: time_field(v, "stoppingAt"),
        stopped_at: time_field(v, "stoppedAt"),
        containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{
      "version": "0", "id": "3317b2af-7005-947d-b652-f55e762e571a",
      "detail-type": "ECS Task State Change", "source": "aws.ecs", "account": "111122223333",
      "time": "2020-01-23T17:57:58Z", "region": "us-west-2",
      "resources": ["arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad"],
      "detail": {
        "clusterArn": "arn:aws:ecs:us-west-2:111122223333:cluster/FargateCluster",
        "containers": [{"containerArn": "arn:aws:ecs:us-west-2:111122223333:container/cf159fd6",
          "lastStatus": "STOPPED", "name": "FargateApp", "exitCode": 1, "reason": "OutOfMemoryError: Container killed due to memory usage",
          "image": "111122223333.dkr.ecr.us-west-2.amazonaws.com/hello-repository:latest"}],
        "createdAt": "2020-01-23T17:57:34.402Z", "desiredStatus": "STOPPED", "lastStatus": "STOPPED",
        "launchType": "FARGATE", "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "stoppedAt": "2020-01-23T17:57:58.211Z",
        "taskArn": "arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad",
        "taskDefinitionArn": "arn:aws:ecs:us-west-2:111122223333:task-definition/HelloWorld:2"
      }
    }"#;

    #[test]
    fn reads_an_eventbridge_task_state_change() {
        let tasks = tasks_from_json(EVENT, "event.json").expect("event");
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!(t.stop_code.as_deref(), Some("EssentialContainerExited"));
        assert_eq!(t.containers[0].exit_code, Some(1));
        assert_eq!(t.containers[0].reason.as_deref(), Some("OutOfMemoryError: Container killed due to memory usage"));
        assert_eq!(t.stopped_at.as_deref(), Some("2020-01-23T17:57:58.211Z"));
    }

    #[test]
    fn reads_describe_tasks_output_with_epoch_times() {
        let doc = r#"{"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/abc", "stoppedAt": 1700000000.5,
                      "stoppedReason": "Task stopped by user"}], "failures": []}"#;
        let tasks = tasks_from_json(doc, "tasks.json").expect("tasks");
        assert_eq!(tasks[0].stopped_at.as_deref(), Some("2023-11-14T22:13:20.5Z"));
        assert_eq!(tasks[0].stopped_reason.as_deref(), Some("Task stopped by user"));
    }

    #[test]
    fn bad_documents_say_where_and_what() {
        let err = tasks_from_json("{\"tasks\": [", "t.json").expect_err("truncated");
        assert!(err.starts_with("cannot read `t.json` at line 1"), "{err}");
        let err = tasks_from_json("{\"foo\": 1}", "t.json").expect_err("wrong shape");
        assert!(err.contains("neither describe-tasks output"), "{err}");
    }
}
