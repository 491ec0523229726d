//! `why-task-failed trail` on the bundled samples (samples/trail/), run as the real binary.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_why-task-failed");
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/trail");
const EXEC_ROLE: &str = "arn:aws:iam::111122223333:role/orders-api-execution-role";
const TASK1: &str = "8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b";
const TASK2: &str = "0c5d7e9f1a2b4c6d8e0f1a3b5c7d9e2f";

struct Run {
    code: i32,
    report: Value,
    stdout: String,
}

fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn why-task-failed");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).expect("write stdin");
    }
    drop(pipe);
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    Run { code: out.status.code().unwrap_or(-1), report, stdout }
}

fn trail(paths: &[&str], extra: &[&str]) -> Run {
    // Global flags go after the subcommand: before it, clap takes `trail` for the live-diagnosis TASK.
    let mut args = vec!["trail", "--format", "json"];
    args.extend_from_slice(paths);
    args.extend_from_slice(extra);
    run_with_stdin(&args, None)
}

fn sample(rel: &str) -> String {
    format!("{SAMPLES}/{rel}")
}

fn stat(r: &Run, key: &str) -> u64 {
    r.report["stats"][key].as_u64().unwrap_or_else(|| panic!("no stat {key} in {}", r.stdout))
}

/// (cause, count) of every finding, in report order.
fn causes(r: &Run) -> Vec<(String, u64)> {
    r.report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["cause"].as_str().unwrap_or("").to_string(), f["count"].as_u64().unwrap_or(0)))
        .collect()
}

fn finding<'a>(r: &'a Run, cause: &str, action: &str) -> &'a Value {
    r.report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["cause"] == cause && f["action"] == action)
        .unwrap_or_else(|| panic!("no {cause} finding for {action} in {}", r.stdout))
}

#[test]
fn s3_delivery_tree_with_org_trail_digest_and_multi_member_gzip() {
    let r = trail(&[&sample("s3")], &[]);
    assert_eq!(r.code, 1, "findings mean exit 1: {}", r.stdout);
    assert_eq!(r.report["schema_version"], 1);
    assert_eq!(r.report["tool"]["name"], "why-task-failed");
    assert_eq!(r.report["errors"].as_array().map(Vec::len), Some(0), "{}", r.stdout);
    assert_eq!(stat(&r, "inputs"), 4);
    assert_eq!(stat(&r, "digest_files_skipped"), 1);
    assert_eq!(stat(&r, "events_scanned"), 27);
    // 10 denials + NoSuchKey + ThrottlingException; the nested-errorCode traps are not errors.
    assert_eq!(stat(&r, "error_events"), 12);
    assert_eq!(stat(&r, "denied_events"), 10);

    let exec = finding(&r, "identity-policy-denied", "secretsmanager:GetSecretValue");
    assert_eq!(exec["count"], 3);
    assert_eq!(exec["principal"], EXEC_ROLE);
    assert_eq!(exec["role_kind"], "execution");
    assert_eq!(exec["policy_type"], "identity");
    assert_eq!(exec["resource"], "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf");
    assert_eq!(exec["first_seen"], "2024-05-01T10:05:01Z");
    assert_eq!(exec["last_seen"], "2024-05-01T10:10:02Z");
    assert_eq!(exec["severity"], "error");
    assert_eq!(exec["confidence"], "high");
    assert_eq!(exec["evidence"][0]["source"], "cloudtrail");
    assert!(exec["evidence"][0]["event_id"].is_string());
    assert!(exec["evidence"][0]["file"].as_str().unwrap_or("").ends_with("20240501T1005Z_k3Lm9PqR2sT4uV6w.json.gz"));
    let fix = &exec["fixes"][0];
    assert_eq!(fix["target"], "identity-policy");
    assert_eq!(fix["target_arn"], EXEC_ROLE);
    assert_eq!(fix["document"]["Statement"][0]["Action"], "secretsmanager:GetSecretValue");
    // Secrets Manager appends a random 6-character suffix to secret ARNs; the fix names the secret across rotations.
    assert_eq!(
        fix["document"]["Statement"][0]["Resource"],
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-??????"
    );
    assert!(exec["resource"].as_str().unwrap_or("").ends_with("db-AbCdEf"));
    assert!(fix["terraform"].as_str().unwrap_or("").contains("aws_iam_role_policy"));
    assert!(fix["commands"][0].as_str().unwrap_or("").contains("--role-name orders-api-execution-role"));

    // Second gzip member of the first file: the task role's bare S3 denial, action mapped from HeadObject.
    let s3 = finding(&r, "access-denied-unattributed", "s3:GetObject");
    assert_eq!(s3["resource"], "arn:aws:s3:::orders-exports/daily/2024-05-01.csv");
    assert_eq!(s3["role_kind"], "task");
    assert_eq!(s3["role_session"], TASK2);

    // The organization trail (AWSLogs/o-…/<account>/…).
    let scp = finding(&r, "scp-denied", "ec2:RunInstances");
    assert_eq!(
        scp["policy_arn"],
        "arn:aws:organizations::999988887777:policy/o-a1b2c3d4e5/service_control_policy/p-2kgnabcd"
    );
    assert_eq!(scp["fixes"][0]["target"], "scp");
    let trust = finding(&r, "trust-policy-denied", "sts:AssumeRole");
    assert_eq!(trust["resource"], "arn:aws:iam::444455556666:role/prod-deployer");
    assert_eq!(trust["fixes"][0]["target"], "trust-policy");
    let encoded = finding(&r, "access-denied-unattributed", "ec2:DescribeInstances");
    assert!(
        encoded["fixes"][0]["commands"][0].as_str().unwrap_or("").starts_with("aws sts decode-authorization-message")
    );

    let kms = finding(&r, "kms-key-unusable", "kms:Decrypt");
    assert_eq!(kms["fixes"][0]["target"], "key-policy");
    let passrole = finding(&r, "passrole-denied", "iam:PassRole");
    assert_eq!(passrole["role_kind"], "caller");
    assert_eq!(passrole["principal"], "arn:aws:iam::111122223333:user/deploy-bot");
    let vpce = finding(&r, "vpc-endpoint-policy-denied", "s3:PutObject");
    assert_eq!(vpce["fixes"][0]["target_arn"], "vpce-0a1b2c3d4e5f67890");
    assert_eq!(vpce["resource"], "arn:aws:s3:::orders-exports/out/result.json");
}

