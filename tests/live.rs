//! The live diagnosis against the moto emulator (`scripts/moto-up`), run as a user would: the real binary, with
//! only `AWS_ENDPOINT_URL` and dummy credentials in its environment. Each scenario is built through the public
//! AWS API by tests/support/moto/scenarios.py (`POST /_why/scenario/NAME`), then diagnosed in JSON and as a table.
//!
//! Without a running emulator these tests skip with a message; with `CI=true` they fail instead.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Scenarios reset the emulator: one at a time.
static EMULATOR: Mutex<()> = Mutex::new(());

fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WHY_MOTO_STATE") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("WHY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/why-task-failed"));
    cache.join("moto")
}

/// One HTTP/1.1 request to the emulator; (status, body).
fn http(url: &str, method: &str, path: &str) -> Result<(u16, String), String> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).map_err(|e| format!("cannot connect to `{host}`: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP header")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
    Ok((status, body.to_string()))
}

/// The emulator's URL and the lock, or `None` (skip) when it is not running outside CI.
fn emulator() -> Option<(String, MutexGuard<'static, ()>)> {
    let url = std::env::var("WHY_MOTO_URL")
        .ok()
        .or_else(|| std::fs::read_to_string(state_dir().join("url")).ok())
        .map(|u| u.trim().to_string());
    let healthy = url.as_deref().is_some_and(|u| matches!(http(u, "GET", "/_why/health"), Ok((200, _))));
    if !healthy {
        let message = "the AWS emulator is not running: start it with `scripts/moto-up` (scripts/test does)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; CI=true requires the live tests to run");
        }
        eprintln!("skipped: {message}");
        return None;
    }
    let guard = EMULATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    url.map(|u| (u, guard))
}

fn scenario(url: &str, name: &str) -> Value {
    let (status, body) = http(url, "POST", &format!("/_why/scenario/{name}")).expect("scenario request");
    assert_eq!(status, 200, "scenario `{name}` could not be built: {body}");
    serde_json::from_str(&body).expect("scenario facts")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with nothing but the endpoint and dummy credentials (HOME points at an empty directory so no
/// shared config or cached SSO token leaks in).
fn why(url: &str, args: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("temp home");
    let out = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run why-task-failed");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The JSON report and the table for the same arguments; prints the run's figures for the record.
fn diagnose(url: &str, name: &str, args: &[&str]) -> (Value, Run, String) {
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let run = why(url, &json_args);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{name}: output is not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    let stats = &report["stats"];
    eprintln!(
        "scenario {name}: {} API calls, {} waves, {} ms",
        stats["api_calls"], stats["waves"], stats["wall_time_ms"]
    );
    let mut table_args = args.to_vec();
    table_args.extend(["--format", "table", "--color", "never"]);
    let table = why(url, &table_args);
    assert_eq!(table.code, run.code, "{name}: table and JSON runs disagree: {}", table.stderr);
    (report, run, table.stdout)
}

fn findings_of<'a>(report: &'a Value, cause: &str) -> Vec<&'a Value> {
    report["findings"].as_array().map(|fs| fs.iter().filter(|f| f["cause"] == cause).collect()).unwrap_or_default()
}

fn error_causes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter(|f| f["severity"] == "error")
                .filter_map(|f| f["cause"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn text(facts: &Value, key: &str) -> String {
    facts[key].as_str().unwrap_or_else(|| panic!("scenario fact `{key}` missing: {facts}")).to_string()
}

#[test]
fn execution_role_without_ecr_permissions() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "ecr-denied");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "ecr-denied", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(error_causes(&report), ["image-pull-denied"]);
    let f = findings_of(&report, "image-pull-denied")[0];
    assert_eq!(f["role_kind"], "execution");
    assert_eq!(f["principal"], text(&facts, "execution_role_arn"));
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["role_session"], text(&facts, "task_id"));
    assert!(f["evidence"].as_array().expect("evidence").iter().any(|e| e["source"] == "cloudtrail"));
    assert!(f["evidence"].as_array().expect("evidence").iter().any(|e| e["source"] == "stopped-reason"));
    assert_eq!(f["explanation"][0]["decision"], "implicit-deny");
    let doc = &f["fixes"][0]["document"];
    assert_eq!(doc["Statement"][0]["Action"], "ecr:GetAuthorizationToken");
    assert_eq!(doc["Statement"][0]["Resource"], "*");
    assert_eq!(doc["Statement"][1]["Resource"], text(&facts, "repository_arn"));
    assert!(f["fixes"][0]["commands"][0].as_str().expect("command").contains("--role-name why-ecr-denied-exec"));
    assert!(table.contains("image-pull-denied"), "{table}");
    assert!(table.contains(&text(&facts, "repository_arn")), "{table}");
    assert!(report["stats"]["waves"].as_u64().is_some_and(|w| (4..=5).contains(&w)), "{}", report["stats"]);
    assert_eq!(report["stats"]["api_calls_by_operation"]["ecs:DescribeTasks"], 1);
}

