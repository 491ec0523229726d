//! Explanation and fix verification with real-shaped IAM snapshots (samples/iam/), run as the real binary:
//! `why-task-failed trail EVENTS --iam … --scp … --key-policy … --resource-policy …`.

use serde_json::Value;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_why-task-failed");
const IAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/iam");
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const REPO: &str = "arn:aws:ecr:us-east-1:444455556666:repository/platform/base-image";
const EXEC_ROLE: &str = "arn:aws:iam::111122223333:role/service-role/orders-api-execution";
const TASK_ROLE: &str = "arn:aws:iam::111122223333:role/orders-api-task";

fn sample(name: &str) -> String {
    format!("{IAM}/{name}")
}

struct Run {
    code: i32,
    report: Value,
    stdout: String,
}

fn run(args: &[String]) -> Run {
    let out = Command::new(BIN).args(args).env("NO_COLOR", "1").output().expect("run why-task-failed");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    Run { code: out.status.code().unwrap_or(-1), report, stdout }
}

/// `trail` on the sample events with the given policy flags, as JSON.
fn trail(policy_flags: &[String]) -> Run {
    let mut args = vec!["trail".to_string(), sample("trail/denied-calls.json"), "--format".into(), "json".into()];
    args.extend(policy_flags.iter().cloned());
    run(&args)
}

fn all_inputs() -> Vec<String> {
    vec![
        "--iam".into(),
        sample("account-authorization-details.json"),
        "--scp".into(),
        format!("r-ab12={}", sample("scp-root-full-aws-access.json")),
        "--scp".into(),
        format!("ou-ab12-11111111={}", sample("scp-ou-deny-s3-writes-outside-vpce.json")),
        "--key-policy".into(),
        format!("{KEY}={}", sample("kms-get-key-policy.json")),
        "--resource-policy".into(),
        format!("{REPO}={}", sample("ecr-get-repository-policy.json")),
    ]
}

fn finding<'a>(report: &'a Value, action: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["action"] == action && f["severity"] == "error"))
        .unwrap_or_else(|| panic!("no error finding for `{action}` in {report}"))
}

fn fixes(f: &Value) -> &Vec<Value> {
    f["fixes"].as_array().expect("fixes")
}

fn note(fix: &Value) -> &str {
    fix["verification_note"].as_str().unwrap_or("")
}

