//! The view for people: one row per finding, its fix right below, readable at 100 columns.

use super::{RenderOptions, fix_body};
use crate::model::{Finding, Report, RoleKind, Severity};
use comfy_table::{Cell, ContentArrangement, Table, presets};
use std::io::{self, Write};

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn paint(color: bool, code: &str, text: &str) -> String {
    if color { format!("{code}{text}{RESET}") } else { text.to_string() }
}

fn severity_label(color: bool, severity: Severity) -> String {
    let code = match severity {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
        Severity::Info => CYAN,
    };
    paint(color, code, severity.as_str())
}

fn describe(f: &Finding) -> String {
    let mut lines = vec![f.summary.clone()];
    let mut push = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            lines.push(format!("{name}: {v}"));
        }
    };
    push("principal", f.principal.as_deref());
    push("session", f.role_session.as_deref());
    push("action", f.action.as_deref());
    push("resource", f.resource.as_deref());
    push("policy", f.policy_arn.as_deref().or(f.policy_type.map(|p| p.as_str())));
    for (k, v) in &f.details {
        lines.push(format!("{k}: {v}"));
    }
    if f.count > 1 || f.first_seen.is_some() {
        let seen = match (&f.first_seen, &f.last_seen) {
            (Some(a), Some(b)) if a != b => format!(", {a} … {b}"),
            (Some(a), _) => format!(", {a}"),
            _ => String::new(),
        };
        lines.push(format!("seen {}×{seen}", f.count));
    }
    for alt in &f.alternatives {
        lines.push(format!("or: {} ({}) {}", alt.cause, alt.confidence.as_str(), alt.summary));
    }
    // The policy evaluation (`diagnose::explain`), where policies were given.
    if let Some(e) = &f.explanation {
        lines.extend(super::explanation_lines(e));
    }
    lines.join("\n")
}

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let color = opts.color;
    if report.findings.is_empty() {
        writeln!(out, "{}", paint(color, BOLD, "No problem found."))?;
    }
    for (i, f) in report.findings.iter().enumerate() {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(opts.width.max(60));
        let role = match f.role_kind {
            RoleKind::Unknown => String::new(),
            kind => format!(", {} role", kind.as_str()),
        };
        let head = format!(
            "{} {} {} ({} confidence{role})",
            paint(color, BOLD, &format!("#{}", i + 1)),
            severity_label(color, f.severity),
            paint(color, BOLD, f.cause.id()),
            f.confidence.as_str()
        );
        table.set_header(vec![Cell::new(head)]);
        table.add_row(vec![Cell::new(describe(f))]);
        writeln!(out, "{table}")?;
        for fix in &f.fixes {
            let verified = match fix.verified {
                Some(true) => paint(color, CYAN, " [verified]"),
                Some(false) => paint(color, YELLOW, " [not verified]"),
                None => String::new(),
            };
            let target = fix.target_arn.as_deref().map(|a| format!(" on {a}")).unwrap_or_default();
            writeln!(out, "  fix ({}{target}): {}{verified}", fix.target.as_str(), fix.title)?;
            if let Some(note) = &fix.verification_note {
                writeln!(out, "  {}", paint(color, DIM, note))?;
            }
            if let Some(body) = fix_body(fix, opts.fix_format) {
                for line in body.lines() {
                    writeln!(out, "    {line}")?;
                }
            }
        }
        writeln!(out)?;
    }
    if !report.errors.is_empty() {
        writeln!(out, "{}", paint(color, YELLOW, &format!("{} input error(s):", report.errors.len())))?;
        for e in &report.errors {
            writeln!(out, "  {}: {}", e.input, e.message)?;
        }
    }
    Ok(())
}
