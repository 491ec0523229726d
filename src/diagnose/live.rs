//! The live gather plan: everything an expert would look at for one stopped task (or a service's recent stopped
//! tasks), fetched in sequential waves of concurrent calls, then joined into findings.
//!
//! Waves for a task ARN (each wave's calls run together; a wave waits for the one before):
//! 1. `ecs:DescribeTasks`
//! 2. `ecs:DescribeTaskDefinition` ‖ `cloudtrail:LookupEvents` (user name = task id, around the task's life)
//!    ‖ for an expired task: `LookupEvents` (RunTask, StartTask naming the task)
//! 3. per role `iam:GetRole` ‖ `iam:ListRolePolicies` ‖ `iam:ListAttachedRolePolicies`; per log group
//!    `logs:DescribeLogGroups`; per ECR image `ecr:DescribeImages` ‖ `ecr:GetRepositoryPolicy`; per secret
//!    `secretsmanager:DescribeSecret` / `ssm:DescribeParameters`
//! 4. `iam:GetRolePolicy` per inline policy ‖ `iam:GetPolicy` per attached policy and boundary ‖
//!    `kms:DescribeKey` per customer managed key ‖ `DescribeSecret` of a missing secret's name in the task region
//! 5. `iam:GetPolicyVersion` per managed policy ‖ `kms:GetKeyPolicy` per key
//!
//! An expired task found only through CloudTrail needs one more wave (its task definition after RunTask).

use crate::model::task::{
    AttachedPolicy, EcrImageName, ImageFacts, KmsKey, Lookup, Role, SecretFacts, SecretTarget, ServiceEvent, Task,
    TaskEvidence, TaskRef,
};
use crate::model::{Cause, Confidence, Evidence, EvidenceSource, Finding, InputError, Report, Severity};
use crate::rules::task_facts;
use crate::source::calls::CallLog;
use crate::source::cloudtrail::{CloudTrailSource, TrailEvents, TrailFilter, TrailQuery};
use crate::source::ecr::EcrSource;
use crate::source::ecs::EcsSource;
use crate::source::iam::IamSource;
use crate::source::kms::KmsSource;
use crate::source::logs::LogsSource;
use crate::source::secrets::SecretsSource;
use crate::source::ssm::SsmSource;
use crate::source::{SourceError, SourceErrorKind, task_file};
use futures::future::join_all;
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Instant;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Everything AWS can tell about a task except CloudTrail: the seven non-trail sources together.
pub trait AwsSources: EcsSource + IamSource + LogsSource + KmsSource + EcrSource + SecretsSource + SsmSource {}
impl<T: EcsSource + IamSource + LogsSource + KmsSource + EcrSource + SecretsSource + SsmSource> AwsSources for T {}

/// Where the user's attention goes while the plan runs (a spinner on a terminal, nothing otherwise).
pub trait Progress: Sync {
    fn step(&self, message: &str);
}

/// What to diagnose.
#[derive(Debug, Clone, Default)]
pub struct LiveRequest {
    /// A task ARN, or a task id with `cluster`.
    pub task: Option<String>,
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// The region of the calls (the task ARN's unless `--region`).
    pub region: String,
    /// Tasks read from `--task-event` / `--task-json`, with the file name: used when ECS no longer knows the task.
    pub saved_tasks: Vec<Task>,
    pub saved_from: Option<String>,
    /// How far back to look for an expired task's CloudTrail records (its times are unknown).
    pub lookback: Duration,
    /// Stop a CloudTrail query after this many pages.
    pub max_trail_pages: usize,
    /// How many of a service's stopped tasks to look at.
    pub max_service_tasks: usize,
}

/// Runs the plan and counts what it did.
pub struct Gather<'a, A, T> {
    aws: &'a A,
    trail: &'a T,
    calls: &'a CallLog,
    progress: &'a dyn Progress,
    waves: Cell<u32>,
    errors: RefCell<Vec<InputError>>,
    trail_pages: Cell<usize>,
    trail_truncated: Cell<bool>,
    max_trail_pages: usize,
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// `Found` / `Missing` (NotFound) / `Unknown` (any other failure, kept as an input error).
fn lookup<T>(result: Result<Option<T>, SourceError>, errors: &RefCell<Vec<InputError>>) -> Lookup<T> {
    match result {
        Ok(Some(t)) => Lookup::Found(t),
        Ok(None) => Lookup::Missing,
        Err(e) if e.kind == SourceErrorKind::NotFound => Lookup::Missing,
        Err(e) => {
            record(errors, &e);
            Lookup::Unknown
        }
    }
}

