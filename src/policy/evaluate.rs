//! AWS's policy evaluation logic over every layer, returning the decision, each layer's verdict and the
//! statements that decided.
//!
//! Sources: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html> (explicit
//! deny wins; SCPs, RCPs, boundaries and session policies only limit; within one account an allow in the identity
//! *or* the resource policy suffices), `..._evaluation-logic-cross-account.html` (both sides must allow),
//! `..._evaluation-logic_policies_boundaries` and the resource-policy exceptions (a resource policy naming the
//! session or user directly is not limited by the boundary), the Organizations guides (an SCP allow is needed at
//! every level from the root to the account; RCPFullAWSAccess is attached at every level), the KMS key policy
//! guide (a key policy must allow, even in the same account, directly or by delegating to the account) and the
//! role trust policy guide (for `sts:AssumeRole*` the trust policy must name the caller or its account).

use super::parse::{Effect, Policy};
use super::request::{Request, is_service_principal};
use super::statement::{self, PrincipalMatch, StatementContext, StatementMatch};
use serde::Serialize;

/// The final answer, in AWS's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
        }
    }
}

/// A policy layer of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Identity,
    Session,
    PermissionsBoundary,
    Scp,
    Rcp,
    /// The resource policy; for `sts:AssumeRole*` the role's trust policy, for KMS the key policy.
    Resource,
    VpcEndpoint,
}

/// One layer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LayerDecision {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
    /// Resource policies only: an allow that names the caller's account, which then decides through its IAM
    /// policies.
    AllowedForAccount,
    /// Resource policies only: a deny naming the caller's account.
    DeniedForAccount,
    /// No policy of this kind was given.
    NotApplicable,
}

/// A statement that took part in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementRef {
    pub layer: Layer,
    /// Policy ARN, name or positional id (`identity[0]`).
    pub policy_id: String,
    /// OU / account id for SCP and RCP statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_level: Option<String>,
    pub statement_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: &'static str,
    /// How the `Principal` element named the caller (resource-side policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_match: Option<PrincipalMatch>,
}

/// One level of an organization's hierarchy for SCPs / RCPs (root, each OU, the account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLevel {
    pub id: String,
    pub policies: Vec<Policy>,
}

/// Every policy that can take part in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    pub identity_policies: Vec<Policy>,
    /// `None`: the principal has no permissions boundary.
    pub permission_boundaries: Option<Vec<Policy>>,
    /// One entry per level, root first; empty when the account is not governed by SCPs.
    pub scps: Vec<OrgLevel>,
    /// One entry per level; `RCPFullAWSAccess` is implied at each level as AWS attaches it.
    pub rcps: Vec<OrgLevel>,
    pub resource_policy: Option<Policy>,
    pub session_policy: Option<Policy>,
    pub vpc_endpoint_policies: Vec<Policy>,
    /// The role's trust policy; used as the resource policy for `sts:AssumeRole*`, `sts:TagSession`,
    /// `sts:SetSourceIdentity` and `sts:SetContext`.
    pub trust_policy: Option<Policy>,
    /// The KMS key policy; used as the resource policy for `kms:` actions.
    pub kms_key_policy: Option<Policy>,
}

/// One layer's analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerResult {
    pub layer: Layer,
    pub decision: LayerDecision,
    /// Statements that apply and allow.
    pub allow_statements: Vec<StatementRef>,
    /// Statements that apply and deny.
    pub deny_statements: Vec<StatementRef>,
    /// SCP / RCP levels without an applicable allow (each level needs one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub levels_without_allow: Vec<String>,
}

/// The evaluator's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub decision: Decision,
    /// Caller and resource are in the same account.
    pub same_account: bool,
    pub layers: Vec<LayerResult>,
    /// For a deny: the layers that denied or lacked a needed allow. Empty when allowed.
    pub blocked_by: Vec<Layer>,
    /// The statements that decided: the explicit denies, or the allows that granted access.
    pub deciding_statements: Vec<StatementRef>,
    /// One sentence saying why.
    pub reason: String,
    /// Context keys that statements targeting the request needed and the request did not carry; the decision
    /// assumes they are absent.
    pub unresolved_context_keys: Vec<String>,
    /// Context keys given but not sent by AWS for this action and resource type (dropped).
    pub ignored_context_keys: Vec<String>,
}

impl Evaluation {
    pub fn layer(&self, layer: Layer) -> Option<&LayerResult> {
        self.layers.iter().find(|l| l.layer == layer)
    }
}

struct Analysis {
    result: LayerResult,
    matches: Vec<(StatementRef, StatementMatch)>,
}