/// The (cause, count) pairs as a sorted list, for order-independent comparison.
fn cause_set(r: &Run) -> Vec<(String, u64)> {
    let mut v = causes(r);
    v.sort();
    v
}

fn pairs(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = items.iter().map(|(c, n)| (c.to_string(), *n)).collect();
    v.sort();
    v
}

#[test]
fn lookup_events_single_page_and_paginated_concatenation_agree() {
    let one = trail(&[&sample("lookup-events/lookup-events.json")], &[]);
    let pages = trail(&[&sample("lookup-events/lookup-events-paginated.json")], &[]);
    assert_eq!(one.code, 1);
    assert_eq!(stat(&one, "events_scanned"), 18);
    assert_eq!(stat(&one, "denied_events"), 5);
    assert_eq!(
        cause_set(&one),
        pairs(&[("identity-policy-denied", 3), ("kms-key-unusable", 1), ("passrole-denied", 1)])
    );
    assert_eq!(one.report["findings"].as_array().map(Vec::len), pages.report["findings"].as_array().map(Vec::len));
    assert_eq!(cause_set(&one), cause_set(&pages));
    assert_eq!(stat(&pages, "events_scanned"), 18);
    let exec = finding(&one, "identity-policy-denied", "secretsmanager:GetSecretValue");
    assert_eq!(exec["role_kind"], "execution");
    assert_eq!(exec["principal"], EXEC_ROLE);
}

