//! CloudTrail events over the SDK: LookupEvents, or FilterLogEvents on the log group a trail delivers to.

use super::LiveAws;
use crate::source::cloudtrail::{CloudTrailSource, TrailEvents, TrailFilter, TrailQuery};
use crate::source::error::SourceError;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// LookupEvents allows two requests per second per account and region: at most `LOOKUP_BURST` requests start in
/// any `LOOKUP_WINDOW`.
const LOOKUP_BURST: usize = 2;
const LOOKUP_WINDOW: Duration = Duration::from_secs(1);

fn smithy_time(t: OffsetDateTime) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.unix_timestamp())
}

/// Pages through a query until its last page or `max_pages`, whichever comes first. `page` is given the previous
/// page's token and returns that page's wanted events and the next token (none or empty on the last page).
async fn collect_pages<F, Fut>(
    max_pages: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
    mut page: F,
) -> Result<TrailEvents, SourceError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<String>, Option<String>), SourceError>>,
{
    let mut found = TrailEvents::default();
    let mut token: Option<String> = None;
    loop {
        if found.pages == max_pages {
            found.truncated = true;
            break;
        }
        let (events, next) = page(token.take()).await?;
        found.pages += 1;
        found.events.extend(events);
        progress(found.pages, found.events.len());
        match next {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    Ok(found)
}

/// Events from CloudTrail LookupEvents (management events of the last 90 days, in the client's region).
#[derive(Debug)]
pub struct LookupEventsTrail {
    aws: LiveAws,
    pacer: Pacer,
}

/// Spaces requests so that at most `LOOKUP_BURST` start in any `LOOKUP_WINDOW`.
#[derive(Debug, Default)]
struct Pacer {
    /// Start times of the most recent requests (at most `LOOKUP_BURST`).
    recent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    /// Reserves the next start time at or after `now`; returns how long to wait for it.
    fn reserve(&self, now: Instant) -> Duration {
        let Ok(mut recent) = self.recent.lock() else { return Duration::ZERO };
        let start = if recent.len() < LOOKUP_BURST {
            now
        } else {
            recent.front().map_or(now, |oldest| (*oldest + LOOKUP_WINDOW).max(now))
        };
        if recent.len() == LOOKUP_BURST {
            recent.pop_front();
        }
        recent.push_back(start);
        start - now
    }
}

impl LookupEventsTrail {
    pub fn new(aws: LiveAws) -> Self {
        LookupEventsTrail { aws, pacer: Pacer::default() }
    }

    /// Waits for this request's turn under the rate limit.
    async fn pace(&self) {
        let wait = self.pacer.reserve(Instant::now());
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
        let (client, attribute, resource) = (&client, &attribute, &resource);
        collect_pages(query.max_pages, progress, |token| async move {
            self.pace().await;
            let request = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(smithy_time(query.start))
                .end_time(smithy_time(query.end))
                .max_results(50)
                .set_next_token(token)
                .send();
            let out = self.aws.call("cloudtrail:LookupEvents", resource, request).await?;
            let events = out
                .events()
                .iter()
                .filter_map(|event| event.cloud_trail_event())
                .filter(|json| mention.is_none_or(|m| json.contains(m)))
                .map(str::to_string)
                .collect();
            Ok((events, out.next_token().map(str::to_string)))
        })
        .await
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
        let (client, pattern) = (&client, &pattern);
        collect_pages(query.max_pages, progress, |token| async move {
            let request = client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(query.start.unix_timestamp() * 1000)
                .end_time(query.end.unix_timestamp() * 1000)
                .filter_pattern(pattern)
                .set_next_token(token)
                .send();
            let out = self.aws.call("logs:FilterLogEvents", &self.group, request).await?;
            let events = out
                .events()
                .iter()
                .filter_map(|event| event.message())
                .filter(|message| match event_name {
                    None => true,
                    Some(name) => serde_json::from_str::<serde_json::Value>(message)
                        .is_ok_and(|v| v.get("eventName").and_then(|n| n.as_str()) == Some(name)),
                })
                .map(str::to_string)
                .collect();
            Ok((events, out.next_token().map(str::to_string)))
        })
        .await
    }

    fn describe(&self) -> String {
        format!("log group `{}`", self.group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_requests_per_second() {
        let pacer = Pacer::default();
        let t0 = Instant::now();
        assert_eq!(pacer.reserve(t0), Duration::ZERO);
        assert_eq!(pacer.reserve(t0), Duration::ZERO);
        assert_eq!(pacer.reserve(t0), LOOKUP_WINDOW);
        assert_eq!(pacer.reserve(t0), LOOKUP_WINDOW);
        assert_eq!(pacer.reserve(t0), 2 * LOOKUP_WINDOW);
        // Later requests find the window free again.
        let later = t0 + 10 * LOOKUP_WINDOW;
        assert_eq!(pacer.reserve(later), Duration::ZERO);
    }
}