fn record(errors: &RefCell<Vec<InputError>>, e: &SourceError) {
    errors.borrow_mut().push(InputError { input: e.input(), message: e.to_string(), offset: None, line: None });
}

fn role_name(arn: &str) -> &str {
    crate::fix::role_name_of_arn(arn).unwrap_or(arn)
}

impl<'a, A: AwsSources, T: CloudTrailSource> Gather<'a, A, T> {
    pub fn new(
        aws: &'a A,
        trail: &'a T,
        calls: &'a CallLog,
        progress: &'a dyn Progress,
        max_trail_pages: usize,
    ) -> Self {
        Gather {
            aws,
            trail,
            calls,
            progress,
            waves: Cell::new(0),
            errors: RefCell::new(Vec::new()),
            trail_pages: Cell::new(0),
            trail_truncated: Cell::new(false),
            max_trail_pages,
        }
    }

    /// Starts the next wave of `depth` sequential calls (1 unless a call needs another's answer).
    fn wave(&self, depth: u32, what: &str) {
        self.waves.set(self.waves.get() + depth);
        self.progress.step(&format!("wave {}: {what}", self.waves.get()));
    }

    fn fail(&self, e: &SourceError) {
        record(&self.errors, e);
    }

    async fn trail_lookup(&self, filter: TrailFilter, start: OffsetDateTime, end: OffsetDateTime) -> Vec<Value> {
        let query = TrailQuery { start, end, filter, max_pages: self.max_trail_pages };
        let source = self.trail.describe();
        let progress = |pages: usize, events: usize| {
            self.progress.step(&format!("{source}: page {pages}, {events} events"));
        };
        match self.trail.lookup(&query, &progress).await {
            Ok(TrailEvents { events, pages, truncated }) => {
                self.trail_pages.set(self.trail_pages.get() + pages);
                if truncated {
                    self.trail_truncated.set(true);
                }
                events.iter().filter_map(|e| serde_json::from_str::<Value>(e).ok()).collect()
            }
            Err(e) => {
                self.fail(&e);
                Vec::new()
            }
        }
    }
}

/// A role's GetRole + policy listings, before the documents are fetched.
struct RoleListing {
    arn: String,
    role: Lookup<Role>,
    inline_names: Vec<String>,
    attached: Vec<(String, String)>,
}

/// Whether a KMS key id names an AWS managed key (whose policy always admits the account's principals via the
/// service).
fn is_aws_managed_alias(key_id: &str) -> bool {
    key_id.contains("alias/aws/")
}