#[test]
fn cloudtrail_lake_query_results() {
    let r = trail(&[&sample("lake/get-query-results.json")], &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(stat(&r, "events_scanned"), 9);
    assert_eq!(stat(&r, "error_events"), 9);
    assert_eq!(stat(&r, "denied_events"), 7);
    let exec = finding(&r, "identity-policy-denied", "secretsmanager:GetSecretValue");
    assert_eq!(exec["count"], 3);
    // Lake writes `2024-05-01 10:05:01.000`; the report speaks RFC 3339.
    assert_eq!(exec["first_seen"], "2024-05-01T10:05:01.000Z");
    assert_eq!(exec["principal"], EXEC_ROLE);
    assert_eq!(exec["role_kind"], "execution");
    let kms = finding(&r, "kms-key-unusable", "kms:Decrypt");
    assert_eq!(kms["resource"], "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab");
}

#[test]
fn json_lines_and_standard_input_plain_and_gzip() {
    let file = trail(&[&sample("jsonl/events.jsonl")], &[]);
    assert_eq!(stat(&file, "events_scanned"), 19);
    assert_eq!(stat(&file, "denied_events"), 6);
    let bytes = std::fs::read(sample("jsonl/events.jsonl")).expect("read sample");
    let piped = run_with_stdin(&["trail", "-", "--format", "json"], Some(&bytes));
    assert_eq!(piped.code, 1);
    assert_eq!(cause_set(&piped), cause_set(&file));
    assert_eq!(stat(&piped, "events_scanned"), 19);

    let gz_path = format!(
        "{}/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail/eu-west-1/2024/05/01/444455556666_CloudTrail_eu-west-1_20240501T1015Z_Ab1Cd2Ef3Gh4Ij5K.json.gz",
        sample("s3")
    );
    let gz = std::fs::read(gz_path).expect("read gz sample");
    let piped = run_with_stdin(&["trail", "-", "--format", "json"], Some(&gz));
    assert_eq!(stat(&piped, "denied_events"), 3);
    assert_eq!(piped.report["findings"][0]["evidence"][0]["file"], "-");

    // The same S3 log file uncompressed: a plain `{"Records":[…]}` document.
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).expect("inflate sample");
    assert!(plain.starts_with(b"{\"Records\":["));
    let piped_plain = run_with_stdin(&["trail", "-", "--format", "json"], Some(&plain));
    assert_eq!(cause_set(&piped_plain), cause_set(&piped));
    assert_eq!(stat(&piped_plain, "bytes_read"), plain.len() as u64);
    assert_eq!(stat(&piped, "bytes_decoded"), plain.len() as u64);
}

#[test]
fn every_bad_input_gives_one_positioned_error_and_the_rest_is_analysed() {
    let r = trail(&[&sample("bad"), &sample("lookup-events/lookup-events.json")], &[]);
    assert_eq!(r.code, 1, "the good file still yields findings: {}", r.stdout);
    let errors = r.report["errors"].as_array().expect("errors");
    let by_file = |name: &str| -> Vec<&Value> {
        errors.iter().filter(|e| e["input"].as_str().unwrap_or("").ends_with(name)).collect()
    };
    for name in ["broken-line.jsonl", "empty.json", "invalid.json", "other-shape.json", "truncated.json.gz"] {
        let errs = by_file(name);
        assert_eq!(errs.len(), 1, "one error for {name}: {errors:?}");
        let message = errs[0]["message"].as_str().unwrap_or("");
        assert!(message.contains(&format!("/{name}`")), "message names the file: {message}");
        assert!(errs[0]["offset"].is_u64(), "offset for {name}");
    }
    assert_eq!(errors.len(), 5, "{errors:?}");
    assert!(by_file("truncated.json.gz")[0]["message"].as_str().unwrap_or("").contains("gzip stream is truncated"));
    assert!(by_file("empty.json")[0]["message"].as_str().unwrap_or("").contains("empty"));
    assert!(
        by_file("other-shape.json")[0]["message"].as_str().unwrap_or("").contains("another shape (first key `Users`)")
    );
    let invalid = by_file("invalid.json")[0];
    assert_eq!(invalid["line"], 643, "line of the bad value, counted from the file start");
    let broken = by_file("broken-line.jsonl")[0];
    assert_eq!(broken["line"], 2);

    // Records before and after the damage are analysed: invalid.json keeps both execution-role denials,
    // broken-line.jsonl keeps every line but the broken second one (a successful DescribeTasks), so all three
    // denials after it are found; the good lookup-events file is complete.
    let exec = finding(&r, "identity-policy-denied", "secretsmanager:GetSecretValue");
    assert_eq!(exec["count"], 2 + 3);
    finding(&r, "scp-denied", "ec2:RunInstances");
    finding(&r, "access-denied-unattributed", "ec2:DescribeInstances");
    finding(&r, "trust-policy-denied", "sts:AssumeRole");
    assert_eq!(stat(&r, "inputs_with_errors"), 5);
}

