//! Raw arguments → resolved options → one of the jobs. Nothing below `cli` parses argv or picks a format.

mod live;
pub mod policy_inputs;
mod reason;
mod simulate;
mod trail;

use crate::model::{Report, exit_code};
use crate::render::{self, FixFormat, Format, RenderOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};

#[derive(Debug, Parser)]
#[command(
    name = "why-task-failed",
    version,
    long_version = crate::iamdata::LONG_VERSION,
    about = "Says why an ECS task failed or why an AWS call was denied, and prints the exact fix",
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub live: live::LiveArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse exported CloudTrail (S3 log files, lookup-events output, Lake results, JSON lines) for denied calls
    Trail(trail::TrailArgs),
    /// Classify one pasted stopped reason or error message (or describe-tasks JSON on stdin)
    Reason(reason::ReasonArgs),
    /// Evaluate an IAM request against policies and say which statement decides
    Simulate(Box<simulate::SimulateArgs>),
    /// Print the read-only IAM policy the live diagnosis needs (also docs/permissions.json)
    Permissions(live::PermissionsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,

    /// When to use colors (NO_COLOR is honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,

    /// How fixes are shown in the table and Markdown views (JSON output carries every form)
    #[arg(long, global = true, value_enum, default_value = "json")]
    pub fix_format: FixFormat,
}

impl GlobalArgs {
    /// Resolves the raw flags against the environment (terminal, NO_COLOR, COLUMNS).
    pub fn render_options(&self) -> RenderOptions {
        let stdout_tty = std::io::stdout().is_terminal();
        let format = self.format.unwrap_or(if stdout_tty { Format::Table } else { Format::Json });
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color_env,
        };
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100);
        RenderOptions { format, color, fix_format: self.fix_format, width }
    }
}

/// Prints a report and returns the exit code it implies.
pub fn emit(report: &Report, global: &GlobalArgs) -> i32 {
    let opts = global.render_options();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = render::render(report, &opts, &mut out).and_then(|()| out.flush());
    match written {
        Ok(()) => report.exit_code(),
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => report.exit_code(),
        Err(e) => fatal(&format!("cannot write output: {e}")),
    }
}

/// Reports an error that stops the whole run.
pub fn fatal(message: &str) -> i32 {
    eprintln!("error: {message}");
    exit_code::FATAL
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit_code::USAGE } else { exit_code::CLEAN };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Some(Command::Trail(args)) => trail::run(args, &cli.global),
        Some(Command::Reason(args)) => reason::run(args, &cli.global),
        Some(Command::Simulate(args)) => simulate::run(*args, &cli.global),
        Some(Command::Permissions(args)) => live::permissions(args),
        None => live::run(cli.live, &cli.global),
    }
}