impl<'a, A: AwsSources, T: CloudTrailSource> Gather<'a, A, T> {
    /// Waves 3–5: what the task definition depends on.
    async fn resources(&self, e: &mut TaskEvidence) {
        let Some(td) = e.task_definition.clone() else { return };
        let mut role_arns: Vec<String> = Vec::new();
        for arn in [&td.execution_role_arn, &td.task_role_arn].into_iter().flatten() {
            if !role_arns.contains(arn) {
                role_arns.push(arn.clone());
            }
        }
        let mut groups: Vec<(String, String)> = Vec::new();
        let mut images: Vec<(String, EcrImageName)> = Vec::new();
        for c in &td.containers {
            if c.log_driver.as_deref() == Some("awslogs")
                && let Some(group) = c.log_options.get("awslogs-group")
            {
                let region = c.log_options.get("awslogs-region").cloned().unwrap_or_else(|| e.region.clone());
                if !groups.iter().any(|(g, r)| g == group && *r == region) {
                    groups.push((group.clone(), region));
                }
            }
            if let Some(name) = c.image.as_deref().and_then(EcrImageName::parse) {
                images.push((c.name.clone(), name));
            }
        }
        let secrets: Vec<(crate::model::task::SecretRef, SecretTarget, String)> = td
            .secret_refs()
            .into_iter()
            .map(|r| {
                let target = SecretTarget::parse(&r.value_from, r.name == "repositoryCredentials");
                let region = match &target {
                    SecretTarget::SecretsManager { region, .. } | SecretTarget::Ssm { region, .. } => {
                        region.clone().unwrap_or_else(|| e.region.clone())
                    }
                };
                (r, target, region)
            })
            .collect();
        if role_arns.is_empty() && groups.is_empty() && images.is_empty() && secrets.is_empty() {
            return;
        }

        self.wave(1, "roles, log groups, images, secrets");
        let aws = self.aws;
        let role_calls = role_arns.iter().map(|arn| async move {
            let name = role_name(arn);
            tokio::join!(aws.get_role(name), aws.list_role_policies(name), aws.list_attached_role_policies(name))
        });
        let log_calls = groups.iter().map(|(g, r)| aws.find_log_group(g, r));
        let image_calls =
            images.iter().map(|(_, n)| async move { tokio::join!(aws.describe_image(n), aws.repository_policy(n)) });
        let secret_calls = secrets.iter().map(|(_, target, region)| async move {
            match target {
                SecretTarget::SecretsManager { arn, name, .. } => {
                    let id = arn.as_deref().unwrap_or(name);
                    (Some(aws.describe_secret(id, region).await), None)
                }
                SecretTarget::Ssm { name, .. } => (None, Some(aws.describe_parameter(name, region).await)),
            }
        });
        let (role_results, log_results, image_results, secret_results) =
            tokio::join!(join_all(role_calls), join_all(log_calls), join_all(image_calls), join_all(secret_calls));

        let mut listings = Vec::new();
        for (arn, (role, inline, attached)) in role_arns.iter().zip(role_results) {
            let role = match role {
                Ok(summary) => Lookup::Found(Role {
                    arn: summary.arn,
                    name: summary.name,
                    trust_policy: summary.trust_policy,
                    inline_policies: BTreeMap::new(),
                    attached_policies: Vec::new(),
                    permissions_boundary: summary.permissions_boundary_arn.map(|b| AttachedPolicy {
                        name: b.rsplit('/').next().unwrap_or(&b).to_string(),
                        arn: b,
                        document: None,
                    }),
                }),
                Err(e) if e.kind == SourceErrorKind::NotFound => Lookup::Missing,
                Err(e) => {
                    self.fail(&e);
                    Lookup::Unknown
                }
            };
            let found = matches!(role, Lookup::Found(_));
            let inline_names = match inline {
                Ok(names) => names,
                Err(e) => {
                    if found {
                        self.fail(&e);
                    }
                    Vec::new()
                }
            };
            let attached = match attached {
                Ok(list) => list,
                Err(e) => {
                    if found {
                        self.fail(&e);
                    }
                    Vec::new()
                }
            };
            listings.push(RoleListing { arn: arn.clone(), role, inline_names, attached });
        }
        for ((group, _), result) in groups.iter().zip(log_results) {
            e.log_groups.insert(group.clone(), lookup(result, &self.errors));
        }
        for ((container, name), (image, policy)) in images.iter().zip(image_results) {
            let (image, repository_exists) = match image {
                Ok(Some(i)) => (Lookup::Found(i), Some(true)),
                Ok(None) => (Lookup::Missing, Some(true)),
                Err(err) if err.code.as_deref() == Some("RepositoryNotFoundException") => {
                    (Lookup::Missing, Some(false))
                }
                Err(err) => {
                    self.fail(&err);
                    (Lookup::Unknown, None)
                }
            };
            let repository_policy = match policy {
                Ok(Some(p)) => Lookup::Found(p),
                Ok(None) => Lookup::Missing,
                Err(err) if err.kind == SourceErrorKind::NotFound => Lookup::Missing,
                Err(err) => {
                    self.fail(&err);
                    Lookup::Unknown
                }
            };
            e.images.push(ImageFacts {
                container: container.clone(),
                name: name.clone(),
                image,
                repository_exists,
                repository_policy,
            });
        }
        for ((reference, target, region), (secret, parameter)) in secrets.iter().zip(secret_results) {
            e.secrets.push(SecretFacts {
                reference: reference.clone(),
                target: target.clone(),
                region: region.clone(),
                secret: secret.map_or(Lookup::Unknown, |r| lookup(r, &self.errors)),
                parameter: parameter.map_or(Lookup::Unknown, |r| lookup(r, &self.errors)),
                same_name_in_task_region: None,
                key: Lookup::Unknown,
            });
        }

        // Waves 4–5: policy documents, keys, and a missing secret's namesake in the task's region.
        let inline_calls: Vec<_> = listings
            .iter()
            .filter(|l| matches!(l.role, Lookup::Found(_)))
            .flat_map(|l| {
                let name = role_name(&l.arn);
                l.inline_names
                    .iter()
                    .map(move |p| async move { (name.to_string(), p.clone(), aws.get_role_policy(name, p).await) })
            })
            .collect();
        let mut managed_arns: Vec<String> = Vec::new();
        for l in &listings {
            for (arn, _) in &l.attached {
                if !managed_arns.contains(arn) {
                    managed_arns.push(arn.clone());
                }
            }
            if let Lookup::Found(role) = &l.role
                && let Some(b) = &role.permissions_boundary
                && !managed_arns.contains(&b.arn)
            {
                managed_arns.push(b.arn.clone());
            }
        }
        let managed_calls = managed_arns.iter().map(|arn| aws.get_policy_default_version(arn));
        let key_ids: Vec<(usize, String, String)> = e
            .secrets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let key = match (&s.secret, &s.parameter) {
                    (Lookup::Found(m), _) => m.kms_key_id.clone(),
                    (_, Lookup::Found(p)) if p.kind.as_deref() == Some("SecureString") => p.kms_key_id.clone(),
                    _ => None,
                }?;
                (!is_aws_managed_alias(&key)).then(|| (i, key, s.region.clone()))
            })
            .collect();
        let key_calls = key_ids.iter().map(|(_, key, region)| async move {
            let described = aws.describe_key(key, region).await?;
            if described.key_manager.as_deref() == Some("AWS") {
                return Ok(described);
            }
            let policy = aws.get_key_policy(&described.arn, region).await?;
            Ok::<KmsKey, SourceError>(KmsKey { policy: Some(policy), ..described })
        });
        let namesake_ids: Vec<(usize, String)> = e
            .secrets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match (&s.target, &s.secret) {
                (SecretTarget::SecretsManager { name, .. }, Lookup::Missing) if s.region != e.region => {
                    Some((i, name.clone()))
                }
                _ => None,
            })
            .collect();
        let region = e.region.clone();
        let namesake_calls = namesake_ids.iter().map(|(_, name)| aws.describe_secret(name, &region));
        let depth = if !managed_arns.is_empty() || !key_ids.is_empty() {
            2
        } else if !inline_calls.is_empty() || !namesake_ids.is_empty() {
            1
        } else {
            0
        };
        if depth == 0 {
            drop(inline_calls);
            e.roles.extend(listings.into_iter().map(|l| (l.arn, l.role)));
            return;
        }
        self.wave(depth, "policy documents, KMS key policies");
        let (inline_docs, managed_docs, keys, namesakes) = tokio::join!(
            join_all(inline_calls),
            join_all(managed_calls),
            join_all(key_calls),
            join_all(namesake_calls)
        );
        let mut inline_by_role: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for (role, policy, doc) in inline_docs {
            match doc {
                Ok(doc) => {
                    inline_by_role.entry(role).or_default().insert(policy, doc);
                }
                Err(err) => self.fail(&err),
            }
        }
        let mut managed: BTreeMap<&str, Value> = BTreeMap::new();
        for (arn, doc) in managed_arns.iter().zip(managed_docs) {
            match doc {
                Ok(doc) => {
                    managed.insert(arn, doc);
                }
                Err(err) => self.fail(&err),
            }
        }
        for l in listings {
            let role = match l.role {
                Lookup::Found(mut role) => {
                    role.inline_policies = inline_by_role.remove(role_name(&l.arn)).unwrap_or_default();
                    role.attached_policies = l
                        .attached
                        .iter()
                        .map(|(arn, name)| AttachedPolicy {
                            arn: arn.clone(),
                            name: name.clone(),
                            document: managed.get(arn.as_str()).cloned(),
                        })
                        .collect();
                    if let Some(b) = role.permissions_boundary.as_mut() {
                        b.document = managed.get(b.arn.as_str()).cloned();
                    }
                    Lookup::Found(role)
                }
                other => other,
            };
            e.roles.insert(l.arn, role);
        }
        for ((i, _, _), key) in key_ids.iter().zip(keys) {
            e.secrets[*i].key = match key {
                Ok(k) => Lookup::Found(k),
                Err(err) if err.kind == SourceErrorKind::NotFound => Lookup::Missing,
                Err(err) => {
                    self.fail(&err);
                    Lookup::Unknown
                }
            };
        }
        for ((i, _), found) in namesake_ids.iter().zip(namesakes) {
            if let Lookup::Found(meta) = lookup(found, &self.errors) {
                e.secrets[*i].same_name_in_task_region = Some(meta);
            }
        }
    }
}