#[test]
fn log_group_missing() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "log-group-missing");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "log-group-missing", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(error_causes(&report), ["log-group-not-found"]);
    let f = findings_of(&report, "log-group-not-found")[0];
    let group = text(&facts, "log_group");
    assert_eq!(f["details"]["log_group"], group);
    assert_eq!(f["confidence"], "high");
    assert!(f["evidence"].as_array().expect("evidence").iter().any(|e| e["source"] == "stopped-reason"));
    let command = f["fixes"][0]["commands"][0].as_str().expect("command");
    assert_eq!(command, format!("aws logs create-log-group --log-group-name {group} --region us-east-1"));
    assert!(table.contains("log-group-not-found") && table.contains(&group), "{table}");
}

#[test]
fn secret_referenced_in_another_region() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "secret-other-region");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "secret-other-region", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(error_causes(&report), ["secret-not-found"]);
    let f = findings_of(&report, "secret-not-found")[0];
    assert_eq!(f["details"]["region"], "us-west-2");
    assert_eq!(f["details"]["found_in_region"], "us-east-1");
    assert_eq!(f["details"]["found_arn"], text(&facts, "secret_arn"));
    assert_eq!(f["resource"], text(&facts, "referenced_arn"));
    assert_eq!(f["fixes"][0]["target"], "task-definition");
    assert!(f["fixes"][0]["steps"][0].as_str().expect("step").contains(&text(&facts, "secret_arn")));
    assert!(table.contains("secret-not-found") && table.contains("lives in"), "{table}");
    // DescribeSecret in the ARN's region, then the same name in the task's region.
    assert_eq!(report["stats"]["api_calls_by_operation"]["secretsmanager:DescribeSecret"], 2);
}

#[test]
fn kms_key_policy_without_the_execution_role() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "kms-key-policy");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "kms-key-policy", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(error_causes(&report), ["kms-key-unusable"]);
    let f = findings_of(&report, "kms-key-unusable")[0];
    let key = text(&facts, "key_arn");
    assert_eq!(f["resource"], key);
    assert_eq!(f["policy_type"], "key");
    assert_eq!(f["explanation"]["decision"], "implicit-deny");
    let fix = &f["fixes"][0];
    assert_eq!(fix["target"], "key-policy");
    assert_eq!(fix["target_arn"], key);
    let statements = fix["document"]["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "the existing statement is kept");
    assert_eq!(statements[1]["Principal"]["AWS"], text(&facts, "execution_role_arn"));
    assert_eq!(statements[1]["Condition"]["StringEquals"]["kms:ViaService"], "secretsmanager.us-east-1.amazonaws.com");
    assert!(
        fix["commands"][0].as_str().expect("command").starts_with(&format!("aws kms put-key-policy --key-id {key}"))
    );
    assert!(table.contains("kms-key-unusable") && table.contains(&key), "{table}");
    assert_eq!(report["stats"]["api_calls_by_operation"]["kms:GetKeyPolicy"], 1);
}

#[test]
fn trust_policy_without_ecs_tasks() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "trust-policy");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "trust-policy", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(error_causes(&report), ["trust-policy-denied"]);
    let f = findings_of(&report, "trust-policy-denied")[0];
    assert_eq!(f["resource"], text(&facts, "execution_role_arn"));
    assert_eq!(f["role_kind"], "execution");
    assert!(f["evidence"].as_array().expect("evidence").iter().any(|e| e["source"] == "stopped-reason"));
    let doc = &f["fixes"][0]["document"];
    let added = &doc["Statement"][1];
    assert_eq!(added["Principal"]["Service"], "ecs-tasks.amazonaws.com");
    assert_eq!(added["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012");
    assert!(f["fixes"][0]["commands"][0].as_str().expect("command").starts_with("aws iam update-assume-role-policy"));
    assert!(table.contains("trust-policy-denied") && table.contains("does not trust"), "{table}");
}

#[test]
fn expired_task_falls_back_to_cloudtrail() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "expired");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "expired", &[&arn]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["stats"]["task_expired"], true);
    let source = report["stats"]["task_source"].as_str().expect("task source");
    assert!(source.contains("RunTask"), "{source}");
    let note = findings_of(&report, "unknown");
    assert!(
        note.iter().any(
            |f| f["severity"] == "info" && f["summary"].as_str().is_some_and(|s| s.contains("no longer describes"))
        )
    );
    assert_eq!(error_causes(&report), ["image-pull-denied"]);
    assert!(table.contains("no longer describes"), "{table}");
    assert!(report["stats"]["api_calls_by_operation"]["cloudtrail:LookupEvents"].as_u64() >= Some(3));
}

