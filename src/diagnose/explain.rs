//! The post-pass every diagnosis ends with when policies are known (`--iam`, `--scp`, `--key-policy`,
//! `--resource-policy`, or the live fetch): for each denied call it evaluates the exact request against the real
//! policies, names the deciding statements per layer and the context keys it could not check, and verifies every
//! fix by applying it to a copy of the policies and re-evaluating with everything else in force. A fix is
//! `verified: true` only when the decision becomes Allowed; otherwise the note names what still blocks and a fix
//! for that layer is added (or the reason none can be: an SCP belongs to the organization).

use super::verify::{
    Change, World, add_identity_statements, add_layer_statements, describe_change, layer_of_target, remove_statement,
};
use crate::fix;
use crate::model::event::TrailEvent;
use crate::model::iam::{IamSnapshot, PrincipalFacts, PrincipalKind};
use crate::model::{Cause, Confidence, Finding, Fix, FixTarget, PolicyType, Report, RoleKind};
use crate::policy::{self, Decision, Evaluation, Layer, RawValue, Request, StatementRef, layer_name};
use crate::rules::policy_lints;
use crate::source::iam_snapshot::{self, PolicyInputs};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Fixes added for layers that still block, at most (identity, boundary, resource, organization).
const MAX_LAYER_FIXES: usize = 4;

/// Reads the policy inputs (`--iam`, `--scp`, …), reports what cannot be read, and runs the post-pass.
pub fn with_policy_inputs(report: &mut Report, inputs: &PolicyInputs) {
    if inputs.is_empty() {
        return;
    }
    let (snapshot, errors) = iam_snapshot::load(inputs);
    report.errors.extend(errors);
    explain_and_verify(report, &snapshot);
}

/// The live diagnosis's post-pass: the policies it fetched, with the offline inputs (`--scp` …) under them.
pub fn with_live_evidence(report: &mut Report, evidence: &crate::model::task::TaskEvidence, offline: &IamSnapshot) {
    let mut snapshot = offline.clone();
    snapshot.merge(IamSnapshot::from_task_evidence(evidence));
    explain_and_verify(report, &snapshot);
}

/// Explains every finding it can map to a principal of the snapshot, verifies its fixes, and appends lints on the
/// policies in play.
pub fn explain_and_verify(report: &mut Report, snapshot: &IamSnapshot) {
    if snapshot.is_empty() {
        return;
    }
    let mut in_play: BTreeMap<String, Option<RoleKind>> = BTreeMap::new();
    let mut explained = 0u64;
    let mut verified = 0u64;
    for finding in report.findings.iter_mut() {
        if let Some(arn) = explain_finding(finding, snapshot) {
            let kind = Some(finding.role_kind).filter(|k| *k != RoleKind::Unknown);
            let entry = in_play.entry(arn).or_insert(None);
            *entry = entry.or(kind);
        }
        if finding.explanation.as_ref().is_some_and(|e| e.get("decision").is_some()) {
            explained += 1;
        }
        verified += finding.fixes.iter().filter(|f| f.verified == Some(true)).count() as u64;
    }
    let lints = policy_lints::lint(snapshot, &in_play);
    report.stats.insert("findings_explained".into(), json!(explained));
    report.stats.insert("fixes_verified".into(), json!(verified));
    report.stats.insert("policy_lints".into(), json!(lints.len()));
    report.findings.extend(lints);
}

/// The request context keys a CloudTrail event supplies, as `Finding::request_context` carries them.
pub fn request_context_of_event(event: &TrailEvent) -> Value {
    let mut ctx = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            ctx.insert(key.to_string(), json!(v));
        }
    };
    put("aws:CurrentTime", event.event_time.as_deref());
    // `sourceIPAddress` is a service name (`ecs-tasks.amazonaws.com`) when a service called on the role's behalf.
    put("aws:SourceIp", event.source_ip_address.as_deref().filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()));
    put("aws:SourceVpce", event.vpc_endpoint_id.as_deref());
    put("aws:RequestedRegion", event.aws_region.as_deref());
    put("aws:PrincipalArn", event.issuer_role_arn().or(event.caller_arn()));
    if let Some(identity) = &event.user_identity {
        put("aws:PrincipalAccount", identity.account_id.as_deref());
        put("aws:userid", identity.principal_id.as_deref());
        put("aws:PrincipalType", identity.identity_type.as_deref());
    }
    // A service calling with the role's credentials (forward access sessions): `invokedBy` names it, and KMS
    // sees it as `kms:ViaService`.
    let via = event.invoked_by().or(event.source_ip_address.as_deref()).filter(|s| s.ends_with(".amazonaws.com"));
    if let Some(service) = via {
        ctx.insert("aws:ViaAWSService".into(), json!("true"));
        ctx.insert("aws:CalledVia".into(), json!([service]));
        if event.event_source.as_deref() == Some("kms.amazonaws.com")
            && let (Some(prefix), Some(region)) = (service.strip_suffix(".amazonaws.com"), event.aws_region.as_deref())
        {
            ctx.insert("kms:ViaService".into(), json!(format!("{prefix}.{region}.amazonaws.com")));
        }
    }
    if let Some(time) = event.event_time.as_deref().and_then(epoch_seconds) {
        ctx.insert("aws:EpochTime".into(), json!(time.to_string()));
    }
    Value::Object(ctx)
}

