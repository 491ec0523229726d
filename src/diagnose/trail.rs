//! Offline trail diagnosis: every denied call in the events a `TrailSource` yields, grouped into findings by
//! (principal role, action, resource, cause) with counts, first/last seen and sample events.

use crate::iamdata::event_names::iam_actions_for_event;
use crate::model::event::TrailEvent;
use crate::model::{AccessDenied, Evidence, EvidenceSource, Finding, Report, RoleKind};
use crate::rules::access_denied;
use crate::source::{EventFilter, TrailSource};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Sample events kept per finding.
const SAMPLES: usize = 3;
/// Distinct sessions remembered per finding (beyond that, only counted as "more").
const SESSIONS: usize = 16;

/// ECS's execution role is used by the agent to pull images, write logs and fetch secrets before the app starts.
const EXECUTION_ROLE_ACTIONS: &[&str] = &[
    "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "logs:CreateLogStream",
    "logs:CreateLogGroup",
    "logs:PutLogEvents",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameters",
    "kms:Decrypt",
];
/// Calls made by whoever launches or defines tasks.
const CALLER_ACTIONS: &[&str] = &[
    "ecs:RunTask",
    "ecs:StartTask",
    "ecs:CreateService",
    "ecs:UpdateService",
    "ecs:RegisterTaskDefinition",
    "iam:PassRole",
];

/// ECS task ids are 32 lowercase hex digits (older ones: a UUID); ECS names role sessions after them.
fn looks_like_task_id(session: &str) -> bool {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    (session.len() == 32 && hex(session))
        || (session.len() == 36
            && session.split('-').map(str::len).eq([8, 4, 4, 4, 12])
            && hex(&session.replace('-', "")))
}

/// Calls ECS makes itself (image pull, log driver, secrets) carry the agent's user agent, or name
/// `ecs-tasks.amazonaws.com` as the invoking service / source.
fn made_by_ecs(event: &TrailEvent) -> bool {
    let agent = event.user_agent.as_deref().is_some_and(|ua| {
        let ua = ua.to_ascii_lowercase();
        ua.contains("amazon-ecs-agent")
            || ua.contains("ecs-agent")
            || ua.contains("fargate")
            || ua == "ecs-tasks.amazonaws.com"
    });
    agent
        || event.invoked_by() == Some("ecs-tasks.amazonaws.com")
        || event.source_ip_address.as_deref() == Some("ecs-tasks.amazonaws.com")
}

/// Which of a task's identities made the call, and on what grounds.
fn role_kind(event: &TrailEvent, action: Option<&str>) -> (RoleKind, String) {
    match event.user_identity_type() {
        Some("IAMUser" | "Root" | "FederatedUser" | "IdentityCenterUser") => {
            return (RoleKind::Caller, "a user or federated identity, not a task role".into());
        }
        Some("AWSService") => return (RoleKind::Unknown, "an AWS service principal".into()),
        _ => {}
    }
    let session = event.session_name().unwrap_or("");
    let task_session = looks_like_task_id(session);
    let exec_action = action.is_some_and(|a| EXECUTION_ROLE_ACTIONS.iter().any(|x| x.eq_ignore_ascii_case(a)));
    let agent = made_by_ecs(event);
    let exec_name = event.role_name().is_some_and(|r| r.to_ascii_lowercase().contains("execution"));
    if task_session && agent {
        return (RoleKind::Execution, "session named after a task id, call made by the ECS agent".into());
    }
    if task_session && exec_action && (exec_name || event.user_agent.is_none()) {
        return (
            RoleKind::Execution,
            "session named after a task id; an action ECS performs with the execution role".into(),
        );
    }
    if task_session {
        return (RoleKind::Task, "session named after a task id; the call came from the application".into());
    }
    if action.is_some_and(|a| CALLER_ACTIONS.iter().any(|x| x.eq_ignore_ascii_case(a))) {
        return (RoleKind::Caller, "launches or defines tasks".into());
    }
    (RoleKind::Unknown, "session name is not a task id".into())
}

