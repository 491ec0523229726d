//! Prints seeded `simulate --cases` lines (the differential test's generator), for benches and bug reports:
//! `cargo run --example policy_cases -- [SEED] [COUNT] > cases.jsonl`.

#[path = "../tests/oracle/generator.rs"]
mod generator;

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(20_261_204);
    let count = args.next().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in generator::generate(seed, count) {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}
