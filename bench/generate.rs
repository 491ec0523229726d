//! `cargo run --release --example generate-trail -- --size 1G --out bench/data/export-1G [--seed N] [--file-size 4M]`
//!
//! Writes a realistic CloudTrail export in the S3 delivery layout and `manifest.json` (the ground truth:
//! events, error events, denied events, traps). Deterministic: the same arguments give the same bytes.

#[path = "generator.rs"]
mod generator;

use generator::Manifest;
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;

fn size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    let (num, mult) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 1u64 << 10),
        'M' => (&t[..t.len() - 1], 1 << 20),
        'G' => (&t[..t.len() - 1], 1 << 30),
        _ => (&t[..], 1),
    };
    num.parse::<f64>().ok().map(|n| (n * mult as f64) as u64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut total = 1u64 << 30;
    let mut file_size = 4u64 << 20;
    let mut seed = 42u64;
    let mut out = PathBuf::from("bench/data/export");
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--size" => total = size(&value).unwrap_or(total),
            "--file-size" => file_size = size(&value).unwrap_or(file_size),
            "--seed" => seed = value.parse().unwrap_or(seed),
            "--out" => out = PathBuf::from(value),
            other => {
                eprintln!("error: unknown argument `{other}`");
                return ExitCode::from(2);
            }
        }
        i += 2;
    }
    let files = total.div_ceil(file_size).max(1);
    let parts: Vec<std::io::Result<Manifest>> =
        (0..files).into_par_iter().map(|index| generator::write_file(&out, index, seed, file_size)).collect();
    let mut manifest = Manifest { seed, ..Manifest::default() };
    for part in parts {
        match part {
            Ok(m) => manifest.add(&m),
            Err(e) => {
                eprintln!("error: cannot write the export under `{}`: {e}", out.display());
                return ExitCode::from(1);
            }
        }
    }
    for (account, region) in [("111122223333", "us-east-1"), ("444455556666", "eu-west-1")] {
        if let Err(e) = generator::write_digest(&out, account, region) {
            eprintln!("error: cannot write a digest file under `{}`: {e}", out.display());
            return ExitCode::from(1);
        }
        manifest.digest_files += 1;
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    if let Err(e) = std::fs::write(out.join("manifest.json"), format!("{text}\n")) {
        eprintln!("error: cannot write `{}`: {e}", out.join("manifest.json").display());
        return ExitCode::from(1);
    }
    println!("{text}");
    ExitCode::SUCCESS
}
