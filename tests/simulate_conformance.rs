//! Hand-written conformance cases from the AWS documentation (`tests/conformance/*.jsonl`, each case citing its
//! page in `doc` and saying why in `why`), run through the real binary's batch mode.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn run_file(name: &str) -> (Vec<Value>, BTreeMap<String, Value>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("conformance case is JSON")).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(["simulate", "--cases"])
        .arg(&path)
        .output()
        .expect("run why-task-failed");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let results = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("result line is JSON");
            (v["id"].as_str().expect("id").to_string(), v)
        })
        .collect();
    (cases, results)
}

fn check(name: &str) {
    let (cases, results) = run_file(name);
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().expect("case id");
        let doc = case["doc"].as_str().unwrap_or("");
        assert!(doc.starts_with("https://docs.aws.amazon.com/"), "`{id}` must cite its AWS doc page");
        assert!(case["why"].as_str().is_some_and(|w| !w.is_empty()), "`{id}` must say why");
        let expected = case["expect"].as_str().expect("expect");
        let result = &results[id];
        let got = result["decision"].as_str().unwrap_or("Error");
        if got != expected {
            failures
                .push(format!("{id}: expected {expected}, got {got} ({})\n  doc: {doc}", result["explain"]["reason"]));
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn evaluation_logic_matches_the_aws_docs() {
    check("evaluation-logic.jsonl");
}

#[test]
fn condition_operators_match_the_aws_docs() {
    check("condition-operators.jsonl");
}

#[test]
fn policy_variables_match_the_aws_docs() {
    check("policy-variables.jsonl");
}

#[test]
fn deciding_statements_name_the_policy_and_statement() {
    let (_, results) = run_file("evaluation-logic.jsonl");
    let deny = &results["explicit-deny-wins"]["explain"];
    assert_eq!(deny["blockedBy"], serde_json::json!(["identity"]));
    assert_eq!(deny["decidingStatements"][0]["policyId"], "identityPolicies[0]");
    assert_eq!(deny["decidingStatements"][0]["statementIndex"], 1);
    assert_eq!(deny["decidingStatements"][0]["effect"], "Deny");

    let scp = &results["scp-missing-allow-at-one-level"]["explain"];
    assert_eq!(scp["blockedBy"], serde_json::json!(["scp"]));
    let scp_layer = scp["layers"].as_array().expect("layers").iter().find(|l| l["layer"] == "scp").expect("scp layer");
    assert_eq!(scp_layer["levelsWithoutAllow"], serde_json::json!(["scps[1]"]));

    let kms = &results["kms-key-policy-delegates-to-account"]["explain"];
    let sids: Vec<&str> =
        kms["decidingStatements"].as_array().expect("list").iter().filter_map(|s| s["sid"].as_str()).collect();
    assert!(sids.contains(&"Enable IAM User Permissions"), "{kms}");

    let cross = &results["cross-account-identity-only"]["explain"];
    assert_eq!(cross["sameAccount"], false);
    assert_eq!(cross["blockedBy"], serde_json::json!(["resource"]));
}

#[test]
fn missing_context_keys_are_reported_not_assumed() {
    let (_, results) = run_file("condition-operators.jsonl");
    let missing = &results["string-equals-missing-key"]["explain"];
    assert_eq!(missing["unresolvedContextKeys"], serde_json::json!(["aws:PrincipalTag/team"]));
    let (_, vars) = run_file("policy-variables.jsonl");
    assert_eq!(
        vars["unresolved-variable-never-matches"]["explain"]["unresolvedContextKeys"],
        serde_json::json!(["aws:username"])
    );
}