#[test]
fn identity_fix_adds_the_resource_to_the_existing_statement_and_is_verified() {
    let r = trail(&all_inputs());
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = finding(&r.report, "s3:GetObject");
    // S3 says only "Access Denied": the evaluator names the layer.
    assert_eq!(f["cause"], "identity-policy-denied");
    assert_eq!(f["details"]["unattributed_cause"], "access-denied-unattributed");
    assert_eq!(f["alternatives"], serde_json::json!([]), "the policies settle what the message left open");
    let e = &f["explanation"];
    assert_eq!(e["decision"], "ImplicitlyDenied");
    assert_eq!(e["blocked_by"], serde_json::json!(["identity"]));
    assert_eq!(e["request"]["context"]["aws:SourceIp"], "10.0.12.34");
    assert_eq!(e["request"]["context"]["aws:CurrentTime"], "2024-05-01T10:15:01Z");
    let fix = &fixes(f)[0];
    assert_eq!(fix["verified"], true, "{}", note(fix));
    assert!(note(fix).contains("Allow `ReadConfig` of `inline:orders-data`"), "{}", note(fix));
    // The smallest change: one resource added to statement 0 of the existing inline policy, no new statement.
    let patch = &fix["patch"];
    assert_eq!(patch["policy"], "inline:orders-data");
    assert_eq!(patch["limit"], 10240);
    let ops = patch["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["path"], "/Statement/0/Resource");
    assert_eq!(
        ops[0]["value"],
        serde_json::json!(["arn:aws:s3:::orders-config/*", "arn:aws:s3:::orders-reports/2024/05/summary.csv"])
    );
    assert!(
        fix["commands"][0]
            .as_str()
            .unwrap()
            .starts_with("aws iam put-role-policy --role-name orders-api-task --policy-name orders-data")
    );
}

#[test]
fn explicit_deny_in_an_scp_keeps_the_fix_unverified_and_names_the_statement() {
    let r = trail(&all_inputs());
    let f = finding(&r.report, "s3:PutObject");
    assert_eq!(f["cause"], "scp-denied");
    let e = &f["explanation"];
    assert_eq!(e["decision"], "ExplicitlyDenied");
    let deciding = &e["deciding_statements"][0];
    assert_eq!(deciding["statement"], "DenyS3WritesOutsideVpce");
    assert_eq!(deciding["org_level"], "ou-ab12-11111111");
    assert!(deciding["policy"].as_str().unwrap().ends_with("/p-s3vpce01"));
    // The event went through no VPC endpoint: the key is absent, which the explanation says it assumed.
    assert!(e["unknown_context_keys"].as_array().unwrap().iter().any(|k| k == "aws:SourceVpce"), "{e}");
    let identity = &fixes(f)[0];
    assert_eq!(identity["target"], "identity-policy");
    assert_eq!(identity["verified"], false);
    assert!(note(identity).starts_with("not needed"), "{}", note(identity));
    assert!(note(identity).contains("DenyS3WritesOutsideVpce"));
    let scp = fixes(f).last().unwrap();
    assert_eq!(scp["target"], "scp");
    assert_eq!(scp["verified"], false);
    assert!(note(scp).contains("management account"), "{}", note(scp));
    assert!(fixes(f).iter().all(|x| x["verified"] != true));
}

#[test]
fn without_the_scp_the_policies_allow_and_the_tool_says_what_it_lacks() {
    let r = trail(&["--iam".into(), sample("account-authorization-details.json")]);
    let f = finding(&r.report, "s3:PutObject");
    let e = &f["explanation"];
    assert_eq!(e["decision"], "Allowed");
    assert!(e["note"].as_str().unwrap().contains("an SCP"), "{e}");
    assert!(fixes(f).iter().all(|x| x["verified"].is_null()));
}

#[test]
fn removing_an_explicit_deny_alone_is_not_enough_and_the_missing_allow_is_added() {
    let r = trail(&all_inputs());
    let f = finding(&r.report, "secretsmanager:GetSecretValue");
    assert_eq!(f["cause"], "identity-policy-denied");
    let e = &f["explanation"];
    assert_eq!(e["deciding_statements"][0]["statement"], "DenyProdSecrets");
    assert_eq!(e["deciding_statements"][0]["policy"], "arn:aws:iam::111122223333:policy/deny-prod-secrets");
    let all = fixes(f);
    let remove = &all[0];
    assert_eq!(remove["verified"], false);
    assert_eq!(note(remove), "still denied with this fix applied: no Allow in the identity policies");
    assert_eq!(remove["patch"]["operations"][0], serde_json::json!({"op": "remove", "path": "/Statement/0"}));
    // The policy's only statement goes: detach it (IAM rejects a policy without statements).
    assert!(
        remove["commands"][0].as_str().unwrap().starts_with("aws iam detach-role-policy --role-name orders-api-task")
    );
    let allow = all.last().unwrap();
    assert_eq!(allow["verified"], true, "{}", note(allow));
    assert!(note(allow).contains("fixes above"));
}

#[test]
fn cross_account_pull_needs_both_the_repository_policy_and_the_identity_policy() {
    let r = trail(&all_inputs());
    let f = finding(&r.report, "ecr:BatchGetImage");
    let e = &f["explanation"];
    assert_eq!(e["request"]["same_account"], false);
    assert_eq!(e["request"]["resource_account"], "444455556666");
    let all = fixes(f);
    let repository = &all[0];
    assert_eq!(repository["target"], "resource-policy");
    assert_eq!(repository["verified"], false);
    assert!(note(repository).contains("no Allow in the identity policies"), "{}", note(repository));
    // Appended to the real repository policy, whose statement `AllowAnalyticsPull` stays.
    assert_eq!(repository["patch"]["operations"][0]["path"], "/Statement/-");
    let command = repository["commands"][0].as_str().unwrap();
    assert!(command.contains("set-repository-policy") && command.contains("AllowAnalyticsPull"), "{command}");
    let identity = all.last().unwrap();
    assert_eq!(identity["target"], "identity-policy");
    assert_eq!(identity["verified"], true, "{}", note(identity));
    assert_eq!(identity["patch"]["policy"], "inline:pull-and-logs");
}

#[test]
fn cross_account_pull_without_the_repository_policy_is_not_proven() {
    let r = trail(&["--iam".into(), sample("account-authorization-details.json")]);
    let f = finding(&r.report, "ecr:BatchGetImage");
    let not_checked = f["explanation"]["not_checked"].to_string();
    assert!(not_checked.contains("is in another account"), "{not_checked}");
    let last = fixes(f).last().unwrap();
    assert!(last["verified"].is_null(), "{last}");
    assert!(note(last).contains("not proven"));
}

#[test]
fn kms_key_policy_without_iam_delegation_gets_a_verified_key_policy_fix() {
    let r = trail(&all_inputs());
    let f = finding(&r.report, "kms:Decrypt");
    assert_eq!(f["cause"], "kms-key-unusable");
    let e = &f["explanation"];
    assert_eq!(e["blocked_by"], serde_json::json!(["resource"]));
    // The role's own policy allows (statement `Decrypt`), which does not count without the key policy.
    let identity = e["layers"].as_array().unwrap().iter().find(|l| l["layer"] == "identity").unwrap();
    assert_eq!(identity["decision"], "Allowed");
    assert_eq!(identity["allow_statements"][0]["statement"], "Decrypt");
    let fix = &fixes(f)[0];
    assert_eq!(fix["target"], "key-policy");
    assert_eq!(fix["verified"], true, "{}", note(fix));
    assert_eq!(fix["patch"]["policy"], KEY);
    assert_eq!(fix["patch"]["limit"], 32768);
    assert!(
        fix["commands"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("aws kms put-key-policy --key-id {KEY} --policy-name default"))
    );

    let without = trail(&["--iam".into(), sample("account-authorization-details.json")]);
    let f = finding(&without.report, "kms:Decrypt");
    assert!(f["explanation"]["not_checked"].to_string().contains("key policy"));
    assert!(fixes(f)[0]["verified"].is_null());
}

#[test]
fn lints_on_the_roles_in_play_are_warnings() {
    let r = trail(&all_inputs());
    let warnings: Vec<&Value> =
        r.report["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "warning").collect();
    let has =
        |cause: &str, principal: &str| warnings.iter().any(|f| f["cause"] == cause && f["principal"] == principal);
    assert!(has("action-scoped-to-unusable-arn", EXEC_ROLE));
    assert!(has("overly-broad-resource", EXEC_ROLE));
    assert!(has("execution-role-has-app-permissions", EXEC_ROLE));
    assert!(has("trust-policy-unconditioned", EXEC_ROLE));
    // The task role's trust policy carries aws:SourceAccount / aws:SourceArn.
    assert!(!has("trust-policy-unconditioned", TASK_ROLE));
    let unusable = warnings.iter().find(|f| f["cause"] == "action-scoped-to-unusable-arn").unwrap();
    assert_eq!(unusable["action"], "ecr:GetAuthorizationToken");
    // The denial it causes is fixed by adding `*` to that very statement.
    let f = finding(&r.report, "ecr:GetAuthorizationToken");
    let fix = &fixes(f)[0];
    assert_eq!(fix["verified"], true);
    assert_eq!(fix["patch"]["operations"][0]["path"], "/Statement/0/Resource");
    assert_eq!(r.report["stats"]["fixes_verified"], 5);
}

#[test]
fn table_shows_the_deciding_statement_and_the_verification() {
    let mut args = vec!["trail".to_string(), sample("trail/denied-calls.json"), "--format".into(), "table".into()];
    args.extend(all_inputs());
    let r = run(&args);
    assert!(r.stdout.contains("policy check: ExplicitlyDenied"), "{}", r.stdout);
    assert!(r.stdout.contains("decided by: Deny DenyS3WritesOutsideVpce in scp"));
    assert!(r.stdout.contains("[verified]"));
    assert!(r.stdout.contains("\"op\": \"replace\""), "the JSON fix body is the patch");
}

#[test]
fn bad_policy_inputs_are_reported_and_the_rest_is_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"RoleDetailList\": [\n  {\"RoleName\": ").expect("write");
    let bad_version = dir.path().join("auth.json");
    std::fs::write(
        &bad_version,
        r#"{"RoleDetailList": [], "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/x", "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": {}}]}]}"#,
    )
    .expect("write");
    let r = trail(&[
        "--iam".into(),
        broken.display().to_string(),
        "--key-policy".into(),
        sample("kms-get-key-policy.json"),
        "--scp".into(),
        bad_version.display().to_string(),
    ]);
    assert_eq!(r.code, 1, "findings are still reported: {}", r.stdout);
    let errors = r.report["errors"].as_array().expect("errors");
    let broken_error = errors.iter().find(|e| e["input"] == broken.display().to_string()).expect("broken reported");
    assert_eq!(broken_error["line"], 2);
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("expected `KEY-ARN=FILE`")));
    assert!(errors.iter().any(|e| e["message"].as_str().unwrap().contains("no policy found")), "{errors:?}");
    assert_eq!(r.report["findings"].as_array().unwrap().len(), 6);

    // A managed policy without a default version: reported with its JSON path.
    let policy_errors = trail(&["--iam".into(), bad_version.display().to_string()]).report["errors"].clone();
    assert!(policy_errors.to_string().contains("$.Policies[0]"), "{policy_errors}");
}