fn epoch_seconds(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The caller as AWS saw it: the assumed-role session when the session name is known, else the role itself.
fn caller_arn(principal: &PrincipalFacts, observed: &str, session: Option<&str>) -> String {
    if observed.contains(":assumed-role/") || principal.kind == PrincipalKind::User {
        return observed.to_string();
    }
    match (session, account_of(&principal.arn)) {
        (Some(session), Some(account)) => {
            format!("arn:{}:sts::{account}:assumed-role/{}/{session}", partition_of(&principal.arn), principal.name)
        }
        _ => principal.arn.clone(),
    }
}

/// Context keys: what the event supplied, then what the snapshot and the finding know (principal, its tags, time).
fn request_context(f: &Finding, principal: &PrincipalFacts, resource: &str) -> Vec<(String, RawValue)> {
    let mut ctx: Vec<(String, RawValue)> = Vec::new();
    if let Some(Value::Object(given)) = &f.request_context {
        for (key, value) in given {
            let raw = match value {
                Value::String(s) => RawValue::One(s.clone()),
                Value::Array(items) => {
                    RawValue::Many(items.iter().filter_map(Value::as_str).map(str::to_string).collect())
                }
                Value::Bool(b) => RawValue::One(b.to_string()),
                Value::Number(n) => RawValue::One(n.to_string()),
                _ => continue,
            };
            ctx.push((key.clone(), raw));
        }
    }
    let mut derive = |key: String, value: Option<String>| {
        if let Some(v) = value
            && !ctx.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            ctx.push((key, RawValue::One(v)));
        }
    };
    derive("aws:PrincipalArn".into(), Some(principal.arn.clone()));
    derive("aws:PrincipalAccount".into(), account_of(&principal.arn).map(str::to_string));
    derive(
        "aws:PrincipalType".into(),
        Some(if principal.kind == PrincipalKind::Role { "AssumedRole" } else { "User" }.into()),
    );
    derive("aws:PrincipalIsAWSService".into(), Some("false".into()));
    derive("aws:CurrentTime".into(), f.first_seen.clone());
    derive("aws:EpochTime".into(), f.first_seen.as_deref().and_then(epoch_seconds).map(|s| s.to_string()));
    let region = resource.split(':').nth(3).filter(|r| !r.is_empty()).map(str::to_string);
    derive("aws:RequestedRegion".into(), region.clone());
    // ECS fetches secrets and parameters through Secrets Manager / SSM, which call KMS on the role's behalf.
    if let (Some(action), Some(region)) = (f.action.as_deref(), region.as_deref())
        && action.to_ascii_lowercase().starts_with("kms:")
        && let Some(service) = via_service_of_text(f)
    {
        derive("kms:ViaService".into(), Some(format!("{service}.{region}.amazonaws.com")));
        derive("aws:ViaAWSService".into(), Some("true".into()));
    }
    for (key, value) in &principal.tags {
        derive(format!("aws:PrincipalTag/{key}"), Some(value.clone()));
    }
    ctx
}

/// The service a KMS call went through, as the stopped reason tells it (`unable to retrieve secret from asm`,
/// `… from ssm`).
fn via_service_of_text(f: &Finding) -> Option<&'static str> {
    let text = f.evidence.iter().filter_map(|e| e.text.as_deref()).collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    if text.contains("secret from asm") || text.contains("secretsmanager") {
        Some("secretsmanager")
    } else if text.contains("from ssm") || text.contains("ssm parameter") {
        Some("ssm")
    } else {
        None
    }
}

fn raw_json(raw: &RawValue) -> Value {
    match raw {
        RawValue::One(v) => json!(v),
        RawValue::Many(vs) => json!(vs),
    }
}

fn statement_json(s: &StatementRef) -> Value {
    let mut v = json!({
        "layer": s.layer,
        "policy": s.policy_id,
        "statement": s.sid.clone().unwrap_or_else(|| format!("#{}", s.statement_index)),
        "sid": s.sid,
        "index": s.statement_index,
        "effect": s.effect,
    });
    if let Some(level) = &s.org_level {
        v["org_level"] = json!(level);
    }
    if let Some(m) = s.principal_match {
        v["principal_match"] = json!(m);
    }
    v
}

fn statement_phrase(s: &StatementRef) -> String {
    let label = s.sid.clone().map(|sid| format!("`{sid}`")).unwrap_or_else(|| format!("#{}", s.statement_index));
    let level = s.org_level.as_deref().map(|l| format!(" at `{l}`")).unwrap_or_default();
    format!("{} {label} of `{}`{level} ({})", s.effect, s.policy_id, layer_name(s.layer))
}

/// What blocks, in a sentence: the denying statements, or the layers without an Allow.
pub fn describe_block(eval: &Evaluation) -> String {
    let mut parts = Vec::new();
    for layer in &eval.blocked_by {
        let denies: Vec<String> = eval
            .deciding_statements
            .iter()
            .filter(|s| s.layer == *layer && s.effect == "Deny")
            .map(statement_phrase)
            .collect();
        if !denies.is_empty() {
            parts.push(format!("explicit deny by {}", denies.join(", ")));
            continue;
        }
        let levels = eval.layer(*layer).map(|l| l.levels_without_allow.clone()).unwrap_or_default();
        if levels.is_empty() {
            parts.push(format!("no Allow in the {}", layer_name(*layer)));
        } else {
            parts.push(format!("no Allow in the {} at `{}`", layer_name(*layer), levels.join("`, `")));
        }
    }
    if parts.is_empty() { eval.reason.clone() } else { parts.join("; ") }
}

