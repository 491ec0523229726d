//! CloudTrail events over the SDK: LookupEvents, or FilterLogEvents on the log group a trail delivers to.

use super::LiveAws;
use crate::source::cloudtrail::{CloudTrailSource, TrailEvents, TrailFilter, TrailQuery};
use crate::source::error::SourceError;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// LookupEvents allows about two requests per second per account and region: space them.
const LOOKUP_SPACING: Duration = Duration::from_millis(500);

fn smithy_time(t: OffsetDateTime) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.unix_timestamp())
}

/// Events from CloudTrail LookupEvents (management events of the last 90 days, in the client's region).
#[derive(Debug)]
pub struct LookupEventsTrail {
    aws: LiveAws,
    next_slot: Mutex<Option<Instant>>,
}

impl LookupEventsTrail {
    pub fn new(aws: LiveAws) -> Self {
        LookupEventsTrail { aws, next_slot: Mutex::new(None) }
    }

    /// Waits for this request's turn under the rate limit.
    async fn pace(&self) {
        let wait = {
            let Ok(mut slot) = self.next_slot.lock() else { return };
            let now = Instant::now();
            let start = slot.map_or(now, |s| s.max(now));
            *slot = Some(start + LOOKUP_SPACING);
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

impl CloudTrailSource for LookupEventsTrail {
    async fn lookup(
        &self,
        query: &TrailQuery,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<TrailEvents, SourceError> {
        let (attribute, mention) = match &query.filter {
            TrailFilter::Session(session) => {
                (LookupAttribute::builder().attribute_key(LookupAttributeKey::Username).attribute_value(session), None)
            }
            TrailFilter::EventMentioning { event_name, text } => (
                LookupAttribute::builder().attribute_key(LookupAttributeKey::EventName).attribute_value(event_name),
                Some(text.as_str()),
            ),
        };
        let attribute = attribute.build().map_err(|e| {
            SourceError::new("cloudtrail:LookupEvents", "", crate::source::SourceErrorKind::Other, e.to_string())
        })?;
        let resource = match &query.filter {
            TrailFilter::Session(s) => format!("Username={s}"),
            TrailFilter::EventMentioning { event_name, .. } => format!("EventName={event_name}"),
        };
        let client = aws_sdk_cloudtrail::Client::new(&self.aws.config);
        let mut found = TrailEvents::default();
        let mut token: Option<String> = None;
        loop {
            if found.pages == query.max_pages {
                found.truncated = true;
                break;
            }
            self.pace().await;
            let request = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(smithy_time(query.start))
                .end_time(smithy_time(query.end))
                .max_results(50)
                .set_next_token(token.take())
                .send();
            let out = self.aws.call("cloudtrail:LookupEvents", &resource, request).await?;
            found.pages += 1;
            for event in out.events() {
                if let Some(json) = event.cloud_trail_event()
                    && mention.is_none_or(|m| json.contains(m))
                {
                    found.events.push(json.to_string());
                }
            }
            progress(found.pages, found.events.len());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(found)
    }

    fn describe(&self) -> String {
        "CloudTrail LookupEvents".to_string()
    }
}

/// Events from the CloudWatch Logs group a trail delivers to (`--trail-log-group`), via FilterLogEvents.
#[derive(Debug)]
pub struct LogGroupTrail {
    aws: LiveAws,
    group: String,
}

impl LogGroupTrail {
    pub fn new(aws: LiveAws, group: String) -> Self {
        LogGroupTrail { aws, group }
    }
}

impl CloudTrailSource for LogGroupTrail {
    async fn lookup(
        &self,
        query: &TrailQuery,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<TrailEvents, SourceError> {
        // A quoted term matches events containing it anywhere: the session name sits in `userIdentity.arn`,
        // the task ARN in a RunTask response.
        let (term, event_name) = match &query.filter {
            TrailFilter::Session(session) => (session.as_str(), None),
            TrailFilter::EventMentioning { event_name, text } => (text.as_str(), Some(event_name.as_str())),
        };
        let pattern = format!("\"{}\"", term.replace('"', ""));
        let client = aws_sdk_cloudwatchlogs::Client::new(&self.aws.config);
        let mut found = TrailEvents::default();
        let mut token: Option<String> = None;
        loop {
            if found.pages == query.max_pages {
                found.truncated = true;
                break;
            }
            let request = client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(query.start.unix_timestamp() * 1000)
                .end_time(query.end.unix_timestamp() * 1000)
                .filter_pattern(&pattern)
                .set_next_token(token.take())
                .send();
            let out = self.aws.call("logs:FilterLogEvents", &self.group, request).await?;
            found.pages += 1;
            for event in out.events() {
                let Some(message) = event.message() else { continue };
                let wanted = match event_name {
                    None => true,
                    Some(name) => serde_json::from_str::<serde_json::Value>(message)
                        .is_ok_and(|v| v.get("eventName").and_then(|n| n.as_str()) == Some(name)),
                };
                if wanted {
                    found.events.push(message.to_string());
                }
            }
            progress(found.pages, found.events.len());
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(found)
    }

    fn describe(&self) -> String {
        format!("log group `{}`", self.group)
    }
}