fn partition_of(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// The resource when the message does not name it: `resources[]`, then well-known request parameters.
fn resource_of_event(event: &TrailEvent) -> Option<String> {
    if let Some(arn) = event.resources.iter().find_map(|r| r.arn.clone()) {
        return Some(arn);
    }
    for key in ["roleArn", "secretId", "keyId", "logGroupArn"] {
        if let Some(v) = event.request_parameter(key).filter(|v| v.starts_with("arn:")) {
            return Some(v.to_string());
        }
    }
    let bucket = event.request_parameter("bucketName")?;
    let partition = partition_of(event.aws_region.as_deref());
    Some(match event.request_parameter("key") {
        Some(key) => format!("arn:{partition}:s3:::{bucket}/{key}"),
        None => format!("arn:{partition}:s3:::{bucket}"),
    })
}

/// The denial an event records: its message parsed, gaps filled from the event itself.
fn denial_of(event: &TrailEvent) -> AccessDenied {
    let mut denied = event.error_message.as_deref().and_then(access_denied::parse).unwrap_or_default();
    if denied.action.is_none() {
        let source = event.event_source.as_deref().unwrap_or("");
        let name = event.event_name.as_deref().unwrap_or("");
        denied.action = iam_actions_for_event(source, name).into_iter().next();
    }
    if denied.resource.is_none() {
        denied.resource = resource_of_event(event);
    }
    if denied.role_session.is_none() {
        denied.role_session = event.session_name().map(str::to_string);
    }
    if denied.role_name.is_none() {
        denied.role_name = event.role_name().map(str::to_string);
    }
    // Group and fix on the role itself: the issuer ARN keeps the role's path, the assumed-role ARN does not.
    let caller = denied.principal.clone().or_else(|| event.caller_arn().map(str::to_string));
    denied.principal = match event.issuer_role_arn() {
        Some(role_arn) if caller.as_deref().is_none_or(|c| c.contains(":assumed-role/")) => Some(role_arn.into()),
        _ => caller.map(|c| crate::fix::role_arn_of_principal(&c).unwrap_or(c)),
    };
    denied
}

#[derive(Hash, PartialEq, Eq, Clone)]
struct GroupKey {
    principal: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    cause: crate::model::Cause,
}

struct Sample {
    time: String,
    event_id: String,
    file: String,
    text: String,
}

struct Group {
    denied: AccessDenied,
    role_kind: RoleKind,
    role_kind_basis: String,
    count: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    samples: Vec<Sample>,
    sessions: BTreeSet<String>,
    more_sessions: bool,
    vpc_endpoint: Option<String>,
    event: String,
    /// Request context keys of the earliest event (policy explanation, `diagnose::explain`).
    request_context: serde_json::Value,
}

impl Group {
    fn add(&mut self, event: &TrailEvent, file: &str) {
        self.count += 1;
        if let Some(t) = &event.event_time {
            if self.first_seen.as_ref().is_none_or(|f| t < f) {
                self.first_seen = Some(t.clone());
            }
            if self.last_seen.as_ref().is_none_or(|l| t > l) {
                self.last_seen = Some(t.clone());
            }
        }
        if let Some(session) = event.session_name() {
            if self.sessions.len() < SESSIONS {
                self.sessions.insert(session.to_string());
            } else if !self.sessions.contains(session) {
                self.more_sessions = true;
            }
        }
        if self.vpc_endpoint.is_none() {
            self.vpc_endpoint = event.vpc_endpoint_id.clone();
        }
        let sample = Sample {
            time: event.event_time.clone().unwrap_or_default(),
            event_id: event.event_id.clone().unwrap_or_default(),
            file: file.to_string(),
            text: event.error_message.clone().unwrap_or_else(|| {
                format!("errorCode {} (no errorMessage)", event.error_code.as_deref().unwrap_or(""))
            }),
        };
        // Keep the earliest samples, whatever order parallel workers deliver events in.
        let at = self.samples.partition_point(|s| (&s.time, &s.event_id) <= (&sample.time, &sample.event_id));
        if at == 0 {
            self.request_context = super::explain::request_context_of_event(event);
        }
        if at < SAMPLES {
            self.samples.insert(at, sample);
            self.samples.truncate(SAMPLES);
        }
    }

    fn into_finding(self) -> Finding {
        let mut samples = self.samples.into_iter();
        let evidence = |s: Sample| Evidence {
            source: EvidenceSource::Cloudtrail,
            event_id: Some(s.event_id).filter(|e| !e.is_empty()),
            file: Some(s.file),
            text: Some(s.text),
            time: Some(s.time).filter(|t| !t.is_empty()),
        };
        let first = samples.next().map(evidence).unwrap_or(Evidence::text(EvidenceSource::Cloudtrail, ""));
        let mut f = access_denied::finding(&self.denied, first);
        f.evidence.extend(samples.map(evidence));
        f.count = self.count;
        f.first_seen = self.first_seen;
        f.last_seen = self.last_seen;
        f.role_kind = self.role_kind;
        f.details.insert("role_kind_basis".into(), self.role_kind_basis);
        f.details.insert("event".into(), self.event);
        f.role_session = match self.sessions.len() {
            1 if !self.more_sessions => self.sessions.into_iter().next(),
            0 => None,
            n => {
                let more = if self.more_sessions { "+" } else { "" };
                f.details.insert("sessions".into(), format!("{n}{more} distinct (task ids when ECS roles)"));
                None
            }
        };
        if let Some(vpce) = self.vpc_endpoint {
            f.details.insert("vpc_endpoint_id".into(), vpce);
        }
        f.fixes = access_denied::first_fixes(&f);
        f.request_context = Some(self.request_context);
        f
    }
}

/// Scans `source` for denied calls and groups them into findings.
pub fn diagnose(source: &dyn TrailSource, filter: &EventFilter) -> Report {
    let groups: Mutex<HashMap<GroupKey, Group>> = Mutex::new(HashMap::new());
    let sink = |event: TrailEvent, file: &str| {
        if !event.error_code.as_deref().is_some_and(access_denied::is_denied_error_code) {
            return;
        }
        let denied = denial_of(&event);
        let (cause, _) = access_denied::classify(&denied);
        let key = GroupKey {
            principal: denied.principal.clone(),
            action: denied.action.clone(),
            resource: denied.resource.clone(),
            cause,
        };
        let Ok(mut groups) = groups.lock() else { return };
        let group = groups.entry(key).or_insert_with(|| {
            let (role_kind, role_kind_basis) = role_kind(&event, denied.action.as_deref());
            let event_name = format!(
                "{}:{}",
                event.event_source.as_deref().unwrap_or("?"),
                event.event_name.as_deref().unwrap_or("?")
            );
            Group {
                denied,
                role_kind,
                role_kind_basis,
                count: 0,
                first_seen: None,
                last_seen: None,
                samples: Vec::new(),
                sessions: BTreeSet::new(),
                more_sessions: false,
                vpc_endpoint: None,
                event: event_name,
                request_context: serde_json::Value::Null,
            }
        });
        group.add(&event, file);
    };
    let outcome = source.error_events(filter, &sink);
    let groups = groups.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let denied_events: u64 = groups.values().map(|g| g.count).sum();
    let mut findings: Vec<Finding> = groups.into_values().map(Group::into_finding).collect();
    findings.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.cause.cmp(&b.cause))
            .then(a.principal.cmp(&b.principal))
            .then(a.action.cmp(&b.action))
            .then(a.resource.cmp(&b.resource))
    });
    let mut report = Report { findings, errors: outcome.errors, ..Report::default() };
    report.stats = outcome.stats.to_map();
    report.stats.insert("denied_events".into(), json!(denied_events));
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_and_role_kinds() {
        assert!(looks_like_task_id("8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b"));
        assert!(looks_like_task_id("0b0e3c4e-7e0c-4b8e-9f5c-7e7d0c9a2b11"));
        assert!(!looks_like_task_id("i-0abc"));
        let exec: TrailEvent = serde_json::from_str(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/ecsTaskExecutionRole/8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b"},"userAgent":"aws-sdk-go/1.44.0 (go1.20; linux; amd64) amazon-ecs-agent/1.70.0"}"#).unwrap();
        assert_eq!(role_kind(&exec, Some("ecr:GetAuthorizationToken")).0, RoleKind::Execution);
        let app: TrailEvent = serde_json::from_str(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/app-task/8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b"},"userAgent":"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.12.1"}"#).unwrap();
        assert_eq!(role_kind(&app, Some("s3:GetObject")).0, RoleKind::Task);
        let user: TrailEvent =
            serde_json::from_str(r#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice"}}"#).unwrap();
        assert_eq!(role_kind(&user, Some("ecs:RunTask")).0, RoleKind::Caller);
    }

    #[test]
    fn bare_s3_denial_gets_action_from_event_name_and_resource_from_parameters() {
        let event: TrailEvent = serde_json::from_str(r#"{"eventSource":"s3.amazonaws.com","eventName":"HeadObject","awsRegion":"eu-west-1","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"data","key":"in/a.csv"},"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/app/t","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/team/app","userName":"app"}}}}"#).unwrap();
        let d = denial_of(&event);
        assert_eq!(d.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(d.resource.as_deref(), Some("arn:aws:s3:::data/in/a.csv"));
        assert_eq!(d.principal.as_deref(), Some("arn:aws:iam::1:role/team/app"));
        assert_eq!(d.role_session.as_deref(), Some("t"));
    }
}