#[test]
fn unreadable_entries_in_a_directory_and_missing_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = sample("jsonl/events.jsonl");
    std::fs::copy(&good, dir.path().join("events.jsonl")).expect("copy");
    std::os::unix::fs::symlink(dir.path().join("gone.json.gz"), dir.path().join("dangling.json.gz")).expect("symlink");
    let unreadable = dir.path().join("locked.json");
    std::fs::write(&unreadable, b"{\"Records\":[]}").expect("write");
    let locked = set_unreadable(&unreadable);
    let missing = dir.path().join("no-such-dir");
    let r = trail(&[dir.path().to_str().unwrap_or(""), missing.to_str().unwrap_or("")], &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(stat(&r, "denied_events"), 6);
    let errors = r.report["errors"].as_array().expect("errors");
    let names: Vec<&str> = errors.iter().map(|e| e["input"].as_str().unwrap_or("")).collect();
    assert!(names.iter().any(|n| n.ends_with("dangling.json.gz")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("no-such-dir")), "{names:?}");
    if locked {
        assert!(names.iter().any(|n| n.ends_with("locked.json")), "{names:?}");
    }
    assert_eq!(errors.len(), 2 + usize::from(locked), "{errors:?}");

    // Only unreadable inputs: nothing was analysed.
    let r = trail(&[missing.to_str().unwrap_or("")], &[]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    // Only a file of another shape: also nothing analysed.
    let r = trail(&[&sample("bad/other-shape.json")], &[]);
    assert_eq!(r.code, 3, "{}", r.stdout);
}

/// Makes a file unreadable; returns false when that is impossible (running as root ignores permissions).
fn set_unreadable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).is_err() {
        return false;
    }
    std::fs::read(path).is_err()
}

#[test]
fn filters_task_principal_time_account_region() {
    let s3 = sample("s3");
    let r = trail(&[&s3], &["--task", TASK1]);
    assert_eq!(stat(&r, "denied_events"), 2);
    assert_eq!(cause_set(&r), pairs(&[("identity-policy-denied", 2)]));
    assert_eq!(r.report["findings"][0]["role_session"], TASK1);

    let task_arn = format!("arn:aws:ecs:us-east-1:111122223333:task/prod/{TASK2}");
    let r = trail(&[&s3], &["--task", &task_arn]);
    assert_eq!(stat(&r, "denied_events"), 4);

    let r = trail(&[&s3], &["--principal", "orders-api-task-role"]);
    assert_eq!(
        cause_set(&r),
        pairs(&[("access-denied-unattributed", 1), ("kms-key-unusable", 1), ("vpc-endpoint-policy-denied", 1)])
    );
    let r = trail(&[&s3], &["--principal", "arn:aws:iam::111122223333:user/deploy-bot"]);
    assert_eq!(cause_set(&r), pairs(&[("passrole-denied", 1)]));

    let r = trail(&[&s3], &["--since", "2024-05-01T10:10:00Z", "--until", "2024-05-01T10:11:00Z"]);
    assert_eq!(stat(&r, "denied_events"), 3);
    let r = trail(&[&s3], &["--account", "444455556666"]);
    assert_eq!(stat(&r, "denied_events"), 3);
    let r = trail(&[&s3], &["--region", "eu-west-1", "--since", "1h"]);
    assert_eq!(stat(&r, "denied_events"), 0, "2024 events are older than an hour");
    assert_eq!(r.code, 0, "no finding, no error: clean");

    let bad = run_with_stdin(&["trail", &s3, "--since", "yesterday"], None);
    assert_eq!(bad.code, 2);
}

#[test]
fn table_and_markdown_views_render_findings_and_errors() {
    let r = run_with_stdin(&["trail", &sample("s3"), &sample("bad/empty.json"), "--format", "table"], None);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("identity-policy-denied (high confidence, execution role)"), "{}", r.stdout);
    assert!(r.stdout.contains("1 input error(s):"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "NO_COLOR honoured");
    let r = run_with_stdin(&["trail", &sample("lake"), "--format", "markdown"], None);
    assert!(r.stdout.contains("`kms-key-unusable`"), "{}", r.stdout);
}
