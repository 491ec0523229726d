//! `why-task-failed trail <PATH>...`.

use super::GlobalArgs;
use crate::diagnose;
use crate::model::exit_code;
use crate::source::EventFilter;
use crate::source::offline::OfflineTrail;
use clap::Args;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Args)]
pub struct TrailArgs {
    /// Files or directories of CloudTrail events (S3 log files, .gz, lookup-events output, Lake results,
    /// JSON lines); `-` reads standard input. Formats are recognised by content
    #[arg(required = true)]
    pub paths: Vec<String>,

    /// Only events at or after this time: RFC 3339 (2024-05-01T10:00:00Z) or an age (30m, 2h, 7d)
    #[arg(long, value_parser = parse_time)]
    pub since: Option<OffsetDateTime>,

    /// Only events at or before this time: RFC 3339 or an age (30m, 2h, 7d)
    #[arg(long, value_parser = parse_time)]
    pub until: Option<OffsetDateTime>,

    /// Only calls by this principal: an ARN (role, user, assumed-role session) or a role or user name
    #[arg(long)]
    pub principal: Option<String>,

    /// Only calls made by an ECS task's roles (their session name is the task id); a task id or task ARN
    #[arg(long)]
    pub task: Option<String>,

    /// Only events of this account (recipientAccountId)
    #[arg(long)]
    pub account: Option<String>,

    /// Only events of this region (awsRegion)
    #[arg(long)]
    pub region: Option<String>,

    #[command(flatten)]
    pub policies: Box<super::policy_inputs::PolicyInputArgs>,
}

/// RFC 3339, or an age relative to now: `<n>s|m|h|d|w`.
fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let bad = || format!("`{text}` is neither an RFC 3339 time (2024-05-01T10:00:00Z) nor an age like 30m, 2h, 7d");
    let unit = text.chars().last().ok_or_else(bad)?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let age = match unit {
        's' => Duration::seconds(amount),
        'm' => Duration::minutes(amount),
        'h' => Duration::hours(amount),
        'd' => Duration::days(amount),
        'w' => Duration::weeks(amount),
        _ => return Err(bad()),
    };
    OffsetDateTime::now_utc().checked_sub(age).ok_or_else(bad)
}

pub fn run(args: TrailArgs, global: &GlobalArgs) -> i32 {
    let filter = EventFilter {
        since: args.since,
        until: args.until,
        principal: args.principal,
        task: args.task,
        account: args.account,
        region: args.region,
    };
    let source = OfflineTrail::new(args.paths);
    let mut report = diagnose::trail::diagnose(&source, &filter);
    diagnose::explain::with_policy_inputs(&mut report, &args.policies.inputs());
    let code = super::emit(&report, global);
    // Every input failed: nothing was analysed, which is not a partial result.
    let count = |key: &str| report.stats.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
    let all_failed = count("inputs_with_errors") >= count("inputs").max(1);
    if code == exit_code::PARTIAL && all_failed { exit_code::FATAL } else { code }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times() {
        let now = OffsetDateTime::now_utc();
        let two_hours = parse_time("2h").expect("2h");
        assert!((now - two_hours - Duration::hours(2)).abs() < Duration::seconds(5));
        assert_eq!(parse_time("2024-05-01T10:00:00Z").expect("rfc3339").unix_timestamp(), 1_714_557_600);
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("5y").is_err());
        assert!(parse_time("").is_err());
    }
}
