//! `reason`: one pasted stopped reason or error message, or describe-tasks / EventBridge JSON, to a `Report`.

use crate::fix::FixContext;
use crate::model::{Cause, EvidenceSource, Finding, InputError, Report, Severity};
use crate::rules::{classify_text_with, text};
use serde_json::Value;

/// Classifies `input`: a plain text, `aws ecs describe-tasks` output, an EventBridge "ECS Task State Change" event,
/// one task object, or an SDK error document (`{"message": …, "code": …}`). `name` is how errors refer to the input.
pub fn diagnose(input: &str, name: &str, ctx: &FixContext) -> Report {
    let mut report = Report::default();
    let trimmed = input.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        report.errors.push(InputError {
            input: name.into(),
            message: "the input is empty".into(),
            offset: None,
            line: None,
        });
        return report;
    }
    let json = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(doc) => Some(doc),
            Err(e) => {
                // Perhaps a pasted message that starts with a brace: it is still classified as text.
                report.errors.push(InputError {
                    input: name.into(),
                    message: format!("not valid JSON ({e}); classified as plain text"),
                    offset: None,
                    line: Some(e.line() as u64),
                });
                None
            }
        }
    } else {
        None
    };
    match json {
        Some(doc) => from_json(&doc, trimmed, name, ctx, &mut report),
        None => report.findings.extend(classify_text_with(trimmed, EvidenceSource::UserInput, ctx)),
    }
    order(&mut report.findings);
    report.stats.insert("texts_classified".into(), Value::from(report.findings.len()));
    report
}

fn from_json(doc: &Value, raw: &str, name: &str, ctx: &FixContext, report: &mut Report) {
    let tasks = tasks_of(doc);
    if tasks.is_empty() {
        // Not a task document: an SDK / CLI error body carries the message; anything else is classified as text.
        let message = doc
            .get("message")
            .or_else(|| doc.get("Message"))
            .or_else(|| doc.get("errorMessage"))
            .and_then(Value::as_str);
        let text = match (message, doc.get("code").or_else(|| doc.get("errorCode")).and_then(Value::as_str)) {
            (Some(m), Some(code)) => format!("{code}: {m}"),
            (Some(m), None) => m.to_string(),
            _ => raw.to_string(),
        };
        report.findings.extend(classify_text_with(&text, EvidenceSource::UserInput, ctx));
        return;
    }
    if let Some(failures) = doc.get("failures").and_then(Value::as_array) {
        for failure in failures {
            let arn = failure.get("arn").and_then(Value::as_str).unwrap_or("?");
            let reason = failure.get("reason").and_then(Value::as_str).unwrap_or("?");
            report.errors.push(InputError {
                input: name.into(),
                message: format!("describe-tasks could not describe `{arn}`: {reason}"),
                offset: None,
                line: None,
            });
        }
    }
    let mut described = 0;
    for task in tasks {
        described += 1;
        report.findings.extend(task_findings(task, ctx));
    }
    if report.findings.is_empty() {
        report.errors.push(InputError {
            input: name.into(),
            message: format!("none of the {described} task(s) has a stopped reason or container reason"),
            offset: None,
            line: None,
        });
    }
}

/// The task objects of describe-tasks output, an EventBridge event (or a list of them), or one task.
fn tasks_of(doc: &Value) -> Vec<&Value> {
    if let Some(tasks) = doc.get("tasks").and_then(Value::as_array) {
        return tasks.iter().collect();
    }
    if let Some(detail) = doc.get("detail").filter(|d| d.is_object()) {
        return if is_task(detail) { vec![detail] } else { Vec::new() };
    }
    if let Some(items) = doc.as_array() {
        return items.iter().flat_map(tasks_of).collect();
    }
    if is_task(doc) { vec![doc] } else { Vec::new() }
}

fn is_task(v: &Value) -> bool {
    v.get("taskArn").is_some() || v.get("stoppedReason").is_some() || v.get("containers").is_some_and(Value::is_array)
}