#[test]
fn reason_with_the_snapshot_restores_the_role_path_and_verifies_the_key_policy_fix() {
    // A real-shaped stopped reason: ECS fetching a secret whose key policy does not name the execution role.
    let text = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/orders-api-execution/5d1f3a9c0b7e4e2a8c6d4b2f0e8a6c4d is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 because no resource-based policy allows the kms:Decrypt action status code: 400, request id: 1b2c3d4e";
    let r = run(&[
        "reason".into(),
        text.into(),
        "--format".into(),
        "json".into(),
        "--iam".into(),
        sample("account-authorization-details.json"),
        "--key-policy".into(),
        format!("{KEY}={}", sample("kms-get-key-policy.json")),
    ]);
    let f = finding(&r.report, "kms:Decrypt");
    let context = &f["explanation"]["request"]["context"];
    // The call went through Secrets Manager; the role's ARN keeps its path.
    assert_eq!(context["kms:ViaService"], "secretsmanager.us-east-1.amazonaws.com");
    assert_eq!(context["aws:PrincipalArn"], EXEC_ROLE);
    let key_fix = fixes(f).iter().find(|x| x["target"] == "key-policy").expect("key-policy fix");
    assert_eq!(key_fix["verified"], true, "{}", note(key_fix));
    let added = &key_fix["patch"]["operations"][0]["value"];
    assert_eq!(added["Principal"]["AWS"], EXEC_ROLE, "{added}");
}
