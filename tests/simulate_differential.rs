//! Differential test: `why-task-failed simulate --cases` against `@cloud-copilot/iam-simulate` (the oracle, AGPL,
//! test-only, installed by `scripts/oracle-setup`) on thousands of seeded cases. Fails on any disagreement not
//! listed, with its AWS documentation, in `tests/oracle/known-differences.json`, on a stale listing, and below
//! 99.5 % agreement. Without the oracle it skips locally and fails under `CI=true`.

#[path = "oracle/generator.rs"]
mod generator;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle")
}

/// `Some(reason)` when the oracle cannot run here.
fn oracle_missing() -> Option<String> {
    let package = oracle_dir().join("node_modules/@cloud-copilot/iam-simulate/package.json");
    if !package.exists() {
        return Some(format!("`{}` is missing: run scripts/oracle-setup", package.display()));
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("`node` is not on PATH".into()),
    }
}

/// id → decision (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied` or `Error`).
fn decisions(jsonl: &str) -> BTreeMap<String, String> {
    jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("bad output line {l:?}: {e}"));
            let id = v["id"].as_str().unwrap_or_else(|| panic!("output line without id: {l}")).to_string();
            let decision = v["decision"].as_str().unwrap_or("Error").to_string();
            (id, decision)
        })
        .collect()
}

struct Known {
    seed: u64,
    count: usize,
    /// id → (ours, oracle, kind).
    cases: BTreeMap<String, (String, String, String)>,
}

fn known_differences() -> Known {
    let path = oracle_dir().join("known-differences.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let mut cases = BTreeMap::new();
    for diff in v["differences"].as_array().expect("`differences` is an array") {
        let kind = diff["kind"].as_str().expect("each difference has a `kind`").to_string();
        let doc = diff["doc"].as_str().unwrap_or("");
        assert!(doc.starts_with("https://docs.aws.amazon.com/"), "difference `{kind}` must cite an AWS doc page");
        assert!(diff["reason"].as_str().is_some_and(|r| r.len() > 40), "difference `{kind}` must explain itself");
        for (id, pair) in diff["cases"].as_object().expect("`cases` is an object") {
            let ours = pair[0].as_str().expect("[ours, oracle]").to_string();
            let oracle = pair[1].as_str().expect("[ours, oracle]").to_string();
            cases.insert(id.clone(), (ours, oracle, kind.clone()));
        }
    }
    Known { seed: v["seed"].as_u64().expect("`seed`"), count: v["count"].as_u64().expect("`count`") as usize, cases }
}

#[test]
fn evaluator_agrees_with_iam_simulate_on_generated_cases() {
    if let Some(reason) = oracle_missing() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("differential oracle unavailable under CI=true: {reason}");
        }
        eprintln!("SKIPPED differential test against iam-simulate: {reason}");
        return;
    }
    let known = known_differences();
    assert!(known.count >= 2000, "the differential test needs at least 2,000 cases");
    let dir = tempfile::tempdir().expect("temp dir");
    let cases_path = dir.path().join("cases.jsonl");
    let lines = generator::generate(known.seed, known.count);
    std::fs::write(&cases_path, lines.join("\n") + "\n").expect("write cases");

    let ours = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(["simulate", "--cases"])
        .arg(&cases_path)
        .output()
        .expect("run why-task-failed");
    assert!(ours.status.code().is_some_and(|c| c == 0 || c == 4), "simulate failed: {ours:?}");
    let oracle = Command::new("node").arg(oracle_dir().join("run.cjs")).arg(&cases_path).output().expect("run oracle");
    assert!(oracle.status.success(), "oracle failed: {}", String::from_utf8_lossy(&oracle.stderr));

    let ours = decisions(&String::from_utf8_lossy(&ours.stdout));
    let theirs = decisions(&String::from_utf8_lossy(&oracle.stdout));
    assert_eq!(ours.len(), known.count, "one output line per case from the evaluator");
    assert_eq!(theirs.len(), known.count, "one output line per case from the oracle");

    let mut agree = 0usize;
    let mut unlisted = Vec::new();
    let mut listed = 0usize;
    for (id, theirs) in &theirs {
        let ours = ours.get(id).map(String::as_str).unwrap_or("<missing>");
        if ours == theirs {
            agree += 1;
            assert!(!known.cases.contains_key(id), "`{id}` is listed as a known difference but now agrees: remove it");
            continue;
        }
        match known.cases.get(id) {
            Some((k_ours, k_theirs, _)) if k_ours == ours && k_theirs == theirs => listed += 1,
            _ => unlisted.push(format!("{id}: ours {ours}, iam-simulate {theirs}")),
        }
    }
    let rate = agree as f64 / known.count as f64 * 100.0;
    eprintln!(
        "differential: {agree}/{} cases agree ({rate:.2} %), {listed} known differences, {} unlisted",
        known.count,
        unlisted.len()
    );
    assert!(unlisted.is_empty(), "disagreements not in known-differences.json:\n{}", unlisted.join("\n"));
    assert!(rate >= 99.5, "agreement {rate:.2} % is below 99.5 %");
}

#[test]
fn generator_is_deterministic_and_covers_every_target_service() {
    let a = generator::generate(7, 400);
    assert_eq!(a, generator::generate(7, 400), "same seed, same cases");
    let all = a.join("\n");
    for action in ["ecr:", "logs:", "secretsmanager:", "ssm:", "kms:", "s3:", "sts:AssumeRole", "iam:PassRole"] {
        assert!(all.contains(&format!("\"action\":\"{action}")), "no generated request for `{action}`");
    }
    for feature in ["NotPrincipal", "NotAction", "NotResource", "ForAnyValue:", "ForAllValues:", "IfExists", "${aws:"] {
        assert!(all.contains(feature), "generator never uses `{feature}`");
    }
}
