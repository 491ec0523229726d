//! `why-task-failed trail <PATH>...`.

use super::GlobalArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct TrailArgs {
    /// Files or directories of CloudTrail events; `-` reads standard input
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub fn run(_args: TrailArgs, _global: &GlobalArgs) -> i32 {
    super::fatal("`trail` is not available in this build yet")
}
