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

pub mod offline;

use crate::model::InputError;
use crate::model::event::TrailEvent;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which CloudTrail events a source yields. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// A principal ARN (user, role, or assumed-role session) or a role/user name.
    pub principal: Option<String>,
    /// A task id (or task ARN): ECS names task- and execution-role sessions after the task id.
    pub task: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl EventFilter {
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.principal.is_none()
            && self.task.is_none()
            && self.account.is_none()
            && self.region.is_none()
    }

    pub fn matches(&self, event: &TrailEvent) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let Some(at) = event.event_time.as_deref().and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()) else {
                return false;
            };
            if self.since.is_some_and(|s| at < s) || self.until.is_some_and(|u| at > u) {
                return false;
            }
        }
        if let Some(account) = &self.account
            && event.account_id() != Some(account.as_str())
        {
            return false;
        }
        if let Some(region) = &self.region
            && event.aws_region.as_deref() != Some(region.as_str())
        {
            return false;
        }
        if let Some(task) = &self.task {
            let task_id = task.rsplit('/').next().unwrap_or(task);
            if event.session_name() != Some(task_id) {
                return false;
            }
        }
        if let Some(principal) = &self.principal {
            return principal_matches(principal, event);
        }
        true
    }
}

fn principal_matches(wanted: &str, event: &TrailEvent) -> bool {
    let caller = event.caller_arn();
    if wanted.starts_with("arn:") {
        return caller == Some(wanted)
            || event.issuer_role_arn() == Some(wanted)
            // `arn:…:role/path/Name` written by the user vs `assumed-role/Name/…` written by CloudTrail
            || crate::fix::role_name_of_arn(wanted).is_some_and(|name| event.role_name() == Some(name));
    }
    event.role_name() == Some(wanted)
        || event.user_identity.as_ref().and_then(|u| u.user_name.as_deref()) == Some(wanted)
        || caller.and_then(|c| c.rsplit('/').next()) == Some(wanted)
}

/// What a scan read, for `Report.stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub inputs: u64,
    /// Inputs that could not be read at all or only in part (each has an entry in `errors`).
    pub inputs_with_errors: u64,
    /// Bytes read from disk or stdin (compressed size for `.gz`).
    pub bytes_read: u64,
    /// Bytes of JSON after decompression.
    pub bytes_decoded: u64,
    pub events_scanned: u64,
    /// Events with a top-level `errorCode`.
    pub error_events: u64,
    /// Of those, events that passed the filter and were handed to the caller.
    pub events_matched: u64,
    /// CloudTrail digest files met in a directory tree (integrity digests, not events).
    pub digest_files_skipped: u64,
}

impl ScanStats {
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        BTreeMap::from([
            ("inputs".to_string(), json!(self.inputs)),
            ("inputs_with_errors".to_string(), json!(self.inputs_with_errors)),
            ("bytes_read".to_string(), json!(self.bytes_read)),
            ("bytes_decoded".to_string(), json!(self.bytes_decoded)),
            ("events_scanned".to_string(), json!(self.events_scanned)),
            ("error_events".to_string(), json!(self.error_events)),
            ("events_matched".to_string(), json!(self.events_matched)),
            ("digest_files_skipped".to_string(), json!(self.digest_files_skipped)),
        ])
    }
}

/// The end of a scan: what was read and what could not be.
#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    pub stats: ScanStats,
    pub errors: Vec<InputError>,
}

/// A source of CloudTrail events: exported files now, the LookupEvents API later. Both yield `TrailEvent`.
pub trait TrailSource {
    /// Calls `sink(event, input)` for every event that has a top-level `errorCode` and passes `filter` — the
    /// only events a denial diagnosis needs, so a source may skip the others without parsing them.
    /// `sink` may be called from several threads at once. Bad inputs end up in `ScanOutcome::errors`.
    fn error_events(&self, filter: &EventFilter, sink: &(dyn Fn(TrailEvent, &str) + Sync)) -> ScanOutcome;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> TrailEvent {
        serde_json::from_str(json).expect("event")
    }

    #[test]
    fn filters_by_task_principal_time_account_region() {
        let e = event(
            r#"{"eventTime":"2024-05-01T10:00:00Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/exec/abc123",
            "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/svc/exec","userName":"exec"}}}}"#,
        );
        let at = |s: &str| Some(OffsetDateTime::parse(s, &Rfc3339).unwrap());
        let mut f =
            EventFilter { task: Some("arn:aws:ecs:eu-west-1:111122223333:task/c/abc123".into()), ..Default::default() };
        assert!(f.matches(&e));
        f.task = Some("zzz".into());
        assert!(!f.matches(&e));
        for p in
            ["exec", "arn:aws:iam::111122223333:role/svc/exec", "arn:aws:sts::111122223333:assumed-role/exec/abc123"]
        {
            let f = EventFilter { principal: Some(p.into()), ..Default::default() };
            assert!(f.matches(&e), "{p}");
        }
        assert!(!EventFilter { principal: Some("other".into()), ..Default::default() }.matches(&e));
        assert!(
            EventFilter { since: at("2024-05-01T09:00:00Z"), until: at("2024-05-01T10:00:00Z"), ..Default::default() }
                .matches(&e)
        );
        assert!(!EventFilter { since: at("2024-05-01T10:00:01Z"), ..Default::default() }.matches(&e));
        assert!(!EventFilter { account: Some("999".into()), ..Default::default() }.matches(&e));
        assert!(!EventFilter { region: Some("us-east-1".into()), ..Default::default() }.matches(&e));
    }
}