fn effect_str(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    }
}

/// Analyzes a list of policies as one layer. Identity-style layers (no principal) decide Allowed /
/// ExplicitlyDenied / ImplicitlyDenied; resource-style layers also know account-level matches.
fn analyze_layer(
    layer: Layer,
    org_level: Option<&str>,
    policies: &[&Policy],
    req: &Request,
    context: StatementContext,
    unresolved: &mut Vec<String>,
) -> Analysis {
    let mut allows = Vec::new();
    let mut denies = Vec::new();
    let mut matches = Vec::new();
    for policy in policies {
        for stmt in &policy.statements {
            let m = statement::analyze(stmt, req, context);
            unresolved.extend(m.unresolved.iter().cloned());
            let reference = StatementRef {
                layer,
                policy_id: policy.id.clone(),
                org_level: org_level.map(str::to_string),
                statement_index: stmt.index,
                sid: stmt.sid.clone(),
                effect: effect_str(stmt.effect),
                principal_match: matches!(context, StatementContext::Resource { .. }).then_some(m.principal),
            };
            if m.applies() {
                match stmt.effect {
                    Effect::Allow => allows.push((reference.clone(), m.principal)),
                    Effect::Deny => denies.push((reference.clone(), m.principal)),
                }
            }
            matches.push((reference, m));
        }
    }
    let decision = if denies.iter().any(|(_, p)| p.is_direct()) {
        LayerDecision::ExplicitlyDenied
    } else if !denies.is_empty() {
        LayerDecision::DeniedForAccount
    } else if allows.iter().any(|(_, p)| p.is_direct()) {
        LayerDecision::Allowed
    } else if !allows.is_empty() {
        LayerDecision::AllowedForAccount
    } else {
        LayerDecision::ImplicitlyDenied
    };
    let result = LayerResult {
        layer,
        decision,
        allow_statements: allows.into_iter().map(|(r, _)| r).collect(),
        deny_statements: denies.into_iter().map(|(r, _)| r).collect(),
        levels_without_allow: Vec::new(),
    };
    Analysis { result, matches }
}

/// SCPs / RCPs: every level needs an applicable allow; a deny at any level is an explicit deny.
fn analyze_org(layer: Layer, levels: &[OrgLevel], req: &Request, unresolved: &mut Vec<String>) -> LayerResult {
    let mut out = LayerResult {
        layer,
        decision: LayerDecision::Allowed,
        allow_statements: Vec::new(),
        deny_statements: Vec::new(),
        levels_without_allow: Vec::new(),
    };
    let context = match layer {
        Layer::Rcp => StatementContext::Resource { caller_has_boundary: false },
        _ => StatementContext::Identity,
    };
    for level in levels {
        let policies: Vec<&Policy> = level.policies.iter().collect();
        let analysis = analyze_layer(layer, Some(&level.id), &policies, req, context, unresolved);
        let r = analysis.result;
        // RCPFullAWSAccess sits at every level and cannot be detached, so an RCP level never lacks an allow.
        let has_allow = !r.allow_statements.is_empty() || layer == Layer::Rcp;
        if !has_allow {
            out.levels_without_allow.push(level.id.clone());
        }
        out.allow_statements.extend(r.allow_statements);
        out.deny_statements.extend(r.deny_statements);
    }
    out.decision = if !out.deny_statements.is_empty() {
        LayerDecision::ExplicitlyDenied
    } else if !out.levels_without_allow.is_empty() {
        LayerDecision::ImplicitlyDenied
    } else {
        LayerDecision::Allowed
    };
    out
}

/// How the resource's service lets the caller's account decide through its own IAM policies.
enum AccountTrust {
    /// Same account, ordinary service: an identity-policy allow suffices.
    Implicit,
    /// The resource policy names the caller's account; an identity-policy allow completes it.
    Explicit,
    /// Only a resource-policy allow naming the caller can grant access.
    None,
}

/// Actions a role's trust policy authorizes: the `sts:AssumeRole*` family and the session extras that ride on
/// them (`sts:TagSession`, `sts:SetSourceIdentity`, `sts:SetContext`), per id_roles_use_permissions-to-switch.html
/// and id_session-tags.html.
fn judged_by_trust_policy(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    action.starts_with("sts:assumerole")
        || matches!(action.as_str(), "sts:tagsession" | "sts:setsourceidentity" | "sts:setcontext")
}

fn service_of(action: &str) -> String {
    action.split_once(':').map(|(s, _)| s).unwrap_or(action).to_ascii_lowercase()
}

