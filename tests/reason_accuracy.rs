//! Accuracy over real texts: every shared sample must get an acceptable cause, and the rules' own collection
//! (samples/reasons/collection.jsonl) must reach 95 %. Prints what is still wrong.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

struct Sample {
    text: String,
    source: String,
    acceptable: Vec<String>,
}

fn load(path: &Path) -> Vec<Sample> {
    let body = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
            Sample {
                text: v["text"].as_str().unwrap_or_default().to_string(),
                source: v["source"].as_str().unwrap_or_default().to_string(),
                acceptable: v["acceptable_causes"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Runs the real binary on one text and returns the primary cause.
fn primary_cause(text: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(["reason", "--format", "json", "--", text])
        .output()
        .expect("run why-task-failed");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON for {text:?}: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["findings"][0]["cause"].as_str().unwrap_or("none").to_string()
}

/// Shared samples whose `acceptable_causes` contradict the text's own words, with the cause the text states. The
/// karpenter message says "with an explicit deny in a service control policy", which is `scp-denied` (the other
/// SCP samples of the same file are labelled `scp-denied`); reported to the samples' owner.
const LABEL_DISAGREEMENTS: &[(&str, &str)] =
    &[("https://github.com/aws/karpenter-provider-aws/issues/7370", "scp-denied")];

fn score(samples: &[Sample]) -> (usize, Vec<String>) {
    let mut wrong = Vec::new();
    for s in samples {
        let got = primary_cause(&s.text);
        let stated = LABEL_DISAGREEMENTS.iter().find(|(source, _)| *source == s.source).map(|(_, cause)| *cause);
        if let Some(cause) = stated {
            if got != cause {
                wrong.push(format!(
                    "got {got}, the text states {cause}: {}",
                    s.text.chars().take(120).collect::<String>()
                ));
            }
            continue;
        }
        if !s.acceptable.contains(&got) {
            wrong.push(format!(
                "got {got}, want one of {:?}: {} ({})",
                s.acceptable,
                s.text.chars().take(120).collect::<String>(),
                s.source
            ));
        }
    }
    (samples.len() - wrong.len(), wrong)
}

fn samples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/reasons")
}

#[test]
fn every_shared_sample_gets_an_acceptable_cause() {
    let samples = load(&samples_dir().join("shared-real-error-messages.jsonl"));
    assert!(samples.len() >= 30);
    let (right, wrong) = score(&samples);
    println!("shared samples: {right}/{} acceptable", samples.len());
    for w in &wrong {
        println!("  WRONG {w}");
    }
    assert!(wrong.is_empty(), "{} shared sample(s) misclassified:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn collection_accuracy_is_at_least_95_percent() {
    let samples = load(&samples_dir().join("collection.jsonl"));
    assert!(samples.len() >= 50);
    let (right, wrong) = score(&samples);
    let pct = 100.0 * right as f64 / samples.len() as f64;
    println!("collection: {right}/{} acceptable ({pct:.1} %)", samples.len());
    for w in &wrong {
        println!("  WRONG {w}");
    }
    assert!(pct >= 95.0, "accuracy {pct:.1} % below 95 %:\n{}", wrong.join("\n"));
}
