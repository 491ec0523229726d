//! `why-task-failed <TASK>`: live diagnosis of one task (or a service's recent stopped tasks).

use super::GlobalArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Task ARN, or task id with --cluster
    pub task: Option<String>,

    /// Cluster name or ARN (needed with a bare task id or --service)
    #[arg(long)]
    pub cluster: Option<String>,
}

pub fn run(args: LiveArgs, _global: &GlobalArgs) -> i32 {
    match args.task {
        None => super::fatal("give a task ARN, or a subcommand; see `why-task-failed --help`"),
        Some(task) => super::fatal(&format!("live diagnosis of `{task}` is not available in this build yet")),
    }
}
