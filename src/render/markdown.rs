use super::{RenderOptions, fix_body, fix_language};
use crate::model::Report;
use std::io::{self, Write};

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# why-task-failed report\n")?;
    if report.findings.is_empty() {
        writeln!(out, "No problem found.\n")?;
    }
    for (i, f) in report.findings.iter().enumerate() {
        writeln!(out, "## {}. `{}` — {}\n", i + 1, f.cause, f.summary)?;
        writeln!(out, "| field | value |\n|---|---|")?;
        writeln!(out, "| severity | {} |", f.severity.as_str())?;
        writeln!(out, "| confidence | {} |", f.confidence.as_str())?;
        let rows = [
            ("principal", f.principal.as_deref()),
            ("role kind", Some(f.role_kind.as_str())),
            ("role session", f.role_session.as_deref()),
            ("action", f.action.as_deref()),
            ("resource", f.resource.as_deref()),
            ("policy type", f.policy_type.map(|p| p.as_str())),
            ("policy", f.policy_arn.as_deref()),
            ("first seen", f.first_seen.as_deref()),
            ("last seen", f.last_seen.as_deref()),
        ];
        for (name, value) in rows {
            if let Some(v) = value {
                writeln!(out, "| {name} | `{}` |", v.replace('|', "\\|"))?;
            }
        }
        writeln!(out, "| count | {} |", f.count)?;
        for (k, v) in &f.details {
            writeln!(out, "| {k} | `{}` |", v.replace('|', "\\|"))?;
        }
        writeln!(out)?;
        for alt in &f.alternatives {
            writeln!(out, "- Could also be `{}` ({}): {}", alt.cause, alt.confidence.as_str(), alt.summary)?;
        }
        if !f.alternatives.is_empty() {
            writeln!(out)?;
        }
        // The policy evaluation (`diagnose::explain`), where policies were given.
        let explanation = f.explanation.as_ref().map(super::explanation_lines).unwrap_or_default();
        for line in &explanation {
            writeln!(out, "- {}", line.replace('|', "\\|"))?;
        }
        if !explanation.is_empty() {
            writeln!(out)?;
        }
        for fix in &f.fixes {
            let verified = match fix.verified {
                Some(true) => " (verified)",
                Some(false) => " (not verified: something else still blocks)",
                None => "",
            };
            writeln!(out, "**Fix ({}):** {}{}\n", fix.target.as_str(), fix.title, verified)?;
            if let Some(note) = &fix.verification_note {
                writeln!(out, "> {note}\n")?;
            }
            if let Some(body) = fix_body(fix, opts.fix_format) {
                writeln!(out, "```{}\n{}\n```\n", fix_language(fix, opts.fix_format), body)?;
            }
        }
        if let Some(text) = f.evidence.first().and_then(|ev| ev.text.as_ref()) {
            writeln!(out, "<details><summary>evidence</summary>\n\n```\n{text}\n```\n</details>\n")?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(out, "## Input errors\n")?;
        for e in &report.errors {
            writeln!(out, "- `{}`: {}", e.input, e.message)?;
        }
    }
    Ok(())
}
