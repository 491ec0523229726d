//! `why-task-failed <TASK>`: live diagnosis of one task (or a service's recent stopped tasks), and
//! `why-task-failed permissions`: the read-only IAM policy the tool needs.

use super::GlobalArgs;
use crate::diagnose::live::{Gather, LiveRequest, Progress};
use crate::model::task::{Task, TaskRef};
use crate::source::calls::CallLog;
use crate::source::cloudtrail::{CloudTrailSource, TrailEvents, TrailQuery};
use crate::source::live::{AwsOptions, LiveAws, LogGroupTrail, LookupEventsTrail, REQUIRED_ACTIONS, load_config};
use crate::source::{SourceError, task_file};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Task ARN, or task id with --cluster
    pub task: Option<String>,

    /// Cluster name or ARN (needed with a bare task id or --service)
    #[arg(long)]
    pub cluster: Option<String>,

    /// Diagnose a service: its most recent stopped tasks and its events, grouped by cause
    #[arg(long, conflicts_with = "task")]
    pub service: Option<String>,

    /// Shared config profile (else aws-config's default chain: environment, profile, SSO, IMDS, ECS credentials)
    #[arg(long)]
    pub profile: Option<String>,

    /// Region of the calls [default: the task ARN's region, else the profile's]
    #[arg(long)]
    pub region: Option<String>,

    /// Send every call to this endpoint (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> work too)
    #[arg(long)]
    pub endpoint_url: Option<String>,

    /// Read CloudTrail from this CloudWatch Logs group (where a trail delivers) instead of LookupEvents
    #[arg(long, value_name = "NAME")]
    pub trail_log_group: Option<String>,

    /// A saved EventBridge "ECS Task State Change" event, used when ECS no longer knows the task
    #[arg(long, value_name = "FILE")]
    pub task_event: Option<PathBuf>,

    /// Saved `aws ecs describe-tasks` output, used when ECS no longer knows the task
    #[arg(long, value_name = "FILE")]
    pub task_json: Option<PathBuf>,

    /// How far back to search CloudTrail when the task's own times are unknown (hours)
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub since_hours: u32,

    /// Stop a CloudTrail query after this many pages (50 events each, ~2 pages/s)
    #[arg(long, default_value_t = 20)]
    pub max_trail_pages: usize,
}

/// The spinner on stderr, shown only when stderr is a terminal.
struct Spinner(ProgressBar);

impl Spinner {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Spinner(ProgressBar::hidden());
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(bar)
    }
}

impl Progress for Spinner {
    fn step(&self, message: &str) {
        self.0.set_message(message.to_string());
    }
}

/// The CloudTrail source the user chose.
enum Trail {
    Lookup(LookupEventsTrail),
    LogGroup(LogGroupTrail),
}

impl CloudTrailSource for Trail {
    async fn lookup(
        &self,
        query: &TrailQuery,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<TrailEvents, SourceError> {
        match self {
            Trail::Lookup(t) => t.lookup(query, progress).await,
            Trail::LogGroup(t) => t.lookup(query, progress).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            Trail::Lookup(t) => t.describe(),
            Trail::LogGroup(t) => t.describe(),
        }
    }
}

fn read_saved(path: &PathBuf) -> Result<Vec<Task>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
    task_file::tasks_from_json(&text, &name)
}

pub fn run(args: LiveArgs, global: &GlobalArgs) -> i32 {
    if args.task.is_none() && args.service.is_none() && args.task_event.is_none() && args.task_json.is_none() {
        return super::fatal(
            "give a task ARN (or a task id with --cluster), or --service NAME --cluster C; see `why-task-failed --help`",
        );
    }
    let mut saved_tasks = Vec::new();
    let mut saved_from = None;
    for (flag, path) in [("--task-event", &args.task_event), ("--task-json", &args.task_json)] {
        if let Some(path) = path {
            match read_saved(path) {
                Ok(tasks) => {
                    saved_tasks.extend(tasks);
                    saved_from = Some(format!("{flag} `{}`", path.display()));
                }
                Err(message) => return super::fatal(&message),
            }
        }
    }
    let task_arg = args.task.clone().or_else(|| saved_tasks.first().map(|t| t.arn.clone()));
    let arn_region = task_arg.as_deref().and_then(TaskRef::parse).map(|r| r.region);
    if let Some(task) = &task_arg
        && TaskRef::parse(task).is_none()
        && args.cluster.is_none()
        && args.service.is_none()
    {
        return super::fatal(&format!("`{task}` is not a task ARN; give the full ARN, or the id with --cluster"));
    }
    let options = AwsOptions {
        profile: args.profile.clone(),
        region: args.region.clone().or(arn_region),
        endpoint_url: args.endpoint_url.clone(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return super::fatal(&format!("cannot start the async runtime: {e}")),
    };
    let spinner = Spinner::new();
    spinner.step("loading AWS configuration");
    let report = runtime.block_on(async {
        let config = load_config(&options).await;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err("no region: pass --region, or a task ARN (its region is used), or set AWS_REGION".to_string());
        };
        let calls = Arc::new(CallLog::new());
        let observer = spinner.0.clone();
        calls.observe(move |api, resource| observer.set_message(format!("{api} {resource}")));
        let aws = LiveAws::new(config, Arc::clone(&calls));
        let trail = match &args.trail_log_group {
            Some(group) => Trail::LogGroup(LogGroupTrail::new(aws.clone(), group.clone())),
            None => Trail::Lookup(LookupEventsTrail::new(aws.clone())),
        };
        let request = LiveRequest {
            task: task_arg.clone(),
            cluster: args.cluster.clone(),
            service: args.service.clone(),
            region,
            saved_tasks,
            saved_from,
            lookback: time::Duration::hours(i64::from(args.since_hours.max(1))),
            max_trail_pages: args.max_trail_pages.max(1),
            max_service_tasks: 10,
        };
        let gather = Gather::new(&aws, &trail, &calls, &spinner, request.max_trail_pages);
        let now = time::OffsetDateTime::now_utc();
        Ok(match &request.service {
            Some(service) => gather.service(&request, service, now).await,
            None => gather.task(&request, now).await,
        })
    });
    spinner.0.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(message) => return super::fatal(&message),
    };
    for e in &report.errors {
        eprintln!("warning: {}", e.message);
    }
    // Nothing at all could be fetched (no credentials, endpoint down): that is not a diagnosis.
    if report.findings.is_empty()
        && !report.errors.is_empty()
        && report.stats.get("task_source").is_some_and(|s| s.is_null())
        && report.errors.iter().all(|e| {
            e.message.contains("dispatch failure")
                || e.message.contains("credentials")
                || e.message.contains("io error")
                || e.message.contains("timeout")
        })
    {
        return super::fatal("no AWS call succeeded; check credentials, region and endpoint (see the warnings above)");
    }
    super::emit(&report, global)
}

/// The read-only IAM policy the live diagnosis needs, as a document.
pub fn permissions_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "WhyTaskFailedReadOnly",
            "Effect": "Allow",
            "Action": REQUIRED_ACTIONS,
            "Resource": "*",
        }],
    })
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {}

/// `why-task-failed permissions`: prints the policy (the same as docs/permissions.json).
pub fn permissions(_args: PermissionsArgs) -> i32 {
    match serde_json::to_string_pretty(&permissions_policy()) {
        Ok(text) => {
            println!("{text}");
            crate::model::exit_code::CLEAN
        }
        Err(e) => super::fatal(&format!("cannot print the policy: {e}")),
    }
}