/// The window of CloudTrail records around a task's life: from a little before it was created (or an hour
/// before it stopped) to a little after it stopped (or now).
fn task_window(task: &Task, now: OffsetDateTime, lookback: Duration) -> (OffsetDateTime, OffsetDateTime) {
    let margin = Duration::minutes(10);
    let stopped = task.stopped_at.as_deref().and_then(parse_time);
    let created = task.created_at.as_deref().or(task.started_at.as_deref()).and_then(parse_time);
    let end = stopped.map_or(now, |t| (t + margin).min(now));
    let start = match (created, stopped) {
        (Some(c), _) => c - margin,
        (None, Some(s)) => s - Duration::hours(1),
        (None, None) => now - lookback,
    };
    (start.min(end), end)
}

/// The task a RunTask/StartTask record started, when it names `task_arn`.
fn task_from_run_record(record: &Value, task_arn: &str) -> Option<Task> {
    let tasks = task_file::tasks_from_value(record.get("responseElements")?)?;
    let mut task = tasks.into_iter().find(|t| t.arn == task_arn)?;
    if task.created_at.is_none() {
        task.created_at = record.get("eventTime").and_then(Value::as_str).map(str::to_string);
    }
    Some(task)
}

impl<'a, A: AwsSources, T: CloudTrailSource> Gather<'a, A, T> {
    /// Diagnoses one task. `now` is the wall clock (a parameter so that tests can pin it).
    pub async fn task(&self, req: &LiveRequest, now: OffsetDateTime) -> Report {
        let started = Instant::now();
        let task_arg = req.task.clone().or_else(|| req.saved_tasks.first().map(|t| t.arn.clone())).unwrap_or_default();
        let task_ref = TaskRef::parse(&task_arg);
        let cluster = req
            .cluster
            .clone()
            .or_else(|| task_ref.as_ref().and_then(|r| r.cluster.clone()))
            .or_else(|| req.saved_tasks.first().and_then(|t| t.cluster_arn.clone()))
            .unwrap_or_else(|| "default".to_string());
        let mut e = TaskEvidence {
            partition: task_ref.as_ref().map_or_else(|| "aws".to_string(), |r| r.partition.clone()),
            region: req.region.clone(),
            account: task_ref.as_ref().map(|r| r.account.clone()).unwrap_or_default(),
            ..Default::default()
        };
        let task_id = task_ref
            .as_ref()
            .map_or_else(|| task_arg.rsplit('/').next().unwrap_or(&task_arg).to_string(), |r| r.task_id.clone());

        // Wave 1: the task itself.
        self.wave(1, "ecs:DescribeTasks");
        match self.aws.describe_tasks(&cluster, std::slice::from_ref(&task_arg)).await {
            Ok(described) => {
                if let Some(task) = described.tasks.into_iter().next() {
                    e.task = Some(task);
                    e.task_source = Some("ecs:DescribeTasks".into());
                } else if described.failures.iter().any(|(_, reason)| reason == "MISSING") {
                    e.task_expired = true;
                }
            }
            Err(err) => self.fail(&err),
        }
        if e.task.is_none()
            && let Some(saved) =
                req.saved_tasks.iter().find(|t| t.arn == task_arg || t.arn.ends_with(&format!("/{task_id}")))
        {
            e.task = Some(saved.clone());
            e.task_source = req.saved_from.clone();
        }
        if let Some(t) = &e.task
            && e.account.is_empty()
            && let Some(r) = TaskRef::parse(&t.arn)
        {
            e.account = r.account;
            e.partition = r.partition;
        }

        // Wave 2: the task definition and CloudTrail, side by side.
        let full_arn = e.task.as_ref().map_or(task_arg.clone(), |t| t.arn.clone());
        let (start, end) = match &e.task {
            Some(t) => task_window(t, now, req.lookback),
            None => (now - req.lookback, now),
        };
        let td_arn = e.task.as_ref().and_then(|t| t.task_definition_arn.clone());
        let look_for_start = e.task.is_none();
        self.wave(1, "task definition, CloudTrail");
        let td_call = async {
            match &td_arn {
                Some(arn) => Some(self.aws.describe_task_definition(arn).await),
                None => None,
            }
        };
        let session_call = self.trail_lookup(TrailFilter::Session(task_id.clone()), start, end);
        let start_calls = async {
            if !look_for_start {
                return Vec::new();
            }
            let (run, start_task) = tokio::join!(
                self.trail_lookup(
                    TrailFilter::EventMentioning { event_name: "RunTask".into(), text: full_arn.clone() },
                    start,
                    end
                ),
                self.trail_lookup(
                    TrailFilter::EventMentioning { event_name: "StartTask".into(), text: full_arn.clone() },
                    start,
                    end
                )
            );
            run.into_iter().chain(start_task).collect::<Vec<_>>()
        };
        let (td, session_events, start_events) = tokio::join!(td_call, session_call, start_calls);
        match td {
            Some(Ok(td)) => e.task_definition = Some(td),
            Some(Err(err)) => self.fail(&err),
            None => {}
        }
        e.trail_events = session_events;
        if e.task.is_none()
            && let Some(task) = start_events.iter().find_map(|r| task_from_run_record(r, &full_arn))
        {
            e.task = Some(task);
            e.task_source = Some(format!("the RunTask/StartTask record in {}", self.trail.describe()));
        }
        e.trail_events.extend(start_events);
        if e.task_definition.is_none()
            && let Some(arn) = e.task.as_ref().and_then(|t| t.task_definition_arn.clone())
        {
            self.wave(1, "ecs:DescribeTaskDefinition");
            match self.aws.describe_task_definition(&arn).await {
                Ok(td) => e.task_definition = Some(td),
                Err(err) => self.fail(&err),
            }
        }
        if e.account.is_empty()
            && let Some(r) = e.task.as_ref().and_then(|t| TaskRef::parse(&t.arn))
        {
            e.account = r.account;
        }

        self.resources(&mut e).await;
        self.report(&e, &full_arn, started, Vec::new())
    }

