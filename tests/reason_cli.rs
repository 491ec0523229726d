//! `why-task-failed reason`, run as a real binary.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON: {e}\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

const SSM_DENIED: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/app-ExecutionRole/f83b93a4dc3442a18eaaf8c2a235cd37 is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:eu-west-2:111122223333:parameter/GOOGLE_CLIENT_ID because no identity-based policy allows the ssm:GetParameters action status code: 400, request id: 1adcb55f-f798-4503-b8a3-cd1533290001";

#[test]
fn classifies_an_argument_and_exits_1_on_a_cause() {
    let out = run(&["reason", "--format", "json", SSM_DENIED], None);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    let f = &report["findings"][0];
    assert_eq!(f["cause"], "identity-policy-denied");
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["role_kind"], "execution");
    assert_eq!(f["action"], "ssm:GetParameters");
    assert_eq!(f["role_session"], "f83b93a4dc3442a18eaaf8c2a235cd37");
    assert_eq!(f["details"]["parameter"], "GOOGLE_CLIENT_ID");
    assert_eq!(f["details"]["task_id"], "f83b93a4dc3442a18eaaf8c2a235cd37");
    assert_eq!(f["alternatives"][0]["cause"], "ssm-parameter-not-found");
    let fix = &f["fixes"][0];
    assert_eq!(fix["target"], "identity-policy");
    assert_eq!(fix["target_arn"], "arn:aws:iam::111122223333:role/app-ExecutionRole");
    assert_eq!(
        fix["document"]["Statement"][0]["Resource"],
        "arn:aws:ssm:eu-west-2:111122223333:parameter/GOOGLE_CLIENT_ID"
    );
    assert!(
        fix["commands"][0].as_str().expect("cmd").starts_with("aws iam put-role-policy --role-name app-ExecutionRole")
    );
    assert!(fix["terraform"].as_str().expect("tf").contains("aws_iam_role_policy"));
    assert!(fix["cloudformation"].as_str().expect("cfn").contains("AWS::IAM::RolePolicy"));
}

#[test]
fn reads_describe_tasks_json_from_stdin() {
    let doc = r#"{"tasks":[{"taskArn":"arn:aws:ecs:us-east-1:111122223333:task/prod/0123456789abcdef0123456789abcdef",
        "lastStatus":"STOPPED","stopCode":"TaskFailedToStart",
        "stoppedReason":"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:v2: 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:v2: not found",
        "containers":[{"name":"web","lastStatus":"STOPPED"}]}],"failures":[]}"#;
    let out = run(&["reason", "--format", "json", "-"], Some(doc));
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let f = &report["findings"][0];
    assert_eq!(f["cause"], "image-not-found");
    assert_eq!(f["details"]["repository"], "web");
    assert_eq!(f["details"]["tag"], "v2");
    assert_eq!(f["details"]["stop_code"], "TaskFailedToStart");
    assert_eq!(f["evidence"][0]["source"], "stopped-reason");
    let commands: Vec<&str> =
        f["fixes"][0]["commands"].as_array().expect("cmds").iter().filter_map(Value::as_str).collect();
    assert!(
        commands.iter().any(|c| c.contains(
            "aws ecr describe-images --registry-id 111122223333 --repository-name web --image-ids imageTag=v2"
        )),
        "{commands:?}"
    );
}

#[test]
fn reads_an_eventbridge_task_state_change() {
    let doc = r#"{"version":"0","detail-type":"ECS Task State Change","source":"aws.ecs","region":"eu-west-1",
        "detail":{"taskArn":"arn:aws:ecs:eu-west-1:111122223333:task/c/abc","lastStatus":"STOPPED",
        "stoppedReason":"Essential container in task exited",
        "containers":[{"name":"worker","exitCode":137,"lastStatus":"STOPPED"}]}}"#;
    let report = json(&run(&["reason", "--format", "json", "-"], Some(doc)));
    let f = &report["findings"][0];
    assert_eq!(f["cause"], "essential-container-exited");
    assert_eq!(f["details"]["container"], "worker");
    assert_eq!(f["details"]["exit_code"], "137");
    assert_eq!(f["alternatives"][0]["cause"], "container-out-of-memory");
}

#[test]
fn table_view_shows_the_chosen_fix_format() {
    for (format, needle) in [
        ("json", "\"ssm:GetParameters\""),
        ("cli", "aws iam put-role-policy --role-name app-ExecutionRole"),
        ("terraform", "resource \"aws_iam_role_policy\""),
        ("cloudformation", "Type: AWS::IAM::RolePolicy"),
    ] {
        let out = run(&["reason", "--format", "table", "--fix-format", format, SSM_DENIED], None);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("identity-policy-denied"), "{text}");
        assert!(text.contains(needle), "--fix-format {format}: {text}");
    }
    let md = run(&["reason", "--format", "markdown", "--fix-format", "terraform", SSM_DENIED], None);
    assert!(String::from_utf8_lossy(&md.stdout).contains("```hcl"));
}

#[test]
fn context_flags_fill_the_fix() {
    let out = run(
        &[
            "reason",
            "--format",
            "json",
            "--account",
            "444455556666",
            "--region",
            "ap-south-1",
            "--execution-role",
            "arn:aws:iam::444455556666:role/svc-exec",
            "ResourceInitializationError: failed to validate logger args: ResourceNotFoundException: The specified log group does not exist. : exit status 1",
        ],
        None,
    );
    let f = &json(&out)["findings"][0];
    assert_eq!(f["cause"], "log-group-not-found");
    let auto = &f["fixes"][1];
    assert_eq!(auto["target_arn"], "arn:aws:iam::444455556666:role/svc-exec");
    assert_eq!(
        auto["document"]["Statement"][0]["Resource"],
        "arn:aws:logs:ap-south-1:444455556666:log-group:LOG_GROUP_NAME:*"
    );
}

#[test]
fn deliberate_stops_are_not_errors() {
    let out =
        run(&["reason", "--format", "json", "Scaling activity initiated by (deployment ecs-svc/1234567890)"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["findings"][0]["severity"], "info");
}

#[test]
fn empty_or_broken_input_is_reported() {
    let out = run(&["reason", "--format", "json", "-"], Some("   \n"));
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(json(&out)["errors"][0]["message"], "the input is empty");

    let out = run(&["reason", "--format", "json", "-"], Some("{\"tasks\": [ {\"stoppedReason\": \"OutOfMemoryError"));
    let report = json(&out);
    assert!(report["errors"][0]["message"].as_str().expect("msg").starts_with("not valid JSON"));
    assert_eq!(report["findings"][0]["cause"], "container-out-of-memory");
}

#[test]
fn docs_causes_md_is_the_generated_catalogue() {
    let out = run(&["reason", "--list-rules", "--format", "markdown"], None);
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8_lossy(&out.stdout);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/causes.md");
    let on_disk = std::fs::read_to_string(&path).expect("docs/causes.md");
    assert!(
        generated == on_disk,
        "docs/causes.md is stale: run `why-task-failed reason --list-rules --format markdown > docs/causes.md`"
    );
    assert!(on_disk.contains("`image.platform-mismatch`"));
}
