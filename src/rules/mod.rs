//! Classification rules: pure functions over fetched evidence, one file per cause family.
//!
//! A rule is data (id, title, the patterns it recognises, what it extracts, what the cause means and how it is fixed)
//! plus a pure function that turns a recognised text into a `Finding`. `classify_text` runs the rules over one text:
//! one `RegexSet` pass finds the candidate rules, the first (most specific) candidate whose function accepts the text
//! gives the primary finding, and the other candidates' causes become its alternatives.

pub mod access_denied;
mod denial;
mod efs;
mod iam;
mod image_pull;
mod kms;
mod logging;
mod network;
pub mod policy_match;
mod registry;
mod runtime;
mod secrets;
mod task_definition;
pub mod task_facts;
pub mod text;

use crate::fix::{self, FixContext};
use crate::model::{AccessDenied, AlternativeCause, Cause, Confidence, Evidence, EvidenceSource, Finding, RoleKind};
use regex::RegexSet;
use std::collections::BTreeMap;
use std::sync::OnceLock;
pub use text::Stage;

/// One entry of the cause catalogue.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, `family.name`.
    pub id: &'static str,
    /// The cause family (one source file each).
    pub family: &'static str,
    pub title: &'static str,
    /// The cause the rule usually concludes.
    pub cause: Cause,
    /// The other causes its function may conclude from the text (an AccessDenied names its policy layer).
    pub yields: &'static [Cause],
    /// Regular expressions; any match makes the rule a candidate.
    pub patterns: &'static [&'static str],
    /// The `details` keys the rule fills when the text has them.
    pub extracts: &'static [&'static str],
    /// What the cause means, for people.
    pub explanation: &'static str,
    /// How it is fixed, for people (the exact change comes from `fix::suggest`).
    pub fix: &'static str,
    /// `true` when the rule only recognises a wrapper (`CannotPullContainerError`, …): its findings are low-confidence.
    pub generic: bool,
    pub(crate) apply: fn(&Scan, &'static Rule) -> Option<Finding>,
}

/// Everything the rules read from one text, computed once.
pub struct Scan<'a> {
    pub text: &'a str,
    pub source: EvidenceSource,
    pub stage: Option<Stage>,
    pub facts: BTreeMap<String, String>,
    pub denial: Option<AccessDenied>,
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str, source: EvidenceSource) -> Self {
        Scan { text, source, stage: text::stage(text), facts: text::facts(text), denial: denial::parse(text) }
    }

    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts.get(key).map(String::as_str)
    }

    /// `true` when any of the (case-insensitive) words occurs in the text.
    pub fn mentions(&self, needles: &[&str]) -> bool {
        let lower = self.text.to_ascii_lowercase();
        needles.iter().any(|n| lower.contains(&n.to_ascii_lowercase()))
    }

    /// `true` when the text comes from ECS (an agent error type, or the agent's own wording), not from an SDK call
    /// someone else made.
    pub fn from_ecs(&self) -> bool {
        self.fact("error").is_some()
            || self.mentions(&[
                "execution resource retrieval",
                "Fetching secret data",
                "unable to pull secrets",
                "awslogs",
            ])
    }

    /// The identity ECS used for the failed step: every step before the container starts (image pull, registry
    /// auth, secrets, log set-up) runs as the task execution role.
    pub fn step_role_kind(&self) -> RoleKind {
        match self.stage {
            Some(Stage::Efs) | None => RoleKind::Unknown,
            Some(_) if self.from_ecs() => RoleKind::Execution,
            Some(_) => RoleKind::Unknown,
        }
    }

    /// A finding for `rule` with the text as evidence and every extracted value as details.
    pub fn finding(&self, rule: &'static Rule, cause: Cause, confidence: Confidence, summary: String) -> Finding {
        let mut f = Finding::new(cause, summary);
        f.confidence = if rule.generic { Confidence::Low } else { confidence };
        f.evidence.push(Evidence::text(self.source, self.text));
        f.details = self.facts.clone();
        f.details.insert("rule".into(), rule.id.into());
        if let Some(stage) = self.stage {
            f.details.insert("stage".into(), stage.as_str().into());
        }
        f.role_kind = self.step_role_kind();
        if let Some(task_id) = self.fact("task_id") {
            f.role_session.get_or_insert_with(|| task_id.to_string());
        }
        f
    }
}

/// An alternative reading of the same text.
pub fn alternative(cause: Cause, confidence: Confidence, summary: impl Into<String>) -> AlternativeCause {
    AlternativeCause { cause, confidence, summary: summary.into() }
}