    /// Diagnoses a service: its most recent stopped tasks and its events, grouped by cause.
    pub async fn service(&self, req: &LiveRequest, service: &str, now: OffsetDateTime) -> Report {
        let started = Instant::now();
        let cluster = req.cluster.clone().unwrap_or_else(|| "default".to_string());
        self.wave(1, "ecs:DescribeServices, ecs:ListTasks");
        let (described, stopped) = tokio::join!(
            self.aws.describe_service(&cluster, service),
            self.aws.list_stopped_tasks(&cluster, service, req.max_service_tasks)
        );
        let svc = match described {
            Ok(Some(s)) => Some(s),
            Ok(None) => {
                self.errors.borrow_mut().push(InputError {
                    input: format!("api:ecs:DescribeServices {service}"),
                    message: format!("ECS knows no service `{service}` in cluster `{cluster}`"),
                    offset: None,
                    line: None,
                });
                None
            }
            Err(err) => {
                self.fail(&err);
                None
            }
        };
        let stopped_arns = stopped.unwrap_or_else(|err| {
            self.fail(&err);
            Vec::new()
        });
        let first = stopped_arns.first().and_then(|a| TaskRef::parse(a));
        let mut e = TaskEvidence {
            partition: first.as_ref().map_or_else(|| "aws".to_string(), |r| r.partition.clone()),
            region: req.region.clone(),
            account: first.as_ref().map(|r| r.account.clone()).unwrap_or_default(),
            ..Default::default()
        };
        if e.account.is_empty()
            && let Some(r) = svc.as_ref().and_then(|s| s.arn.split(':').nth(4))
        {
            e.account = r.to_string();
        }

        self.wave(1, "stopped tasks, task definition, CloudTrail");
        let td_arn = svc.as_ref().and_then(|s| s.task_definition_arn.clone());
        let tasks_call = async {
            if stopped_arns.is_empty() {
                return Vec::new();
            }
            match self.aws.describe_tasks(&cluster, &stopped_arns).await {
                Ok(d) => d.tasks,
                Err(err) => {
                    self.fail(&err);
                    Vec::new()
                }
            }
        };
        let td_call = async {
            match &td_arn {
                Some(arn) => Some(self.aws.describe_task_definition(arn).await),
                None => None,
            }
        };
        let trail_call = async {
            match &first {
                Some(r) => self.trail_lookup(TrailFilter::Session(r.task_id.clone()), now - req.lookback, now).await,
                None => Vec::new(),
            }
        };
        let (mut tasks, td, events) = tokio::join!(tasks_call, td_call, trail_call);
        match td {
            Some(Ok(td)) => e.task_definition = Some(td),
            Some(Err(err)) => self.fail(&err),
            None => {}
        }
        // The newest stopped task stands for the service; the others add their reasons.
        tasks.sort_by(|a, b| b.stopped_at.cmp(&a.stopped_at));
        let mut tasks = tasks.into_iter();
        e.task = tasks.next();
        e.task_source = e.task.as_ref().map(|_| "ecs:DescribeTasks".to_string());
        e.trail_events = events;
        self.resources(&mut e).await;
        let others: Vec<Task> = tasks.collect();
        let service_events = svc.map(|s| s.events).unwrap_or_default();
        let label = format!("service `{service}` in cluster `{cluster}`");
        let mut report = self.report(&e, &label, started, others);
        group_service_events(&mut report, &service_events);
        report
    }

