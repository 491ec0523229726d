//! Logging: the awslogs driver could not be set up.

use super::{Rule, Scan, alternative};
use crate::model::{Cause, Confidence, Finding};

pub(super) static SPECIFIC: &[Rule] = &[Rule {
    id: "logging.log-group-not-found",
    family: "logging",
    title: "The CloudWatch Logs log group does not exist",
    cause: Cause::LogGroupNotFound,
    yields: &[],
    patterns: &[r"(?i)(?:specified )?log group does not exist", r"(?i)ResourceNotFoundException[^\n]{0,120}log group"],
    extracts: &["log_group"],
    explanation: "The awslogs driver writes to the `awslogs-group` of the container definition. It does not create \
                  the group unless `awslogs-create-group` is `true` (and then the execution role needs \
                  logs:CreateLogGroup).",
    fix: "Create the log group, or set `awslogs-create-group: true` and allow logs:CreateLogGroup on it.",
    generic: false,
    apply: log_group_not_found,
}];

pub(super) static GENERIC: &[Rule] = &[Rule {
    id: "logging.driver-failed",
    family: "logging",
    title: "The log driver could not be initialised (the text does not say why)",
    cause: Cause::LogGroupNotFound,
    yields: &[],
    patterns: &[
        r"(?i)failed to initiali[sz]e logging driver",
        r"(?i)failed to validate logger args",
        r"(?i)failed to create Cloudwatch log (?:group|stream)",
    ],
    extracts: &["log_group"],
    explanation: "The agent validates the awslogs options by creating the stream (and the group when asked to). \
                  A missing group, a missing logs: permission on the execution role, or no route to the CloudWatch \
                  Logs endpoint all fail here.",
    fix: "Create the log group; allow logs:CreateLogStream and logs:PutLogEvents on it; give the subnet a route to \
          logs.<region>.amazonaws.com.",
    generic: true,
    apply: driver_failed,
}];

fn log_group_not_found(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let what = scan.fact("log_group").map(|g| format!("log group `{g}`")).unwrap_or("the log group".into());
    Some(scan.finding(rule, Cause::LogGroupNotFound, Confidence::High, format!("{what} does not exist")))
}

fn driver_failed(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let what = scan.fact("log_group").map(|g| format!(" for `{g}`")).unwrap_or_default();
    let mut f = scan.finding(
        rule,
        Cause::LogGroupNotFound,
        Confidence::Low,
        format!("the awslogs driver could not be set up{what}; most often the log group does not exist"),
    );
    f.role_kind = crate::model::RoleKind::Execution;
    f.alternatives.push(alternative(
        Cause::AccessDeniedUnattributed,
        Confidence::Low,
        "the execution role may lack logs:CreateLogStream / logs:PutLogEvents (or logs:CreateLogGroup)",
    ));
    f.alternatives.push(alternative(
        Cause::NetworkUnreachable,
        Confidence::Low,
        "the task's subnet may have no route to the CloudWatch Logs endpoint",
    ));
    Some(f)
}
