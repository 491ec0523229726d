//! `why-task-failed reason <TEXT|->`.

use super::GlobalArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct ReasonArgs {
    /// The stopped reason or error message; `-` reads standard input
    pub text: String,
}

pub fn run(_args: ReasonArgs, _global: &GlobalArgs) -> i32 {
    super::fatal("`reason` is not available in this build yet")
}