fn explanation_json(eval: &Evaluation, request: &Request, raw: &[(String, RawValue)], world: &World) -> Value {
    let layers: Vec<Value> = eval
        .layers
        .iter()
        .map(|l| {
            let policies: Vec<&str> = world.docs.iter().filter(|d| d.layer == l.layer).map(|d| d.id.as_str()).collect();
            let mut v = json!({
                "layer": l.layer,
                "decision": l.decision,
                "policies": policies,
                "allow_statements": l.allow_statements.iter().map(statement_json).collect::<Vec<_>>(),
                "deny_statements": l.deny_statements.iter().map(statement_json).collect::<Vec<_>>(),
            });
            if !l.levels_without_allow.is_empty() {
                v["levels_without_allow"] = json!(l.levels_without_allow);
            }
            v
        })
        .collect();
    let context: Map<String, Value> = raw
        .iter()
        .filter(|(k, _)| !request.ignored_context_keys.contains(k))
        .map(|(k, v)| (k.clone(), raw_json(v)))
        .collect();
    json!({
        "decision": eval.decision.as_str(),
        "reason": eval.reason,
        "blocked_by": eval.blocked_by,
        "deciding_statements": eval.deciding_statements.iter().map(statement_json).collect::<Vec<_>>(),
        "layers": layers,
        "request": {
            "principal": request.principal,
            "action": request.action,
            "resource": request.resource,
            "resource_account": request.effective_resource_account(),
            "same_account": eval.same_account,
            "context": context,
        },
        "unknown_context_keys": eval.unresolved_context_keys,
        "ignored_context_keys": eval.ignored_context_keys,
        "not_checked": world.not_checked,
    })
}