    fn report(&self, e: &TaskEvidence, subject: &str, started: Instant, other_tasks: Vec<Task>) -> Report {
        let mut findings = task_facts::findings(e);
        // Other stopped tasks of a service that stopped for the same reason add to the count.
        let primary = e.task.as_ref().and_then(|t| t.stopped_reason.as_deref()).map(normalize);
        let same: Vec<&str> = other_tasks
            .iter()
            .filter(|t| primary.is_some() && t.stopped_reason.as_deref().map(normalize) == primary)
            .map(|t| t.arn.as_str())
            .collect();
        if !same.is_empty() {
            for f in
                findings.iter_mut().filter(|f| f.evidence.iter().any(|ev| ev.source == EvidenceSource::StoppedReason))
            {
                f.count += same.len() as u64;
                f.evidence.push(Evidence::text(
                    EvidenceSource::StoppedReason,
                    format!("{} more stopped task(s) with the same reason: {}", same.len(), same.join(", ")),
                ));
            }
        }
        if e.task_expired {
            let mut f = Finding::new(
                Cause::Unknown,
                format!(
                    "ECS no longer describes `{subject}` (it keeps stopped tasks for about an hour); {}",
                    match &e.task_source {
                        Some(source) => format!("the task's facts come from {source}"),
                        None => "no RunTask/StartTask record names it; pass `--task-event` or `--task-json` with a \
                                 saved copy"
                            .to_string(),
                    }
                ),
            );
            f.severity = Severity::Info;
            f.confidence = Confidence::High;
            f.resource = Some(subject.to_string());
            f.evidence.push(Evidence::text(EvidenceSource::UserInput, "ecs:DescribeTasks: failure reason MISSING"));
            findings.push(f);
        }
        if let Some(task) = &e.task
            && let Some(reason) = &task.stopped_reason
            && !findings.iter().any(|f| f.evidence.iter().any(|ev| ev.source == EvidenceSource::StoppedReason))
            && !is_benign_stop(task)
        {
            // Nothing fetched explains the stop: report the reason as it stands rather than stay silent.
            let mut f = Finding::new(
                Cause::Unknown,
                "the task stopped for a reason the fetched facts (roles, policies, log groups, images, secrets, keys) \
                 do not explain",
            );
            f.severity = Severity::Warning;
            f.confidence = Confidence::Low;
            f.resource = Some(task.arn.clone());
            let mut ev = Evidence::text(EvidenceSource::StoppedReason, reason.clone());
            ev.time = task.stopped_at.clone();
            f.evidence.push(ev);
            for c in task.containers.iter().filter(|c| c.reason.is_some() || c.exit_code.is_some_and(|x| x != 0)) {
                f.evidence.push(Evidence::text(
                    EvidenceSource::ContainerReason,
                    format!(
                        "{}: exit code {}, {}",
                        c.name,
                        c.exit_code.map_or("none".to_string(), |x| x.to_string()),
                        c.reason.as_deref().unwrap_or("no reason")
                    ),
                ));
            }
            findings.push(f);
        }
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.confidence.cmp(&a.confidence)));
        let mut report = Report { findings, errors: self.errors.borrow().clone(), ..Default::default() };
        let by_api: BTreeMap<String, Value> =
            self.calls.by_api().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        report.stats.insert("api_calls".into(), json!(self.calls.total()));
        report.stats.insert("api_calls_by_operation".into(), json!(by_api));
        report.stats.insert("waves".into(), json!(self.waves.get()));
        report.stats.insert("wall_time_ms".into(), json!(started.elapsed().as_millis() as u64));
        report.stats.insert("cloudtrail_source".into(), json!(self.trail.describe()));
        report.stats.insert("cloudtrail_pages".into(), json!(self.trail_pages.get()));
        report.stats.insert("cloudtrail_events".into(), json!(e.trail_events.len()));
        if self.trail_truncated.get() {
            report.stats.insert("cloudtrail_truncated".into(), json!(true));
        }
        report.stats.insert("task_source".into(), json!(e.task_source));
        report.stats.insert("task_expired".into(), json!(e.task_expired));
        if let Some(t) = &e.task {
            report.stats.insert("task_status".into(), json!(t.last_status));
        }
        report
    }
}

