//! Turning a `Report` into text: JSON for scripts, a table for people, Markdown for tickets.

mod json;
mod markdown;
mod table;

use crate::model::{Fix, Report};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// Which rendering of a fix to show in the table and Markdown views (JSON always carries all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum FixFormat {
    #[default]
    Json,
    Cli,
    Terraform,
    Cloudformation,
}

#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub format: Format,
    pub color: bool,
    pub fix_format: FixFormat,
    /// Terminal width for the table view.
    pub width: u16,
}

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    match opts.format {
        Format::Json => json::render(report, out),
        Format::Table => table::render(report, opts, out),
        Format::Markdown => markdown::render(report, opts, out),
    }
}

/// The body of a fix in the chosen format, falling back to whatever the fix has.
pub(crate) fn fix_body(fix: &Fix, fix_format: FixFormat) -> Option<String> {
    let document = || fix.document.as_ref().and_then(|d| serde_json::to_string_pretty(d).ok());
    let commands = || (!fix.commands.is_empty()).then(|| fix.commands.join("\n"));
    let steps =
        || (!fix.steps.is_empty()).then(|| fix.steps.iter().map(|s| format!("- {s}")).collect::<Vec<_>>().join("\n"));
    // The smallest change to the existing policy (a JSON Patch), where the policies were known.
    let patch = || fix.patch.as_ref().and_then(|p| serde_json::to_string_pretty(p).ok());
    let chosen = match fix_format {
        FixFormat::Json => patch().or_else(document),
        FixFormat::Cli => commands(),
        FixFormat::Terraform => fix.terraform.clone(),
        FixFormat::Cloudformation => fix.cloudformation.clone(),
    };
    let body = chosen.or_else(document).or_else(commands);
    match (body, steps()) {
        (Some(b), Some(s)) => Some(format!("{s}\n{b}")),
        (b, s) => b.or(s),
    }
}

/// The policy evaluation of a finding (`Finding::explanation`) as short lines for people.
pub(crate) fn explanation_lines(e: &serde_json::Value) -> Vec<String> {
    let strings = |key: &str| -> Vec<String> {
        e.get(key)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut lines = Vec::new();
    if let (Some(decision), Some(reason)) =
        (e.get("decision").and_then(|d| d.as_str()), e.get("reason").and_then(|r| r.as_str()))
    {
        lines.push(format!("policy check: {decision} ({reason})"));
    }
    for s in e.get("deciding_statements").and_then(|d| d.as_array()).into_iter().flatten() {
        let text = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
        let level = s.get("org_level").and_then(|v| v.as_str()).map(|l| format!(" at {l}")).unwrap_or_default();
        lines.push(format!(
            "decided by: {} {} in {} `{}`{level}",
            text("effect"),
            text("statement"),
            text("layer"),
            text("policy")
        ));
    }
    let unknown = strings("unknown_context_keys");
    if !unknown.is_empty() {
        lines.push(format!("could not check (assumed absent): {}", unknown.join(", ")));
    }
    for n in strings("not_checked") {
        lines.push(format!("not checked: {n}"));
    }
    if let Some(note) = e.get("note").and_then(|n| n.as_str()) {
        lines.push(format!("note: {note}"));
    }
    lines
}

/// The fence language for a fix body in Markdown.
pub(crate) fn fix_language(fix: &Fix, fix_format: FixFormat) -> &'static str {
    match fix_format {
        FixFormat::Json if fix.document.is_some() || fix.patch.is_some() => "json",
        FixFormat::Cli => "sh",
        FixFormat::Terraform if fix.terraform.is_some() => "hcl",
        FixFormat::Cloudformation if fix.cloudformation.is_some() => "yaml",
        _ if fix.document.is_some() => "json",
        _ => "sh",
    }
}