/// The whole catalogue, most specific rules first: the order is the precedence.
pub fn catalogue() -> &'static [&'static Rule] {
    static CATALOGUE: OnceLock<Vec<&'static Rule>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let families: [&'static [Rule]; 15] = [
            kms::RULES,
            secrets::SPECIFIC,
            logging::SPECIFIC,
            iam::ROLES,
            iam::DENIED,
            registry::RULES,
            image_pull::SPECIFIC,
            efs::RULES,
            network::RULES,
            task_definition::RULES,
            runtime::RULES,
            // Wrappers only: they speak when nothing more specific did.
            logging::GENERIC,
            secrets::GENERIC,
            image_pull::GENERIC,
            runtime::GENERIC,
        ];
        families.iter().flat_map(|family| family.iter()).collect()
    })
}

/// The prefilter: one pass over the text finds every rule with a matching pattern.
fn prefilter() -> &'static (RegexSet, Vec<usize>) {
    static SET: OnceLock<(RegexSet, Vec<usize>)> = OnceLock::new();
    SET.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, rule) in catalogue().iter().enumerate() {
            for p in rule.patterns {
                patterns.push(*p);
                owner.push(i);
            }
        }
        // Built-in patterns, all compiled by the catalogue test: a failure here is a programming error.
        let set = RegexSet::new(&patterns).unwrap_or_else(|e| panic!("bad built-in rule pattern: {e}"));
        (set, owner)
    })
}

/// Classifies one stopped reason, container reason or error message. The primary finding comes first, with the
/// other readings of the text as its `alternatives` and the fixes the text alone supports.
pub fn classify_text(text: &str, source: EvidenceSource) -> Vec<Finding> {
    classify_text_with(text, source, &FixContext::default())
}

/// `classify_text`, with what the caller knows about the task (account, roles, network) for the fixes.
pub fn classify_text_with(text: &str, source: EvidenceSource, ctx: &FixContext) -> Vec<Finding> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    let scan = Scan::new(trimmed, source);
    let (set, owner) = prefilter();
    let mut candidates: Vec<usize> = set.matches(trimmed).iter().map(|p| owner[p]).collect();
    candidates.dedup();
    let rules = catalogue();
    let mut findings = candidates.iter().filter_map(|&i| (rules[i].apply)(&scan, rules[i]).map(|f| (rules[i], f)));
    let (primary_rule, mut primary) = match findings.next() {
        Some(found) => found,
        None => (&UNKNOWN, unknown(&scan)),
    };
    for (rule, other) in findings {
        // A wrapper rule's guess adds nothing to a specific reading of the same text.
        let known = primary.cause == other.cause
            || primary.alternatives.iter().any(|a| a.cause == other.cause)
            || (rule.generic && !primary_rule.generic);
        if !known {
            let confidence = other.confidence.min(Confidence::Medium);
            primary.alternatives.push(alternative(other.cause, confidence, other.summary));
        }
    }
    primary.fixes = fix::suggest(&primary, ctx);
    vec![primary]
}

static UNKNOWN: Rule = Rule {
    id: "unknown",
    family: "unknown",
    title: "Unrecognised text",
    cause: Cause::Unknown,
    yields: &[],
    patterns: &[],
    extracts: &["error"],
    explanation: "No rule recognises the text. The values it names (ARNs, image, endpoint) are still extracted.",
    fix: "Look at the container's logs and the task's events; report the text so a rule can be added.",
    generic: true,
    apply: |_, _| None,
};

fn unknown(scan: &Scan) -> Finding {
    let mut f = scan.finding(&UNKNOWN, Cause::Unknown, Confidence::Low, "no known cause matches this text".into());
    f.role_kind = RoleKind::Unknown;
    f
}

/// The fallback rule, listed with the others.
pub fn unknown_rule() -> &'static Rule {
    &UNKNOWN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_pattern_compiles_and_ids_are_unique() {
        let mut ids = std::collections::BTreeSet::new();
        for rule in catalogue() {
            assert!(ids.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(!rule.patterns.is_empty(), "{} has no pattern", rule.id);
            for p in rule.patterns {
                regex::Regex::new(p).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            }
            assert!(rule.id.starts_with(rule.family), "{} is not in family {}", rule.id, rule.family);
        }
        assert!(catalogue().len() >= 30);
    }

    #[test]
    fn unrecognised_text_is_unknown_with_low_confidence() {
        let f = &classify_text("the printer is on fire", EvidenceSource::UserInput)[0];
        assert_eq!(f.cause, Cause::Unknown);
        assert_eq!(f.confidence, Confidence::Low);
        assert!(classify_text("   ", EvidenceSource::UserInput).is_empty());
    }
}