/// A stop nobody needs to act on: the task still runs, a user or a deployment stopped it, or every essential
/// container exited 0.
fn is_benign_stop(task: &Task) -> bool {
    if task.last_status.as_deref() == Some("RUNNING") {
        return true;
    }
    match task.stop_code.as_deref() {
        Some("UserInitiated") | Some("ServiceSchedulerInitiated") => true,
        Some("EssentialContainerExited") => task.containers.iter().all(|c| c.exit_code.is_none_or(|x| x == 0)),
        _ => false,
    }
}

/// A message with its variable parts (ids, ARNs, numbers) blurred, for grouping.
fn normalize(text: &str) -> String {
    text.split_whitespace()
        .map(|w| if w.chars().any(|c| c.is_ascii_digit()) || w.contains("arn:") { "…" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds a service's events to the findings they corroborate (same role ARN / cause words), and groups the rest
/// by message shape.
fn group_service_events(report: &mut Report, events: &[ServiceEvent]) {
    let problem = |m: &str| {
        let lower = m.to_lowercase();
        ["unable to", "failed", "error", "circuit breaker", "rolling back", "rolled back"]
            .iter()
            .any(|w| lower.contains(w))
    };
    let mut groups: BTreeMap<String, Vec<&ServiceEvent>> = BTreeMap::new();
    'events: for ev in events.iter().filter(|ev| problem(&ev.message)) {
        for f in report.findings.iter_mut() {
            let about_role = f.cause == Cause::TrustPolicyDenied
                && f.resource.as_deref().is_some_and(|r| ev.message.contains(r))
                && ev.message.contains("unable to assume the role");
            if about_role {
                let mut evidence = Evidence::text(EvidenceSource::ServiceEvent, ev.message.clone());
                evidence.time = ev.created_at.clone();
                evidence.event_id = ev.id.clone();
                if f.first_seen.is_none() || evidence.time < f.first_seen {
                    f.first_seen = evidence.time.clone();
                }
                if evidence.time > f.last_seen {
                    f.last_seen = evidence.time.clone();
                }
                f.evidence.push(evidence);
                f.count += 1;
                continue 'events;
            }
        }
        groups.entry(normalize(&ev.message)).or_default().push(ev);
    }
    for (shape, evs) in groups {
        let mut f = Finding::new(Cause::Unknown, format!("service event ({}×): {shape}", evs.len()));
        f.severity = Severity::Warning;
        f.confidence = Confidence::Low;
        f.count = evs.len() as u64;
        f.first_seen = evs.iter().filter_map(|e| e.created_at.clone()).min();
        f.last_seen = evs.iter().filter_map(|e| e.created_at.clone()).max();
        for ev in evs {
            let mut evidence = Evidence::text(EvidenceSource::ServiceEvent, ev.message.clone());
            evidence.time = ev.created_at.clone();
            evidence.event_id = ev.id.clone();
            f.evidence.push(evidence);
        }
        report.findings.push(f);
    }
}
