//! The denied-event count on a generated S3-layout export equals the generator's ground truth, traps included.

#[path = "../bench/generator.rs"]
#[allow(dead_code)]
mod generator;

use generator::Manifest;
use serde_json::Value;
use std::process::Command;

#[test]
fn denied_count_on_generated_export_matches_ground_truth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut truth = Manifest::default();
    // 40 files of ~192 KiB: every fourth one under an organization trail; all three accounts and regions.
    for index in 0..40 {
        truth.add(&generator::write_file(dir.path(), index, 7, 192 * 1024).expect("write export file"));
    }
    generator::write_digest(dir.path(), "111122223333", "us-east-1").expect("write digest");
    assert!(truth.denied_events > 100 && truth.trap_events > 100, "a meaningful sample: {truth:?}");

    let out = Command::new(env!("CARGO_BIN_EXE_why-task-failed"))
        .args(["trail", dir.path().to_str().expect("utf-8 path"), "--format", "json"])
        .output()
        .expect("run why-task-failed");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let stat = |k: &str| report["stats"][k].as_u64().unwrap_or(u64::MAX);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0), "{}", report["errors"]);
    assert_eq!(stat("inputs"), 41);
    assert_eq!(stat("digest_files_skipped"), 1);
    assert_eq!(stat("bytes_decoded"), truth.bytes_uncompressed + digest_size(dir.path()));
    assert_eq!(stat("bytes_read"), truth.bytes_compressed + compressed_digest_size(dir.path()));
    assert_eq!(stat("events_scanned"), truth.events);
    assert_eq!(stat("error_events"), truth.error_events);
    assert_eq!(stat("denied_events"), truth.denied_events);
    let grouped: u64 =
        report["findings"].as_array().expect("findings").iter().map(|f| f["count"].as_u64().unwrap_or(0)).sum();
    assert_eq!(grouped, truth.denied_events, "every denied event lands in exactly one finding");
    assert_eq!(out.status.code(), Some(1));
}

fn digest_path(root: &std::path::Path) -> std::path::PathBuf {
    root.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20240501T010000Z.json.gz")
}

fn digest_size(root: &std::path::Path) -> u64 {
    use std::io::Read;
    let file = std::fs::File::open(digest_path(root)).expect("digest");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(file).read_to_end(&mut text).expect("inflate digest");
    text.len() as u64
}

fn compressed_digest_size(root: &std::path::Path) -> u64 {
    std::fs::metadata(digest_path(root)).expect("digest").len()
}