fn account_trust(req: &Request, same_account: bool, resource: &Analysis, has_resource_policy: bool) -> AccountTrust {
    let account_allows = resource.result.decision == LayerDecision::AllowedForAccount
        || resource
            .matches
            .iter()
            .any(|(r, m)| r.effect == "Allow" && m.applies() && m.principal == PrincipalMatch::AccountLevelMatch);
    let explicit_or_none = if account_allows { AccountTrust::Explicit } else { AccountTrust::None };
    match service_of(&req.action).as_str() {
        // A role's trust policy must name the caller or its account even within the account.
        "sts" if same_account && !has_resource_policy => AccountTrust::Implicit,
        "sts" => explicit_or_none,
        // KMS: the key policy is the primary control; IAM policies count only if it delegates to the account.
        "kms" if kms_key_resource(&req.resource) => {
            if same_account && req.resource == "*" {
                AccountTrust::Implicit
            } else {
                explicit_or_none
            }
        }
        _ if same_account => AccountTrust::Implicit,
        _ => explicit_or_none,
    }
}

fn kms_key_resource(resource: &str) -> bool {
    resource == "*" || resource.splitn(6, ':').nth(5).is_some_and(|r| r.to_ascii_lowercase().starts_with("key/"))
}

/// Evaluates the request against the policies.
pub fn evaluate(set: &PolicySet, req: &Request) -> Evaluation {
    let mut unresolved = Vec::new();
    let caller_account = req.principal_account();
    let resource_account = req.effective_resource_account();
    let same_account = caller_account.is_some() && caller_account == resource_account;
    let has_boundary = set.permission_boundaries.as_ref().is_some_and(|b| !b.is_empty());

    let resource_policy = if judged_by_trust_policy(&req.action) && set.trust_policy.is_some() {
        set.trust_policy.as_ref()
    } else if service_of(&req.action) == "kms" && set.kms_key_policy.is_some() {
        set.kms_key_policy.as_ref()
    } else {
        set.resource_policy.as_ref()
    };

    let identity_refs: Vec<&Policy> = set.identity_policies.iter().collect();
    let identity =
        analyze_layer(Layer::Identity, None, &identity_refs, req, StatementContext::Identity, &mut unresolved);
    let session = set
        .session_policy
        .as_ref()
        .map(|p| analyze_layer(Layer::Session, None, &[p], req, StatementContext::Identity, &mut unresolved));
    let boundary = set.permission_boundaries.as_ref().filter(|b| !b.is_empty()).map(|b| {
        let refs: Vec<&Policy> = b.iter().collect();
        analyze_layer(Layer::PermissionsBoundary, None, &refs, req, StatementContext::Identity, &mut unresolved)
    });
    let resource_context = StatementContext::Resource { caller_has_boundary: has_boundary };
    let resource = match resource_policy {
        Some(p) => analyze_layer(Layer::Resource, None, &[p], req, resource_context, &mut unresolved),
        None => Analysis {
            result: LayerResult {
                layer: Layer::Resource,
                decision: LayerDecision::NotApplicable,
                allow_statements: Vec::new(),
                deny_statements: Vec::new(),
                levels_without_allow: Vec::new(),
            },
            matches: Vec::new(),
        },
    };
    let endpoint = (!set.vpc_endpoint_policies.is_empty()).then(|| {
        let refs: Vec<&Policy> = set.vpc_endpoint_policies.iter().collect();
        let ctx = StatementContext::Resource { caller_has_boundary: false };
        analyze_layer(Layer::VpcEndpoint, None, &refs, req, ctx, &mut unresolved)
    });
    let scp = analyze_org(Layer::Scp, &set.scps, req, &mut unresolved);
    let rcp = analyze_org(Layer::Rcp, &set.rcps, req, &mut unresolved);

    let mut verdict = Verdict::default();

    // sts:GetCallerIdentity needs no permission and cannot be denied
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
    let caller_identity = req.action.eq_ignore_ascii_case("sts:GetCallerIdentity");

    // 1. The core grant: identity and resource policies (and the session policy in front of them).
    let identity_decision = identity.result.decision;
    let resource_decision = resource.result.decision;
    let direct_resource_allows: Vec<StatementRef> = resource
        .matches
        .iter()
        .filter(|(r, m)| r.effect == "Allow" && m.applies() && m.principal.is_direct())
        .map(|(r, _)| r.clone())
        .collect();
    let account_resource_allows: Vec<StatementRef> = resource
        .matches
        .iter()
        .filter(|(r, m)| r.effect == "Allow" && m.applies() && m.principal == PrincipalMatch::AccountLevelMatch)
        .map(|(r, _)| r.clone())
        .collect();
    let identity_allows = identity.result.allow_statements.clone();

    if let Some(s) = session.as_ref().filter(|s| s.result.decision != LayerDecision::Allowed) {
        verdict.core(to_decision(s.result.decision), Layer::Session, Vec::new());
    } else if is_service_principal(&req.principal) {
        if resource_decision == LayerDecision::Allowed {
            verdict.core(Decision::Allowed, Layer::Resource, resource.result.allow_statements.clone());
        } else {
            verdict.core(Decision::ImplicitlyDenied, Layer::Resource, Vec::new());
        }
    } else if same_account {
        let resource_grants = resource_decision == LayerDecision::Allowed;
        let identity_grants = identity_decision == LayerDecision::Allowed
            && match account_trust(req, same_account, &resource, resource_policy.is_some()) {
                AccountTrust::Implicit => true,
                AccountTrust::Explicit => true,
                AccountTrust::None => false,
            };
        let mut granting = Vec::new();
        if resource_grants {
            granting.extend(direct_resource_allows.iter().cloned());
        }
        if identity_grants {
            granting.extend(identity_allows.iter().cloned());
            granting.extend(account_resource_allows.iter().cloned());
        }
        if resource_grants || identity_grants {
            verdict.core(Decision::Allowed, Layer::Identity, granting);
        } else if identity_decision == LayerDecision::Allowed {
            // The identity allows but the resource's service needs its own policy to say so (KMS, trust policies).
            verdict.core(Decision::ImplicitlyDenied, Layer::Resource, Vec::new());
        } else {
            verdict.core(Decision::ImplicitlyDenied, Layer::Identity, Vec::new());
        }
    } else {
        let resource_grants = matches!(resource_decision, LayerDecision::Allowed | LayerDecision::AllowedForAccount);
        let identity_grants = identity_decision == LayerDecision::Allowed;
        if resource_grants && identity_grants {
            let mut granting = identity_allows.clone();
            granting.extend(direct_resource_allows.iter().cloned());
            granting.extend(account_resource_allows.iter().cloned());
            verdict.core(Decision::Allowed, Layer::Identity, granting);
        } else {
            let blocker = if resource_grants { Layer::Identity } else { Layer::Resource };
            verdict.core(Decision::ImplicitlyDenied, blocker, Vec::new());
        }
    }

    // 2. Guardrails that can only take away.
    verdict.limit(Layer::Scp, to_decision(scp.decision), &scp.deny_statements);
    verdict.limit(Layer::Rcp, to_decision(rcp.decision), &rcp.deny_statements);
    if let Some(e) = &endpoint {
        verdict.limit(Layer::VpcEndpoint, to_decision(e.result.decision), &e.result.deny_statements);
    }
    if matches!(resource_decision, LayerDecision::ExplicitlyDenied | LayerDecision::DeniedForAccount) {
        verdict.limit(Layer::Resource, Decision::ExplicitlyDenied, &resource.result.deny_statements);
    }
    if identity_decision == LayerDecision::ExplicitlyDenied {
        verdict.limit(Layer::Identity, Decision::ExplicitlyDenied, &identity.result.deny_statements);
    }
    if let Some(s) = &session
        && s.result.decision == LayerDecision::ExplicitlyDenied
    {
        verdict.limit(Layer::Session, Decision::ExplicitlyDenied, &s.result.deny_statements);
    }
    if let Some(b) = &boundary {
        match b.result.decision {
            LayerDecision::ExplicitlyDenied => {
                verdict.limit(Layer::PermissionsBoundary, Decision::ExplicitlyDenied, &b.result.deny_statements)
            }
            LayerDecision::Allowed => verdict.granting.extend(b.result.allow_statements.iter().cloned()),
            _ => {
                // Within the account, a resource policy that names the user or session itself is not limited by
                // the boundary (reference_policies_evaluation-logic.html, "resource-based policies").
                let bypass = same_account && resource_decision == LayerDecision::Allowed && {
                    let caller = req.principal.as_str();
                    let named_exactly = |r: &&StatementRef, m: &StatementMatch| {
                        r.effect == "Allow" && m.applies() && m.principal == PrincipalMatch::Match
                    };
                    if is_session_or_user(caller) {
                        resource.matches.iter().any(|(r, m)| named_exactly(&r, m))
                    } else {
                        false
                    }
                };
                if !bypass {
                    verdict.limit(Layer::PermissionsBoundary, Decision::ImplicitlyDenied, &[]);
                }
            }
        }
    }
    if verdict.decision == Decision::Allowed {
        verdict.granting.extend(scp.allow_statements.iter().cloned());
        if let Some(s) = &session {
            verdict.granting.extend(s.result.allow_statements.iter().cloned());
        }
    }
    if caller_identity && !is_service_principal(&req.principal) {
        verdict = Verdict { decision: Decision::Allowed, ..Verdict::default() };
    }

    let mut layers = vec![identity.result];
    layers.extend(session.map(|s| s.result));
    layers.extend(boundary.map(|b| b.result));
    layers.push(scp);
    layers.push(rcp);
    layers.push(resource.result);
    layers.extend(endpoint.map(|e| e.result));

    unresolved.sort_by_key(|k| k.to_ascii_lowercase());
    unresolved.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let reason = verdict.reason(same_account, caller_identity);
    let deciding_statements = match verdict.decision {
        Decision::ExplicitlyDenied => verdict.denying,
        Decision::Allowed => verdict.granting,
        Decision::ImplicitlyDenied => Vec::new(),
    };
    Evaluation {
        decision: verdict.decision,
        same_account,
        layers,
        blocked_by: verdict.blocked_by,
        deciding_statements,
        reason,
        unresolved_context_keys: unresolved,
        ignored_context_keys: req.ignored_context_keys.clone(),
    }
}