fn is_cross_account(request: &Request) -> bool {
    match (request.principal_account(), request.effective_resource_account()) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

fn needs_resource(action: &str) -> bool {
    crate::iamdata::action(action).is_none_or(|a| a.supports_resource_scoping())
}

/// Explains one finding and verifies its fixes; returns the principal ARN it mapped to.
fn explain_finding(f: &mut Finding, snapshot: &IamSnapshot) -> Option<String> {
    let action = f.action.clone()?;
    let observed = f.principal.clone()?;
    let Some(principal) = snapshot.principal_for(&observed) else {
        f.explanation.get_or_insert_with(
            || json!({"not_checked": [format!("`{observed}` is not in the IAM snapshot: its policies are unknown")]}),
        );
        return None;
    };
    // A rule that already evaluated the policies (the live facts do, fix verification included) keeps its say;
    // the role still counts as in play for the lints.
    if f.explanation.is_some() {
        return Some(principal.arn.clone());
    }
    let resource = match f.resource.clone() {
        Some(r) => r,
        None if !needs_resource(&action) => "*".to_string(),
        None => {
            f.explanation =
                Some(json!({"not_checked": ["the event does not name the resource: the request cannot be evaluated"]}));
            return Some(principal.arn.clone());
        }
    };
    let caller = caller_arn(principal, &observed, f.role_session.as_deref());
    let raw = request_context(f, principal, &resource);
    let request = Request::new(&caller, &action, &resource, None, &raw);
    let cross_account = is_cross_account(&request);
    let mut world = World::gather(snapshot, principal, &action, &resource, cross_account);
    let (set, errors) = world.policy_set();
    world.not_checked.extend(errors);
    let eval = policy::evaluate(&set, &request);
    let mut explanation = explanation_json(&eval, &request, &raw, &world);
    if eval.decision == Decision::Allowed {
        explanation["note"] = json!(
            "the given policies allow this request: the denial came from a policy the inputs lack (session policy, VPC endpoint policy, an SCP, RCP or resource policy not given) or the policies changed since the event"
        );
    } else if let Some(message_layer) = f.policy_type {
        explanation["agrees_with_message"] = json!(eval.blocked_by.iter().any(|l| layer_matches(*l, message_layer)));
    }
    f.explanation = Some(explanation);
    if eval.decision != Decision::Allowed {
        refine_cause(f, &eval, &action);
    }
    for fix in f.fixes.iter_mut() {
        restore_role_path(fix, principal);
    }
    let companions = Companions { snapshot, caller: &caller, raw: &raw };
    verify_fixes(f, &mut world, &request, eval, principal, &resource, &companions);
    Some(principal.arn.clone())
}

/// An assumed-role ARN drops the role's path, so a fix built from the message names `role/NAME`, which IAM, KMS
/// and the other services reject as an unknown principal when the role lives at `/service-role/NAME`. The snapshot
/// knows the path: put it back.
fn restore_role_path(fix: &mut Fix, principal: &PrincipalFacts) {
    if principal.kind != PrincipalKind::Role || principal.path == "/" {
        return;
    }
    let Some(account) = account_of(&principal.arn) else { return };
    let pathless = format!("arn:{}:iam::{account}:role/{}", partition_of(&principal.arn), principal.name);
    let quoted = format!("\"{pathless}\"");
    let mut changed = false;
    if let Some(document) = &fix.document
        && let Ok(text) = serde_json::to_string(document)
        && text.contains(&quoted)
        && let Ok(restored) = serde_json::from_str(&text.replace(&quoted, &format!("\"{}\"", principal.arn)))
    {
        fix.document = Some(restored);
        changed = true;
    }
    if fix.target_arn.as_deref() == Some(pathless.as_str()) {
        fix.target_arn = Some(principal.arn.clone());
        changed = true;
    }
    if changed {
        fix.steps.push(format!(
            "the role ARN is `{}` (path `{}`): the message's session ARN omits the path",
            principal.arn, principal.path
        ));
    }
}

fn layer_matches(layer: Layer, message: PolicyType) -> bool {
    matches!(
        (layer, message),
        (Layer::Identity, PolicyType::Identity)
            | (Layer::Resource, PolicyType::Resource | PolicyType::Key | PolicyType::Trust)
            | (Layer::PermissionsBoundary, PolicyType::PermissionsBoundary)
            | (Layer::Session, PolicyType::Session)
            | (Layer::Scp, PolicyType::Scp)
            | (Layer::Rcp, PolicyType::Rcp)
            | (Layer::VpcEndpoint, PolicyType::VpcEndpoint)
    )
}

/// The layer to report first: one with an explicit deny, else the first that lacks an Allow.
fn primary_block(eval: &Evaluation) -> Option<Layer> {
    eval.blocked_by
        .iter()
        .copied()
        .find(|l| eval.deciding_statements.iter().any(|s| s.layer == *l && s.effect == "Deny"))
        .or_else(|| eval.blocked_by.first().copied())
}

/// A message that did not name the layer gets the one the evaluator found.
fn refine_cause(f: &mut Finding, eval: &Evaluation, action: &str) {
    if !matches!(f.cause, Cause::AccessDeniedUnattributed | Cause::ExplicitDenyUnattributed) {
        return;
    }
    let Some(layer) = primary_block(eval) else { return };
    let lower = action.to_ascii_lowercase();
    let (cause, policy_type) = match layer {
        Layer::Identity if lower == "iam:passrole" => (Cause::PassroleDenied, PolicyType::Identity),
        Layer::Identity => (Cause::IdentityPolicyDenied, PolicyType::Identity),
        Layer::Session => (Cause::SessionPolicyDenied, PolicyType::Session),
        Layer::PermissionsBoundary => (Cause::PermissionsBoundaryDenied, PolicyType::PermissionsBoundary),
        Layer::Scp => (Cause::ScpDenied, PolicyType::Scp),
        Layer::Rcp => (Cause::RcpDenied, PolicyType::Rcp),
        Layer::Resource if lower.starts_with("kms:") => (Cause::KmsKeyUnusable, PolicyType::Key),
        Layer::Resource if lower.starts_with("sts:assumerole") => (Cause::TrustPolicyDenied, PolicyType::Trust),
        Layer::Resource => (Cause::ResourcePolicyDenied, PolicyType::Resource),
        Layer::VpcEndpoint => (Cause::VpcEndpointPolicyDenied, PolicyType::VpcEndpoint),
    };
    f.details.insert("unattributed_cause".into(), f.cause.id().into());
    f.cause = cause;
    f.policy_type = Some(policy_type);
    f.confidence = Confidence::High;
    if let Some(deny) = eval.deciding_statements.iter().find(|s| s.layer == layer && s.effect == "Deny") {
        f.policy_arn = Some(deny.policy_id.clone());
    }
    // The guesses the message left open are settled by the policies (what they could not check is listed in
    // the explanation).
    f.alternatives.clear();
    f.summary = format!("{} (the policies say: {})", f.summary, describe_block(eval));
}

fn evaluate_world(world: &mut World, request: &Request) -> Evaluation {
    let (set, errors) = world.policy_set();
    for e in errors {
        if !world.not_checked.contains(&e) {
            world.not_checked.push(e);
        }
    }
    policy::evaluate(&set, request)
}

/// Records the outcome of re-evaluating with a fix applied.
fn record(fix: &mut Fix, eval: &Evaluation, world: &World, together: bool) {
    let with = if together { "with this and the fixes above applied" } else { "with this fix applied" };
    match eval.decision {
        Decision::Allowed if world.unknown_layers.is_empty() => {
            fix.verified = Some(true);
            // The organization's allows are implied; the note names the grants the fix is about.
            let granted: Vec<String> = eval
                .deciding_statements
                .iter()
                .filter(|s| !matches!(s.layer, Layer::Scp | Layer::Rcp))
                .map(statement_phrase)
                .collect();
            fix.verification_note =
                Some(format!("re-evaluated {with} and every other policy in force: Allowed ({})", granted.join(", ")));
        }
        Decision::Allowed => {
            fix.verified = None;
            let missing: Vec<&str> = world.unknown_layers.iter().map(|l| layer_name(*l)).collect();
            fix.verification_note = Some(format!(
                "allowed by the policies given {with}, but not proven: the {} was not among the inputs",
                missing.join(", ")
            ));
        }
        _ => {
            fix.verified = Some(false);
            fix.verification_note = Some(format!("still denied {with}: {}", describe_block(eval)));
        }
    }
}

/// What the other calls an identity fix grants are judged with.
struct Companions<'a> {
    snapshot: &'a IamSnapshot,
    caller: &'a str,
    raw: &'a [(String, RawValue)],
}

/// Companion calls checked per fix, at most.
const MAX_COMPANIONS: usize = 8;

