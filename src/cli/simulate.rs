//! `why-task-failed simulate`.

use super::GlobalArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A batch of cases, one JSON object per line
    #[arg(long)]
    pub cases: Option<std::path::PathBuf>,
}

pub fn run(_args: SimulateArgs, _global: &GlobalArgs) -> i32 {
    super::fatal("`simulate` is not available in this build yet")
}