fn is_session_or_user(caller: &str) -> bool {
    let resource = caller.splitn(6, ':').nth(5).unwrap_or("");
    resource.starts_with("assumed-role/") || resource.starts_with("user/") || resource.starts_with("federated-user/")
}

fn to_decision(d: LayerDecision) -> Decision {
    match d {
        LayerDecision::ExplicitlyDenied | LayerDecision::DeniedForAccount => Decision::ExplicitlyDenied,
        LayerDecision::Allowed | LayerDecision::NotApplicable => Decision::Allowed,
        LayerDecision::ImplicitlyDenied | LayerDecision::AllowedForAccount => Decision::ImplicitlyDenied,
    }
}

/// The running decision: only ever moves Allowed → ImplicitlyDenied → ExplicitlyDenied.
struct Verdict {
    decision: Decision,
    blocked_by: Vec<Layer>,
    granting: Vec<StatementRef>,
    denying: Vec<StatementRef>,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict { decision: Decision::Allowed, blocked_by: Vec::new(), granting: Vec::new(), denying: Vec::new() }
    }
}

impl Verdict {
    fn core(&mut self, decision: Decision, layer: Layer, granting: Vec<StatementRef>) {
        self.decision = decision;
        if decision == Decision::Allowed {
            self.granting = granting;
        } else {
            self.blocked_by.push(layer);
        }
    }