impl Companions<'_> {
    /// A fix often grants several calls (`ecr:BatchGetImage` on the repository beside `ecr:GetAuthorizationToken`):
    /// each is evaluated with the fix applied and its own resource's policies in force. One that stays denied makes
    /// the fix unverified; one that depends on a policy not given makes it unproven.
    fn check(&self, fix: &mut Fix, world: &World, primary: (&str, &str)) {
        if fix.verified != Some(true) || fix.target != FixTarget::IdentityPolicy {
            return;
        }
        let Some(document) = &fix.document else { return };
        let mut pairs: Vec<(String, String)> = Vec::new();
        for s in statements_of(document).iter().filter(|s| s["Effect"] == "Allow") {
            let list = |key: &str| -> Vec<String> {
                match s.get(key) {
                    Some(Value::String(v)) => vec![v.clone()],
                    Some(Value::Array(vs)) => vs.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                    _ => Vec::new(),
                }
            };
            for action in list("Action").into_iter().filter(|a| !a.contains(['*', '?'])) {
                for resource in list("Resource") {
                    let concrete = resource == "*" || !resource.contains(['*', '?', '$']);
                    let is_primary = action.eq_ignore_ascii_case(primary.0) && resource == primary.1;
                    if concrete && !is_primary && !(resource == "*" && needs_resource(&action)) {
                        pairs.push((action.clone(), resource));
                    }
                }
            }
        }
        for (action, resource) in pairs.into_iter().take(MAX_COMPANIONS) {
            let request = Request::new(self.caller, &action, &resource, None, self.raw);
            let cross = is_cross_account(&request);
            // The changed identity side, with the companion resource's own resource-side policies.
            let mut companion = World::gather(self.snapshot, &world.principal, &action, &resource, cross);
            let identity_side = |l: Layer| matches!(l, Layer::Identity | Layer::PermissionsBoundary);
            companion.docs.retain(|d| !identity_side(d.layer));
            companion.docs.extend(world.docs.iter().filter(|d| identity_side(d.layer)).cloned());
            let eval = evaluate_world(&mut companion, &request);
            let note = fix.verification_note.get_or_insert_with(String::new);
            if eval.decision != Decision::Allowed {
                fix.verified = Some(false);
                note.push_str(&format!(
                    "; but `{action}` on `{resource}`, which it also grants, stays denied: {}",
                    describe_block(&eval)
                ));
                return;
            }
            if !companion.unknown_layers.is_empty() {
                fix.verified = None;
                let missing: Vec<&str> = companion.unknown_layers.iter().map(|l| layer_name(*l)).collect();
                note.push_str(&format!(
                    "; `{action}` on `{resource}`, which it also grants, is not proven: the {} was not among the inputs",
                    missing.join(", ")
                ));
                return;
            }
        }
    }
}

fn statements_of(document: &Value) -> Vec<Value> {
    crate::source::iam_snapshot::statements(document).into_iter().cloned().collect()
}

/// The policy id a layer's fix goes to.
fn layer_policy_id(world: &World, layer: Layer, action: &str, resource: &str) -> String {
    if let Some(d) = world.docs.iter().find(|d| d.layer == layer) {
        return d.id.clone();
    }
    match layer {
        Layer::PermissionsBoundary => world.principal.permissions_boundary_arn.clone().unwrap_or_default(),
        Layer::Resource if action.to_ascii_lowercase().starts_with("sts:assumerole") => format!("trust:{resource}"),
        _ => resource.to_string(),
    }
}

/// Applies an existing fix to the working copy.
fn apply_fix(
    world: &mut World,
    fix: &Fix,
    current: &Evaluation,
    action: &str,
    resource: &str,
) -> Result<Vec<Change>, String> {
    let layer = layer_of_target(fix.target).ok_or("not a policy change")?;
    if matches!(layer, Layer::Scp | Layer::Rcp) {
        return Err(org_policy_reason(world));
    }
    if let Some(document) = &fix.document {
        let statements = statements_of(document);
        if statements.is_empty() {
            return Err("the fix's document has no statement".into());
        }
        let change = match layer {
            Layer::Identity => add_identity_statements(world, &statements)?,
            Layer::VpcEndpoint => return Err("VPC endpoint policies are not among the inputs".into()),
            _ => {
                let id = layer_policy_id(world, layer, action, resource);
                add_layer_statements(world, layer, &id, &statements)?
            }
        };
        return Ok(vec![change]);
    }
    // A fix without a document: remove or narrow the Deny that blocks in its layer.
    remove_denies(world, current, layer)
}

fn remove_denies(world: &mut World, current: &Evaluation, layer: Layer) -> Result<Vec<Change>, String> {
    let mut denies: Vec<&StatementRef> =
        current.deciding_statements.iter().filter(|s| s.layer == layer && s.effect == "Deny").collect();
    if denies.is_empty() {
        return Err(format!("no Deny in the {} to remove", layer_name(layer)));
    }
    // Highest index first, so earlier indices stay valid.
    denies.sort_by_key(|s| std::cmp::Reverse(s.statement_index));
    denies.iter().map(|s| remove_statement(world, &s.policy_id, layer, s.statement_index)).collect()
}

fn has_deny(eval: &Evaluation, layer: Layer) -> bool {
    eval.deciding_statements.iter().any(|s| s.layer == layer && s.effect == "Deny")
}

fn org_policy_reason(world: &World) -> String {
    let account = account_of(&world.principal.arn).unwrap_or("this account");
    format!(
        "SCPs and RCPs are attached by the organization's management account: they cannot be changed from `{account}`; the call stays denied until the organization narrows the statement (for example with a condition on `aws:PrincipalArn`) or moves the account"
    )
}