#[test]
fn expired_task_with_saved_event() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "expired");
    let dir = tempfile::tempdir().expect("temp dir");
    let event = dir.path().join("task-state-change.json");
    std::fs::write(&event, facts["task_event"].to_string()).expect("write event");
    let event_arg = event.to_string_lossy().into_owned();
    let (report, run, table) = diagnose(&url, "expired --task-event", &["--task-event", &event_arg]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let source = report["stats"]["task_source"].as_str().expect("task source");
    assert!(source.starts_with("--task-event"), "{source}");
    let f = findings_of(&report, "image-pull-denied")[0];
    let reasons: Vec<&Value> =
        f["evidence"].as_array().expect("evidence").iter().filter(|e| e["source"] == "stopped-reason").collect();
    assert!(!reasons.is_empty(), "the saved stopped reason corroborates: {f}");
    assert!(table.contains("image-pull-denied"), "{table}");
    // The saved event makes the RunTask search unnecessary.
    assert_eq!(report["stats"]["api_calls_by_operation"]["cloudtrail:LookupEvents"], 1);
}

#[test]
fn healthy_task_raises_no_alarm() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "healthy");
    let arn = text(&facts, "task_arn");
    let (report, run, table) = diagnose(&url, "healthy", &[&arn]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0), "{}", report["findings"]);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0), "{}", report["errors"]);
    assert!(table.contains("No problem found."), "{table}");
    // The managed policy was read (GetPolicy + GetPolicyVersion) and judged.
    assert_eq!(report["stats"]["api_calls_by_operation"]["iam:GetPolicyVersion"], 1);
}

#[test]
fn service_groups_stopped_tasks_and_events() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "service");
    let cluster = text(&facts, "cluster");
    let (report, run, table) =
        diagnose(&url, "service", &["--service", "web", "--cluster", &cluster, "--region", "us-east-1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let pull = findings_of(&report, "image-pull-denied");
    assert_eq!(pull.len(), 1);
    assert_eq!(pull[0]["count"], 2, "both stopped tasks failed the same way");
    let trust = findings_of(&report, "trust-policy-denied");
    assert_eq!(trust.len(), 1, "{}", report["findings"]);
    assert_eq!(trust[0]["resource"], text(&facts, "task_role_arn"));
    let service_events =
        trust[0]["evidence"].as_array().expect("evidence").iter().filter(|e| e["source"] == "service-event").count();
    assert_eq!(service_events, 2, "the two `unable to assume the role` events back the trust finding");
    assert!(table.contains("trust-policy-denied") && table.contains("image-pull-denied"), "{table}");
    assert_eq!(report["stats"]["api_calls_by_operation"]["ecs:ListTasks"], 1);
}

#[test]
fn trail_log_group_instead_of_lookup_events() {
    let Some((url, _lock)) = emulator() else { return };
    let facts = scenario(&url, "ecr-denied");
    let arn = text(&facts, "task_arn");
    let (report, run, _) = diagnose(&url, "trail-log-group", &[&arn, "--trail-log-group", "/aws/cloudtrail/why"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["stats"]["cloudtrail_source"], "log group `/aws/cloudtrail/why`");
    assert_eq!(report["stats"]["api_calls_by_operation"]["logs:FilterLogEvents"], 1);
    assert!(report["stats"]["api_calls_by_operation"].get("cloudtrail:LookupEvents").is_none());
    assert_eq!(error_causes(&report), ["image-pull-denied"]);
}

#[test]
fn unreachable_endpoint_is_fatal_not_a_diagnosis() {
    // Needs no emulator: a port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let run =
        why(&url, &["arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef", "--format", "json"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("ecs:DescribeTasks"), "{}", run.stderr);
}

#[test]
fn permissions_subcommand_matches_the_shipped_policy() {
    let run = Command::new(env!("CARGO_BIN_EXE_why-task-failed")).arg("permissions").output().expect("run");
    assert_eq!(run.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&run.stdout).expect("policy JSON");
    let shipped: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.json")).expect("docs"),
    )
    .expect("shipped policy JSON");
    assert_eq!(printed, shipped, "docs/permissions.json is out of date: regenerate with `why-task-failed permissions`");
    let actions: Vec<&str> =
        printed["Statement"][0]["Action"].as_array().expect("actions").iter().filter_map(Value::as_str).collect();
    for needed in ["ecs:DescribeTasks", "cloudtrail:LookupEvents", "kms:GetKeyPolicy", "secretsmanager:DescribeSecret"]
    {
        assert!(actions.contains(&needed), "{needed}");
    }
    assert!(!actions.iter().any(|a| a.contains("GetSecretValue") || a.contains("GetParameter")), "never reads values");
}