    fn limit(&mut self, layer: Layer, decision: Decision, denies: &[StatementRef]) {
        match decision {
            Decision::Allowed => {}
            Decision::ExplicitlyDenied => {
                self.decision = Decision::ExplicitlyDenied;
                self.denying.extend(denies.iter().cloned());
                if !self.blocked_by.contains(&layer) {
                    self.blocked_by.push(layer);
                }
            }
            Decision::ImplicitlyDenied => {
                if self.decision == Decision::Allowed {
                    self.decision = Decision::ImplicitlyDenied;
                }
                if !self.blocked_by.contains(&layer) {
                    self.blocked_by.push(layer);
                }
            }
        }
    }

    fn reason(&self, same_account: bool, caller_identity: bool) -> String {
        if caller_identity {
            return "sts:GetCallerIdentity needs no permission and cannot be denied".into();
        }
        let layers = self.blocked_by.iter().map(|l| layer_name(*l)).collect::<Vec<_>>().join(", ");
        match self.decision {
            Decision::Allowed if same_account => "allowed: an applicable Allow and no Deny in any layer".into(),
            Decision::Allowed => "allowed: both the caller's account and the resource policy allow, no Deny".into(),
            Decision::ExplicitlyDenied => format!("explicitly denied by a Deny statement in: {layers}"),
            Decision::ImplicitlyDenied => format!("implicitly denied: no applicable Allow in: {layers}"),
        }
    }
}

pub fn layer_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Identity => "identity policies",
        Layer::Session => "session policy",
        Layer::PermissionsBoundary => "permissions boundary",
        Layer::Scp => "service control policies",
        Layer::Rcp => "resource control policies",
        Layer::Resource => "resource policy",
        Layer::VpcEndpoint => "VPC endpoint policy",
    }
}