fn describe_changes(fix: &mut Fix, changes: &[Change], principal: &PrincipalFacts) {
    match changes {
        [one] => describe_change(fix, one, principal),
        many => {
            for c in many.iter().rev() {
                describe_change(fix, c, principal);
            }
            fix.patch = Some(Value::Array(many.iter().map(Change::patch_json).collect()));
        }
    }
}

fn verify_fixes(
    f: &mut Finding,
    world: &mut World,
    request: &Request,
    initial: Evaluation,
    principal: &PrincipalFacts,
    resource: &str,
    companions: &Companions,
) {
    let action = request.action.clone();
    if initial.decision == Decision::Allowed {
        for fix in f.fixes.iter_mut().filter(|x| layer_of_target(x.target).is_some()) {
            fix.verified = None;
            fix.verification_note =
                Some("not checked: the given policies already allow this request (see the explanation)".into());
        }
        return;
    }
    let mut current = initial;
    let mut applied = 0usize;
    // Layers this pass added a fix for, with whether it removed a Deny (removing a Deny and adding a missing Allow
    // in one layer are different fixes).
    let mut fixed_layers: Vec<(Layer, bool)> = Vec::new();
    for fix in f.fixes.iter_mut() {
        let Some(layer) = layer_of_target(fix.target) else { continue };
        if current.decision == Decision::Allowed {
            fix.verified = Some(false);
            fix.verification_note = Some("not needed: the fixes above already make the call Allowed".into());
            continue;
        }
        if !current.blocked_by.contains(&layer) {
            fix.verified = Some(false);
            fix.verification_note = Some(format!(
                "not needed: nothing in the {} blocks this call; what blocks is {}",
                layer_name(layer),
                describe_block(&current)
            ));
            continue;
        }
        let explicit = has_deny(&current, layer);
        let before = world.clone();
        match apply_fix(world, fix, &current, &action, resource) {
            Ok(changes) => {
                describe_changes(fix, &changes, principal);
                let after = evaluate_world(world, request);
                if after.blocked_by.contains(&layer) && has_deny(&after, layer) == explicit {
                    // The change does not touch what blocks: keep it out of the copy the next fixes are judged on.
                    *world = before;
                    fix.verified = Some(false);
                    fix.verification_note = Some(format!(
                        "still denied with this fix applied: {}; the statement it adds does not match this request (compare its Principal, Action, Resource and Condition with the request in the explanation)",
                        describe_block(&after)
                    ));
                    continue;
                }
                current = after;
                record(fix, &current, world, applied > 0);
                companions.check(fix, world, (&action, resource));
                applied += 1;
            }
            Err(why) => {
                fix.verified = Some(false);
                fix.verification_note = Some(format!("cannot be applied: {why}"));
            }
        }
    }
    let mut added = 0;
    while current.decision != Decision::Allowed && added < MAX_LAYER_FIXES {
        let Some(layer) = primary_block(&current) else { break };
        let explicit = has_deny(&current, layer);
        let repeated = fixed_layers.contains(&(layer, explicit));
        let mut fix = layer_fix(world, &current, layer, principal, &action, resource);
        added += 1;
        if repeated {
            fix.verified = Some(false);
            fix.verification_note = Some(format!(
                "the {} still blocks after the fix above: {}",
                layer_name(layer),
                describe_block(&current)
            ));
            f.fixes.push(fix);
            break;
        }
        let outcome = match layer {
            Layer::Scp | Layer::Rcp => Err(org_policy_reason(world)),
            Layer::Session | Layer::VpcEndpoint => Err(format!("the {} is not among the inputs", layer_name(layer))),
            _ if explicit => remove_denies(world, &current, layer),
            _ => match &fix.document {
                Some(doc) if layer == Layer::Identity => {
                    add_identity_statements(world, &statements_of(doc)).map(|c| vec![c])
                }
                Some(doc) => {
                    let id = layer_policy_id(world, layer, &action, resource);
                    add_layer_statements(world, layer, &id, &statements_of(doc)).map(|c| vec![c])
                }
                None => Err("no statement to add".into()),
            },
        };
        match outcome {
            Ok(changes) => {
                describe_changes(&mut fix, &changes, principal);
                current = evaluate_world(world, request);
                record(&mut fix, &current, world, applied > 0);
                companions.check(&mut fix, world, (&action, resource));
                applied += 1;
                fixed_layers.push((layer, explicit));
                f.fixes.push(fix);
            }
            Err(why) => {
                fix.verified = Some(false);
                fix.verification_note = Some(format!("{why}; what blocks: {}", describe_block(&current)));
                f.fixes.push(fix);
                break;
            }
        }
    }
}

