//! `why-task-failed simulate`: one request from flags, or a batch of cases (`--cases FILE.jsonl`), judged by the
//! policy evaluator, which names the statements that decided.

use super::GlobalArgs;
use crate::model::exit_code;
use crate::policy::{self, CaseOutcome, Evaluation, OrgLevel, Policy, PolicyKind, PolicySet, RawValue, Request};
use crate::render::Format;
use clap::Args;
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A batch of cases, one JSON object per line (`-` for stdin); writes one result line per case
    #[arg(long, conflicts_with_all = ["principal", "action"])]
    pub cases: Option<PathBuf>,

    /// Identity policy document (repeatable)
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// Resource policy document (bucket, repository, secret, queue... policy)
    #[arg(long, value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Permissions boundary document (repeatable)
    #[arg(long = "boundary", value_name = "FILE")]
    pub boundaries: Vec<PathBuf>,
    /// Service control policy; each file is one level of the organization, root first (repeatable)
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// Resource control policy; each file is one level (repeatable)
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,
    /// Session policy passed when the role was assumed
    #[arg(long, value_name = "FILE")]
    pub session_policy: Option<PathBuf>,
    /// VPC endpoint policy (repeatable)
    #[arg(long = "vpc-endpoint-policy", value_name = "FILE")]
    pub vpc_endpoint_policies: Vec<PathBuf>,
    /// Role trust policy (judges sts:AssumeRole*)
    #[arg(long, value_name = "FILE")]
    pub trust_policy: Option<PathBuf>,
    /// KMS key policy (judges kms: actions)
    #[arg(long, value_name = "FILE")]
    pub kms_key_policy: Option<PathBuf>,

    /// Caller ARN or service principal
    #[arg(long, required_unless_present = "cases")]
    pub principal: Option<String>,
    /// IAM action, `service:Action`
    #[arg(long, required_unless_present = "cases")]
    pub action: Option<String>,
    /// Resource ARN [default: *]
    #[arg(long)]
    pub resource: Option<String>,
    /// Account owning the resource [default: from the ARN, else the caller's]
    #[arg(long)]
    pub resource_account: Option<String>,
    /// Context key value, `key=value`; repeat a key for several values
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
}

pub fn run(args: SimulateArgs, global: &GlobalArgs) -> i32 {
    if let Some(cases) = &args.cases {
        return run_batch(cases);
    }
    match single_request(&args) {
        Ok((set, request)) => {
            let evaluation = policy::evaluate(&set, &request);
            print_single(&request, &evaluation, global)
        }
        Err(message) => super::fatal(&message),
    }
}

fn read_policy(path: &Path, kind: PolicyKind) -> Result<Policy, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Policy::parse_str(&path.display().to_string(), &text, kind).map_err(|e| format!("policy `{}` {e}", path.display()))
}

fn read_all(paths: &[PathBuf], kind: PolicyKind) -> Result<Vec<Policy>, String> {
    paths.iter().map(|p| read_policy(p, kind)).collect()
}

fn read_one(path: &Option<PathBuf>, kind: PolicyKind) -> Result<Option<Policy>, String> {
    path.as_deref().map(|p| read_policy(p, kind)).transpose()
}

fn levels(paths: &[PathBuf], kind: PolicyKind) -> Result<Vec<OrgLevel>, String> {
    paths.iter().map(|p| Ok(OrgLevel { id: p.display().to_string(), policies: vec![read_policy(p, kind)?] })).collect()
}