fn task_findings(task: &Value, ctx: &FixContext) -> Vec<Finding> {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let task_arn = str_of(task, "taskArn");
    let mut ctx = ctx.clone();
    if let Some((p, _, region, account, _)) = task_arn.as_deref().and_then(text::split_arn) {
        ctx.partition.get_or_insert_with(|| p.to_string());
        if text::is_region(region) {
            ctx.region.get_or_insert_with(|| region.to_string());
        }
        if text::is_account_id(account) {
            ctx.account_id.get_or_insert_with(|| account.to_string());
        }
    }
    if ctx.cluster_arn.is_none() {
        ctx.cluster_arn = str_of(task, "clusterArn");
    }
    if ctx.task_definition_arn.is_none() {
        ctx.task_definition_arn = str_of(task, "taskDefinitionArn");
    }
    let task_id = task_arn.as_deref().and_then(|a| a.rsplit('/').next()).map(str::to_string);
    let stamp = |f: &mut Finding| {
        if let Some(arn) = &task_arn {
            f.details.insert("task_arn".into(), arn.clone());
        }
        if let Some(id) = &task_id {
            f.details.insert("task_id".into(), id.clone());
        }
        if let Some(code) = str_of(task, "stopCode") {
            f.details.insert("stop_code".into(), code);
        }
        if let Some(t) = str_of(task, "stoppedAt") {
            f.first_seen.get_or_insert(t.clone());
            f.last_seen.get_or_insert(t);
        }
    };
    let mut out = Vec::new();
    let containers: Vec<&Value> =
        task.get("containers").and_then(Value::as_array).map(|c| c.iter().collect()).unwrap_or_default();
    for c in &containers {
        let Some(reason) = str_of(c, "reason") else { continue };
        for mut f in classify_text_with(&reason, EvidenceSource::ContainerReason, &ctx) {
            if let Some(name) = str_of(c, "name") {
                f.details.insert("container".into(), name);
            }
            if let Some(code) = c.get("exitCode").and_then(Value::as_i64) {
                f.details.insert("exit_code".into(), code.to_string());
            }
            stamp(&mut f);
            out.push(f);
        }
    }
    if let Some(reason) = str_of(task, "stoppedReason") {
        for mut f in classify_text_with(&reason, EvidenceSource::StoppedReason, &ctx) {
            if f.cause == Cause::EssentialContainerExited {
                // The stopped reason only says "exited": the containers say which one, and how.
                if let Some(c) =
                    containers.iter().find(|c| c.get("exitCode").and_then(Value::as_i64).is_some_and(|e| e != 0))
                {
                    let code = c.get("exitCode").and_then(Value::as_i64).unwrap_or_default();
                    let name = str_of(c, "name").unwrap_or_default();
                    f.summary =
                        format!("essential container `{name}` exited with code {code}; its reason and logs say why");
                    f.details.insert("container".into(), name);
                    f.details.insert("exit_code".into(), code.to_string());
                    if code == 137 && !f.alternatives.iter().any(|a| a.cause == Cause::ContainerOutOfMemory) {
                        f.alternatives.push(crate::rules::alternative(
                            Cause::ContainerOutOfMemory,
                            crate::model::Confidence::Medium,
                            "exit code 137 is SIGKILL, most often the OOM killer",
                        ));
                    }
                }
            }
            stamp(&mut f);
            out.push(f);
        }
    }
    out
}

/// Specific causes first; the wrappers that only say "a container exited" after them; identical findings merged.
fn order(findings: &mut Vec<Finding>) {
    let rank = |f: &Finding| match (f.cause, f.severity) {
        (Cause::EssentialContainerExited | Cause::Unknown, _) => 2,
        (_, Severity::Info) => 3,
        _ => 0,
    };
    findings.sort_by_key(|f| (rank(f), std::cmp::Reverse(f.confidence)));
    let mut seen: Vec<(Cause, String, Option<String>)> = Vec::new();
    findings.retain(|f| {
        let key = (f.cause, f.summary.clone(), f.details.get("task_id").cloned());
        if seen.contains(&key) {
            return false;
        }
        seen.push(key);
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_tasks_output_puts_the_container_reason_first() {
        let doc = r#"{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/c/0123456789abcdef0123456789abcdef",
            "stoppedReason":"Essential container in task exited","stopCode":"EssentialContainerExited",
            "containers":[{"name":"app","exitCode":137,"reason":"OutOfMemoryError: Container killed due to memory usage"}]}],
            "failures":[{"arn":"arn:aws:ecs:us-east-1:111122223333:task/c/x","reason":"MISSING"}]}"#;
        let report = diagnose(doc, "-", &FixContext::default());
        assert_eq!(report.findings[0].cause, Cause::ContainerOutOfMemory);
        assert_eq!(report.findings[0].details.get("container").map(String::as_str), Some("app"));
        assert_eq!(
            report.findings[0].details.get("task_id").map(String::as_str),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(report.findings[1].cause, Cause::EssentialContainerExited);
        assert!(report.findings[1].summary.contains("`app` exited with code 137"));
        assert_eq!(report.errors.len(), 1);
        assert!(report.errors[0].message.contains("MISSING"));
    }

    #[test]
    fn eventbridge_event_is_read() {
        let doc = r#"{"detail-type":"ECS Task State Change","source":"aws.ecs","detail":{"taskArn":"arn:aws:ecs:eu-west-1:111122223333:task/c/abc","lastStatus":"STOPPED","stoppedReason":"Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/1)"}}"#;
        let report = diagnose(doc, "-", &FixContext::default());
        assert_eq!(report.findings[0].cause, Cause::HealthCheckFailed);
    }

    #[test]
    fn sdk_error_body_is_classified_by_its_message() {
        let doc = r#"{"message":"User: arn:aws:sts::563873274798:assumed-role/r/s is not authorized to perform: iam:PassRole on resource: arn:aws:iam::563873274798:role/w","code":"AccessDeniedException"}"#;
        let report = diagnose(doc, "-", &FixContext::default());
        assert_eq!(report.findings[0].cause, Cause::PassroleDenied);
    }

    #[test]
    fn empty_input_is_an_input_error() {
        let report = diagnose("  \n", "-", &FixContext::default());
        assert!(report.findings.is_empty());
        assert_eq!(report.errors[0].message, "the input is empty");
    }
}