/// A fix for one blocking layer: remove its Deny, or add the Allow it lacks.
fn layer_fix(
    world: &World,
    current: &Evaluation,
    layer: Layer,
    principal: &PrincipalFacts,
    action: &str,
    resource: &str,
) -> Fix {
    let who = format!("{} `{}`", if principal.kind == PrincipalKind::Role { "role" } else { "user" }, principal.name);
    let denies: Vec<&StatementRef> =
        current.deciding_statements.iter().filter(|s| s.layer == layer && s.effect == "Deny").collect();
    let lower = action.to_ascii_lowercase();
    let target = match layer {
        Layer::Identity => FixTarget::IdentityPolicy,
        Layer::PermissionsBoundary => FixTarget::PermissionsBoundary,
        Layer::Scp | Layer::Rcp => FixTarget::Scp,
        Layer::VpcEndpoint => FixTarget::VpcEndpointPolicy,
        Layer::Session => FixTarget::Other,
        Layer::Resource if lower.starts_with("kms:") => FixTarget::KeyPolicy,
        Layer::Resource if lower.starts_with("sts:assumerole") => FixTarget::TrustPolicy,
        Layer::Resource => FixTarget::ResourcePolicy,
    };
    if let Some(first) = denies.first() {
        let mut fix =
            Fix::new(target, format!("remove or narrow {} that denies `{action}` for {who}", statement_phrase(first)));
        fix.target_arn = Some(first.policy_id.clone()).filter(|p| p.starts_with("arn:"));
        fix.steps.push("an Allow cannot override a Deny: narrow it (NotResource, or a condition excluding this principal) if it protects other resources, otherwise remove it".into());
        if matches!(layer, Layer::Scp | Layer::Rcp) {
            let id = first.policy_id.rsplit('/').next().unwrap_or(&first.policy_id);
            fix.commands.push(format!("aws organizations describe-policy --policy-id {id}"));
        }
        return fix;
    }
    let role_arn = principal.arn.clone();
    let (title, statement) = match target {
        FixTarget::KeyPolicy => (
            format!("allow {who} `{action}` in the key policy of `{resource}`"),
            json!({"Sid": format!("Allow{}Use", principal.name.replace(['-', '_', '.', '+', '=', ',', '@'], "")),
                   "Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": action, "Resource": "*"}),
        ),
        FixTarget::TrustPolicy => (
            format!("trust {who} in the trust policy of `{resource}`"),
            json!({"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": action}),
        ),
        FixTarget::ResourcePolicy if resource.contains(":ecr:") => (
            format!("allow {who} `{action}` in the repository policy of `{resource}`"),
            json!({"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": action}),
        ),
        FixTarget::ResourcePolicy => (
            format!("allow {who} `{action}` in the resource policy of `{resource}`"),
            json!({"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": action, "Resource": resource}),
        ),
        FixTarget::PermissionsBoundary => (
            format!("allow `{action}` on `{resource}` in the permissions boundary of {who}"),
            json!({"Effect": "Allow", "Action": action, "Resource": resource}),
        ),
        FixTarget::Scp => {
            let levels = current.layer(layer).map(|l| l.levels_without_allow.join("`, `")).unwrap_or_default();
            let mut fix =
                Fix::new(FixTarget::Scp, format!("the organization must allow `{action}` at `{levels}` for {who}"));
            fix.steps.push("each level from the root to the account needs an SCP that allows the action".into());
            return fix;
        }
        _ => {
            let identity = fix::identity_allow(Some(&role_arn), action, resource);
            return Fix { title: format!("allow `{action}` on `{resource}` for {who}"), ..identity };
        }
    };
    let mut fix = Fix::new(target, title);
    fix.target_arn = Some(layer_policy_id(world, layer, action, resource))
        .map(|id| id.strip_prefix("trust:").map(str::to_string).unwrap_or(id))
        .filter(|id| id.starts_with("arn:"));
    fix.document = Some(json!({"Version": "2012-10-17", "Statement": [statement]}));
    fix
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iam::NamedDocument;

    fn role_snapshot(inline: Value) -> IamSnapshot {
        IamSnapshot {
            principals: vec![PrincipalFacts {
                arn: "arn:aws:iam::111122223333:role/app".into(),
                name: "app".into(),
                path: "/".into(),
                inline_policies: vec![NamedDocument { name: "main".into(), document: inline }],
                ..PrincipalFacts::default()
            }],
            ..IamSnapshot::default()
        }
    }

    fn denied_finding(action: &str, resource: &str) -> Finding {
        let mut f = Finding::new(Cause::AccessDeniedUnattributed, "denied");
        f.principal = Some("arn:aws:sts::111122223333:assumed-role/app/0123456789abcdef0123456789abcdef".into());
        f.role_session = Some("0123456789abcdef0123456789abcdef".into());
        f.action = Some(action.into());
        f.resource = Some(resource.into());
        f.fixes = crate::rules::access_denied::first_fixes(&f);
        f
    }

    #[test]
    fn identity_fix_is_merged_into_existing_statement_and_verified() {
        let snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]}));
        let mut report = Report::default();
        report.findings.push(denied_finding("s3:GetObject", "arn:aws:s3:::b/key"));
        explain_and_verify(&mut report, &snapshot);
        let f = &report.findings[0];
        assert_eq!(f.cause, Cause::IdentityPolicyDenied);
        assert_eq!(f.explanation.as_ref().unwrap()["blocked_by"], json!(["identity"]));
        let fix = &f.fixes[0];
        assert_eq!(fix.verified, Some(true), "{:?}", fix.verification_note);
        let patch = fix.patch.as_ref().unwrap();
        assert_eq!(patch["policy"], "inline:main");
        assert_eq!(patch["operations"][0]["path"], "/Statement/0/Resource");
        assert!(fix.commands[0].starts_with("aws iam put-role-policy --role-name app --policy-name main"));
    }

    #[test]
    fn a_fix_that_misses_the_request_is_rejected_and_a_matching_one_added() {
        let snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]}));
        let mut f = denied_finding("s3:GetObject", "arn:aws:s3:::b/key");
        // A fix scoped to the wrong object, as a hand-written one might be.
        f.fixes = vec![fix::identity_allow(f.principal.as_deref(), "s3:GetObject", "arn:aws:s3:::b/other-key")];
        let mut report = Report::default();
        report.findings.push(f);
        explain_and_verify(&mut report, &snapshot);
        let fixes = &report.findings[0].fixes;
        assert_eq!(fixes[0].verified, Some(false));
        assert!(fixes[0].verification_note.as_deref().unwrap().contains("does not match this request"));
        let added = fixes.last().unwrap();
        assert_eq!(added.verified, Some(true), "{:?}", added.verification_note);
        // Judged on a copy without the rejected change: the patch adds only the right resource.
        let ops = &added.patch.as_ref().unwrap()["operations"];
        assert_eq!(ops[0]["value"], json!(["arn:aws:s3:::a/*", "arn:aws:s3:::b/key"]));
    }

    #[test]
    fn a_fix_granting_a_call_an_scp_denies_is_not_verified() {
        let mut snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": []}));
        snapshot.org_policies.push(crate::model::iam::OrgPolicy {
            kind: crate::model::iam::OrgPolicyKind::Scp,
            id: "p-nodelete".into(),
            name: None,
            level: "r-ab12".into(),
            document: json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}),
        });
        let mut f = denied_finding("s3:GetObject", "arn:aws:s3:::b/key");
        let mut fix = fix::identity_allow(f.principal.as_deref(), "s3:GetObject", "arn:aws:s3:::b/key");
        fix.document = Some(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::b/key"}]}));
        f.fixes = vec![fix];
        let mut report = Report::default();
        report.findings.push(f);
        explain_and_verify(&mut report, &snapshot);
        let fix = &report.findings[0].fixes[0];
        assert_eq!(fix.verified, Some(false));
        let note = fix.verification_note.as_deref().unwrap();
        assert!(
            note.contains("`s3:DeleteObject` on `arn:aws:s3:::b/key`, which it also grants, stays denied"),
            "{note}"
        );
        assert!(note.contains("`NoDelete`"), "{note}");
    }

    #[test]
    fn boundary_without_the_action_gets_its_own_verified_fix() {
        let boundary_arn = "arn:aws:iam::111122223333:policy/app-boundary";
        let mut snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:jobs"}]}));
        snapshot.principals[0].permissions_boundary_arn = Some(boundary_arn.into());
        snapshot.managed_policies.insert(
            boundary_arn.into(),
            crate::model::iam::ManagedPolicy {
                arn: boundary_arn.into(),
                name: "app-boundary".into(),
                default_version_id: Some("v1".into()),
                document: json!({"Version": "2012-10-17", "Statement": [
                    {"Sid": "Storage", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            },
        );
        let mut report = Report::default();
        report.findings.push(denied_finding("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:jobs"));
        explain_and_verify(&mut report, &snapshot);
        let f = &report.findings[0];
        assert_eq!(f.cause, Cause::PermissionsBoundaryDenied);
        let fix = f.fixes.iter().find(|x| x.target == FixTarget::PermissionsBoundary).expect("boundary fix");
        assert_eq!(fix.verified, Some(true), "{:?}", fix.verification_note);
        let patch = fix.patch.as_ref().unwrap();
        assert_eq!(patch["policy"], boundary_arn);
        assert_eq!(patch["limit"], 6144);
        assert!(fix.commands[0].starts_with(&format!("aws iam create-policy-version --policy-arn {boundary_arn}")));
    }

    #[test]
    fn trust_policy_fix_is_verified_against_the_target_role() {
        let target = "arn:aws:iam::111122223333:role/deployer";
        let mut snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}]}));
        snapshot.principals.push(PrincipalFacts {
            arn: target.into(),
            name: "deployer".into(),
            path: "/".into(),
            trust_policy: Some(json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]})),
            ..PrincipalFacts::default()
        });
        let mut report = Report::default();
        report.findings.push(denied_finding("sts:AssumeRole", target));
        explain_and_verify(&mut report, &snapshot);
        let f = &report.findings[0];
        assert_eq!(f.cause, Cause::TrustPolicyDenied);
        let fix = f.fixes.iter().find(|x| x.target == FixTarget::TrustPolicy).expect("trust fix");
        assert_eq!(fix.verified, Some(true), "{:?}", fix.verification_note);
        assert!(fix.commands[0].starts_with("aws iam update-assume-role-policy --role-name deployer"));
    }

    #[test]
    fn explicit_deny_in_scp_stays_unverified_with_reason() {
        let mut snapshot = role_snapshot(json!({"Version": "2012-10-17", "Statement": []}));
        snapshot.org_policies.push(crate::model::iam::OrgPolicy {
            kind: crate::model::iam::OrgPolicyKind::Scp,
            id: "p-deny".into(),
            name: None,
            level: "ou-ab12-cdefghij".into(),
            document: json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}),
        });
        let mut report = Report::default();
        report.findings.push(denied_finding("s3:GetObject", "arn:aws:s3:::b/key"));
        explain_and_verify(&mut report, &snapshot);
        let f = &report.findings[0];
        assert_eq!(f.cause, Cause::ScpDenied);
        assert_eq!(f.fixes[0].verified, Some(false));
        let note = f.fixes[0].verification_note.as_deref().unwrap();
        assert!(note.contains("`NoS3`") && note.contains("p-deny"), "{note}");
        let last = f.fixes.last().unwrap();
        assert_eq!(last.target, FixTarget::Scp);
        assert!(last.verification_note.as_deref().unwrap().contains("management account"));
    }
}