fn single_request(args: &SimulateArgs) -> Result<(PolicySet, Request), String> {
    let set = PolicySet {
        identity_policies: read_all(&args.policies, PolicyKind::Identity)?,
        permission_boundaries: (!args.boundaries.is_empty())
            .then(|| read_all(&args.boundaries, PolicyKind::Identity))
            .transpose()?,
        scps: levels(&args.scps, PolicyKind::Identity)?,
        rcps: levels(&args.rcps, PolicyKind::ResourceControl)?,
        resource_policy: read_one(&args.resource_policy, PolicyKind::Resource)?,
        session_policy: read_one(&args.session_policy, PolicyKind::Identity)?,
        vpc_endpoint_policies: read_all(&args.vpc_endpoint_policies, PolicyKind::Resource)?,
        trust_policy: read_one(&args.trust_policy, PolicyKind::Resource)?,
        kms_key_policy: read_one(&args.kms_key_policy, PolicyKind::Resource)?,
    };
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for pair in &args.context {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!("`--context {pair}` is not `key=value`"));
        };
        match grouped.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, values)) => values.push(value.to_string()),
            None => grouped.push((key.to_string(), vec![value.to_string()])),
        }
    }
    let context: Vec<(String, RawValue)> = grouped
        .into_iter()
        .map(|(k, mut v)| {
            let raw = if v.len() == 1 { RawValue::One(v.remove(0)) } else { RawValue::Many(v) };
            (k, raw)
        })
        .collect();
    let action = args.action.clone().unwrap_or_default();
    if !action.split_once(':').is_some_and(|(s, a)| !s.is_empty() && !a.is_empty()) {
        return Err(format!("`--action {action}` is not `service:Action`"));
    }
    let resource = args.resource.clone().unwrap_or_else(|| "*".into());
    let principal = args.principal.clone().unwrap_or_default();
    let request = Request::new(&principal, &action, &resource, args.resource_account.as_deref(), &context);
    Ok((set, request))
}

fn print_single(request: &Request, evaluation: &Evaluation, global: &GlobalArgs) -> i32 {
    let opts = global.render_options();
    let mut out = std::io::stdout().lock();
    let written = match opts.format {
        Format::Json => {
            let line = serde_json::json!({"decision": evaluation.decision.as_str(), "explain": evaluation});
            writeln!(out, "{line}")
        }
        Format::Table | Format::Markdown => write_text(&mut out, request, evaluation),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return super::fatal(&format!("cannot write output: {e}")),
    }
    if evaluation.decision == policy::Decision::Allowed { exit_code::CLEAN } else { exit_code::FINDINGS }
}

fn write_text(out: &mut dyn Write, request: &Request, eval: &Evaluation) -> std::io::Result<()> {
    writeln!(out, "{}  {} on {} by {}", eval.decision.as_str(), request.action, request.resource, request.principal)?;
    writeln!(out, "  why: {}", eval.reason)?;
    for s in &eval.deciding_statements {
        let sid = s.sid.as_deref().map(|sid| format!(" (Sid `{sid}`)")).unwrap_or_default();
        let level = s.org_level.as_deref().map(|l| format!(" at `{l}`")).unwrap_or_default();
        writeln!(
            out,
            "  {}: {} statement #{}{sid} of `{}`{level}",
            policy::layer_name(s.layer),
            s.effect,
            s.statement_index,
            s.policy_id
        )?;
    }
    for layer in &eval.layers {
        writeln!(out, "  layer {:<26} {:?}", policy::layer_name(layer.layer), layer.decision)?;
    }
    if !eval.unresolved_context_keys.is_empty() {
        writeln!(
            out,
            "  context keys not in the request (taken as absent): {}",
            eval.unresolved_context_keys.join(", ")
        )?;
    }
    if !eval.ignored_context_keys.is_empty() {
        writeln!(
            out,
            "  context keys AWS does not send for this action (ignored): {}",
            eval.ignored_context_keys.join(", ")
        )?;
    }
    Ok(())
}

/// Evaluates every line; malformed cases are reported (stderr and their own output line) and the batch goes on.
fn run_batch(path: &Path) -> i32 {
    let lines: Vec<String> = if path.as_os_str() == "-" {
        match std::io::stdin().lock().lines().collect() {
            Ok(lines) => lines,
            Err(e) => return super::fatal(&format!("cannot read cases from stdin: {e}")),
        }
    } else {
        match std::fs::File::open(path).and_then(|f| std::io::BufReader::new(f).lines().collect()) {
            Ok(lines) => lines,
            Err(e) => return super::fatal(&format!("cannot read `{}`: {e}", path.display())),
        }
    };
    let results: Vec<(String, Option<String>)> = lines
        .par_iter()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let outcome = policy::case::run_line(line, i + 1);
            let error = match &outcome {
                CaseOutcome::Failed(e) => Some(format!("`{}` line {}: {e}", path.display(), i + 1)),
                CaseOutcome::Evaluated { .. } => None,
            };
            (outcome.to_json().to_string(), error)
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for (line, error) in &results {
        if let Some(error) = error {
            eprintln!("error: {error}");
            failed += 1;
        }
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return exit_code::CLEAN;
            }
            return super::fatal(&format!("cannot write output: {e}"));
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return super::fatal(&format!("cannot write output: {e}"));
    }
    if failed > 0 { exit_code::PARTIAL } else { exit_code::CLEAN }
}
