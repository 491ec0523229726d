//! `why-task-failed reason <TEXT|->`.

use super::GlobalArgs;
use crate::diagnose::reason::diagnose;
use crate::fix::FixContext;
use clap::Args;
use std::io::Read;

#[derive(Debug, Args)]
pub struct ReasonArgs {
    /// The stopped reason or error message; `-` reads standard input (text, describe-tasks JSON or an EventBridge
    /// "ECS Task State Change" event)
    #[arg(required_unless_present = "list_rules")]
    pub text: Option<String>,

    /// The task's account, for the fixes' ARNs (otherwise taken from ARNs in the text)
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,

    /// The task's Region, for the fixes' ARNs and endpoints
    #[arg(long)]
    pub region: Option<String>,

    /// The task execution role ARN, the target of fixes for image pull, secrets and logs
    #[arg(long, value_name = "ARN")]
    pub execution_role: Option<String>,

    /// The task role ARN
    #[arg(long, value_name = "ARN")]
    pub task_role: Option<String>,

    /// Who runs the task or registers the task definition (for iam:PassRole fixes)
    #[arg(long, value_name = "ARN")]
    pub caller: Option<String>,

    /// Print the cause catalogue (rule id, cause, title) instead of classifying
    #[arg(long)]
    pub list_rules: bool,
}

pub fn run(args: ReasonArgs, global: &GlobalArgs) -> i32 {
    if args.list_rules {
        for rule in crate::rules::catalogue() {
            println!("{:<40} {:<28} {}", rule.id, rule.cause.id(), rule.title);
        }
        return crate::model::exit_code::CLEAN;
    }
    let Some(text) = args.text.as_deref() else {
        return super::fatal("give the text to classify, or `-` to read it from standard input");
    };
    let (input, name) = if text == "-" {
        let mut buf = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut buf) {
            return super::fatal(&format!("cannot read standard input: {e}"));
        }
        (String::from_utf8_lossy(&buf).into_owned(), "-")
    } else {
        (text.to_string(), "argument")
    };
    let ctx = FixContext {
        account_id: args.account,
        region: args.region,
        execution_role_arn: args.execution_role,
        task_role_arn: args.task_role,
        caller_principal: args.caller,
        ..FixContext::default()
    };
    let report = diagnose(&input, name, &ctx);
    super::emit(&report, global)
}
