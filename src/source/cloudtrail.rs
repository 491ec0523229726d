//! CloudTrail management events around a task's life, from LookupEvents or from a CloudWatch Logs group the trail
//! delivers to. Each event is the full CloudTrail record as JSON text.

use super::error::SourceError;
use std::future::Future;
use time::OffsetDateTime;

/// Which events to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailFilter {
    /// Events whose user name is this role session name: for a task's roles, the task id.
    Session(String),
    /// Events of this name (`RunTask`, `StartTask`) that mention this text (the task ARN) anywhere.
    EventMentioning { event_name: String, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailQuery {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub filter: TrailFilter,
    /// Stop after this many pages (LookupEvents pages hold up to 50 events and allow ~2 requests/s).
    pub max_pages: usize,
}

/// What a query found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrailEvents {
    /// Each event's full CloudTrail JSON record.
    pub events: Vec<String>,
    pub pages: usize,
    /// `true` when `max_pages` stopped the query before the last page.
    pub truncated: bool,
}

pub trait CloudTrailSource {
    /// `progress` is told the page count and event count after each page.
    fn lookup(
        &self,
        query: &TrailQuery,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> impl Future<Output = Result<TrailEvents, SourceError>>;

    /// Where the events come from, for messages (`CloudTrail LookupEvents`, `log group /aws/cloudtrail`).
    fn describe(&self) -> String;
}
