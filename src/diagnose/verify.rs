//! The policies in force for one request, as a working copy fixes are applied to, and the smallest change that
//! applies a fix: add a resource or action to an existing statement, else a statement in an existing policy,
//! else a new inline policy — as an RFC 6902 JSON Patch against the current document, within AWS's size limits.

use crate::model::iam::{
    IamSnapshot, MANAGED_POLICY_LIMIT, OrgPolicyKind, PrincipalFacts, PrincipalKind, ROLE_INLINE_AGGREGATE_LIMIT,
    USER_INLINE_AGGREGATE_LIMIT, is_aws_managed_policy_arn, policy_size,
};
use crate::model::{Fix, FixTarget};
use crate::policy::{Layer, OrgLevel, Policy, PolicyKind, PolicySet};
use serde_json::{Value, json};

/// Name of the inline policy created when the principal has none to extend.
pub const NEW_INLINE_POLICY: &str = "why-task-failed-fixes";
/// The deny-list default AWS attaches at every organization level.
const FULL_AWS_ACCESS: &str = "FullAWSAccess (assumed: the given SCPs of this level have no Allow)";

/// A policy document the request is judged by, where it lives and how it may be changed.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The id statements are reported under: `inline:NAME`, a managed policy ARN, an SCP id, a key / resource ARN,
    /// `trust:ROLE-ARN`.
    pub id: String,
    pub layer: Layer,
    pub document: Value,
    pub org_level: Option<String>,
    /// AWS managed policies and SCPs cannot be changed from the account.
    pub editable: bool,
}

/// The policies of one request: a copy of the snapshot's, to apply fixes to.
#[derive(Debug, Clone)]
pub struct World {
    pub principal: PrincipalFacts,
    pub docs: Vec<Doc>,
    /// Inputs that were needed and missing, as sentences.
    pub not_checked: Vec<String>,
    /// Layers whose policy the request needs but the inputs lack: a decision through them is not proven.
    pub unknown_layers: Vec<Layer>,
}

fn doc(id: impl Into<String>, layer: Layer, document: Value, editable: bool) -> Doc {
    Doc { id: id.into(), layer, document, org_level: None, editable }
}

fn is_kms(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("kms:")
}

fn is_assume_role(action: &str) -> bool {
    action.to_ascii_lowercase().starts_with("sts:assumerole")
}

impl World {
    /// Gathers every policy of the snapshot that can take part in `principal` calling `action` on `resource`.
    pub fn gather(
        snapshot: &IamSnapshot,
        principal: &PrincipalFacts,
        action: &str,
        resource: &str,
        cross_account: bool,
    ) -> World {
        let mut world = World {
            principal: principal.clone(),
            docs: Vec::new(),
            not_checked: Vec::new(),
            unknown_layers: Vec::new(),
        };
        for p in &principal.inline_policies {
            world.docs.push(doc(format!("inline:{}", p.name), Layer::Identity, p.document.clone(), true));
        }
        let mut managed = principal.attached_policy_arns.clone();
        for group_name in &principal.groups {
            match snapshot.group(group_name) {
                Some(g) => {
                    for p in &g.inline_policies {
                        let id = format!("group:{}/inline:{}", g.name, p.name);
                        world.docs.push(doc(id, Layer::Identity, p.document.clone(), false));
                    }
                    managed.extend(g.attached_policy_arns.iter().cloned());
                }
                None => world.not_checked.push(format!("group `{group_name}` is not in the snapshot")),
            }
        }
        for arn in managed {
            match snapshot.managed_policies.get(&arn) {
                Some(m) => world.docs.push(doc(arn.clone(), Layer::Identity, m.document.clone(), !m.is_aws_managed())),
                None => world.not_checked.push(format!(
                    "managed policy `{arn}` is attached but not in the snapshot: its statements were not evaluated"
                )),
            }
        }
        if let Some(arn) = &principal.permissions_boundary_arn {
            match snapshot.managed_policies.get(arn) {
                Some(m) => world.docs.push(doc(
                    arn.clone(),
                    Layer::PermissionsBoundary,
                    m.document.clone(),
                    !m.is_aws_managed(),
                )),
                None => {
                    world.not_checked.push(format!("permissions boundary `{arn}` is not in the snapshot"));
                    world.unknown_layers.push(Layer::PermissionsBoundary);
                }
            }
        }
        for (kind, layer) in [(OrgPolicyKind::Scp, Layer::Scp), (OrgPolicyKind::Rcp, Layer::Rcp)] {
            for (level, policies) in snapshot.org_levels(kind) {
                let has_allow = policies.iter().any(|p| {
                    crate::source::iam_snapshot::statements(&p.document)
                        .iter()
                        .any(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
                });
                for p in &policies {
                    let mut d = doc(p.id.clone(), layer, p.document.clone(), false);
                    d.org_level = Some(level.to_string());
                    world.docs.push(d);
                }
                if kind == OrgPolicyKind::Scp && !has_allow {
                    world.not_checked.push(format!(
                        "no Allow among the SCPs given for `{level}`: AWS's default `FullAWSAccess` is assumed there"
                    ));
                    let full = json!({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
                    let mut d = doc(FULL_AWS_ACCESS, layer, full, false);
                    d.org_level = Some(level.to_string());
                    world.docs.push(d);
                }
            }
        }
        if is_kms(action) {
            match snapshot.key_policy_for(resource) {
                Some((arn, p)) => world.docs.push(doc(arn, Layer::Resource, p.document.clone(), true)),
                None => {
                    world.not_checked.push(format!(
                        "the key policy of `{resource}` is not among the inputs (`--key-policy`, or unreadable live): KMS requires it to allow the call"
                    ));
                    world.unknown_layers.push(Layer::Resource);
                }
            }
        } else if is_assume_role(action) {
            match snapshot.role_by_arn(resource).and_then(|r| r.trust_policy.as_ref()) {
                Some(trust) => world.docs.push(doc(format!("trust:{resource}"), Layer::Resource, trust.clone(), true)),
                None => {
                    world.not_checked.push(format!("the trust policy of `{resource}` is not in the snapshot"));
                    world.unknown_layers.push(Layer::Resource);
                }
            }
        } else {
            match snapshot.resource_policy_for(resource) {
                Some((arn, p)) => world.docs.push(doc(arn, Layer::Resource, p.document.clone(), true)),
                None if cross_account => {
                    world.not_checked.push(format!(
                        "`{resource}` is in another account and its resource policy is not among the inputs (`--resource-policy`): cross-account access needs it to allow"
                    ));
                    world.unknown_layers.push(Layer::Resource);
                }
                None => {}
            }
        }
        world
    }

    /// The evaluator's view of the working copy; documents it cannot parse are reported and left out.
    pub fn policy_set(&self) -> (PolicySet, Vec<String>) {
        let mut set = PolicySet::default();
        let mut errors = Vec::new();
        let mut scps: Vec<OrgLevel> = Vec::new();
        let mut rcps: Vec<OrgLevel> = Vec::new();
        for d in &self.docs {
            let kind = match d.layer {
                Layer::Resource | Layer::Rcp | Layer::VpcEndpoint => PolicyKind::Resource,
                _ => PolicyKind::Identity,
            };
            let policy = match Policy::parse(&d.id, &d.document, kind) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(format!("policy `{}` cannot be evaluated {e}", d.id));
                    continue;
                }
            };
            match d.layer {
                Layer::Identity => set.identity_policies.push(policy),
                Layer::PermissionsBoundary => set.permission_boundaries.get_or_insert_with(Vec::new).push(policy),
                Layer::Scp | Layer::Rcp => {
                    let levels = if d.layer == Layer::Scp { &mut scps } else { &mut rcps };
                    let level = d.org_level.clone().unwrap_or_default();
                    match levels.iter_mut().find(|l| l.id == level) {
                        Some(l) => l.policies.push(policy),
                        None => levels.push(OrgLevel { id: level, policies: vec![policy] }),
                    }
                }
                Layer::Resource if d.id.starts_with("trust:") => set.trust_policy = Some(policy),
                Layer::Resource if d.id.contains(":kms:") => set.kms_key_policy = Some(policy),
                Layer::Resource => set.resource_policy = Some(policy),
                Layer::Session => set.session_policy = Some(policy),
                Layer::VpcEndpoint => set.vpc_endpoint_policies.push(policy),
            }
        }
        set.scps = scps;
        set.rcps = rcps;
        (set, errors)
    }

    fn doc_index(&self, id: &str, layer: Layer) -> Option<usize> {
        self.docs.iter().position(|d| d.id == id && d.layer == layer)
    }

    fn inline_aggregate(&self) -> usize {
        self.docs.iter().filter(|d| d.id.starts_with("inline:")).map(|d| policy_size(&d.document)).sum()
    }

    fn inline_limit(&self) -> usize {
        match self.principal.kind {
            PrincipalKind::Role => ROLE_INLINE_AGGREGATE_LIMIT,
            PrincipalKind::User => USER_INLINE_AGGREGATE_LIMIT,
        }
    }
}

/// A change made to the working copy.
#[derive(Debug, Clone)]
pub struct Change {
    pub policy_id: String,
    pub layer: Layer,
    pub operations: Vec<Value>,
    /// The whole document after the change (the APIs that apply it take whole documents).
    pub document: Value,
    pub created: bool,
    /// Characters (whitespace not counted) against the limit that applies, where one applies.
    pub size: usize,
    pub limit: Option<usize>,
}

impl Change {
    pub fn patch_json(&self) -> Value {
        let mut patch = json!({"policy": self.policy_id, "operations": self.operations, "size": self.size});
        if let Some(limit) = self.limit {
            patch["limit"] = json!(limit);
        }
        if self.created {
            patch["creates_policy"] = json!(true);
        }
        patch
    }
}

fn as_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

/// A plain Allow (no Principal, Condition, NotAction or NotResource): the only kind a resource or action can be
/// added to without changing what else it means.
fn plain_allow(s: &Value) -> bool {
    s.get("Effect").and_then(Value::as_str) == Some("Allow")
        && ["Condition", "NotAction", "NotResource", "Principal", "NotPrincipal"].iter().all(|k| s.get(*k).is_none())
        && s.get("Action").is_some()
        && s.get("Resource").is_some()
}

/// Operations that add `values` to the list element `key` of statement `index` (turning a single string into a
/// list first), skipping values already there.
fn extend_element(statement: &Value, index: usize, key: &str, values: &[String]) -> Vec<Value> {
    let current = as_list(statement.get(key));
    let missing: Vec<&String> = values.iter().filter(|v| !current.iter().any(|c| c.eq_ignore_ascii_case(v))).collect();
    if missing.is_empty() {
        return Vec::new();
    }
    match statement.get(key) {
        Some(Value::Array(_)) => missing
            .into_iter()
            .map(|v| json!({"op": "add", "path": format!("/Statement/{index}/{key}/-"), "value": v}))
            .collect(),
        _ => {
            let mut all = current;
            all.extend(missing.into_iter().cloned());
            vec![json!({"op": "replace", "path": format!("/Statement/{index}/{key}"), "value": all})]
        }
    }
}

/// Applies RFC 6902 operations of the forms this module produces (`add`/`replace`/`remove` on statement paths).
fn apply_operations(document: &mut Value, operations: &[Value]) -> Result<(), String> {
    for op in operations {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        if path.is_empty() {
            *document = value;
            continue;
        }
        let (parent_path, last) = path.rsplit_once('/').ok_or_else(|| format!("bad patch path `{path}`"))?;
        let parent = if parent_path.is_empty() { Some(&mut *document) } else { document.pointer_mut(parent_path) };
        let parent = parent.ok_or_else(|| format!("patch path `{path}` is not in the document"))?;
        match (kind, parent) {
            ("add", Value::Array(items)) if last == "-" => items.push(value),
            ("add" | "replace", Value::Object(map)) => {
                map.insert(last.to_string(), value);
            }
            ("replace", Value::Array(items)) => {
                let i: usize = last.parse().map_err(|_| format!("bad index in `{path}`"))?;
                *items.get_mut(i).ok_or_else(|| format!("no element `{path}`"))? = value;
            }
            ("remove", Value::Array(items)) => {
                let i: usize = last.parse().map_err(|_| format!("bad index in `{path}`"))?;
                if i >= items.len() {
                    return Err(format!("no element `{path}`"));
                }
                items.remove(i);
            }
            _ => return Err(format!("unsupported patch `{kind}` at `{path}`")),
        }
    }
    Ok(())
}

/// Operations that add `statement` to `document`: into a plain Allow with the same actions (add resources) or
/// the same resources (add actions) when `merge` allows, else appended.
fn addition_operations(document: &Value, statement: &Value, merge: bool) -> Vec<Value> {
    let existing = crate::source::iam_snapshot::statements(document);
    if merge && plain_allow(statement) {
        let actions = as_list(statement.get("Action"));
        let resources = as_list(statement.get("Resource"));
        let single = matches!(document.get("Statement"), Some(Value::Object(_)));
        if !single {
            for (i, s) in existing.iter().enumerate() {
                if plain_allow(s) && same_set(&as_list(s.get("Action")), &actions) {
                    return extend_element(s, i, "Resource", &resources);
                }
            }
            for (i, s) in existing.iter().enumerate() {
                if plain_allow(s) && same_set(&as_list(s.get("Resource")), &resources) {
                    return extend_element(s, i, "Action", &actions);
                }
            }
        }
    }
    match document.get("Statement") {
        Some(Value::Array(_)) => vec![json!({"op": "add", "path": "/Statement/-", "value": statement})],
        Some(single @ Value::Object(_)) => {
            vec![json!({"op": "replace", "path": "/Statement", "value": [single, statement]})]
        }
        _ => vec![json!({"op": "add", "path": "/Statement", "value": [statement]})],
    }
}

fn new_document(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// Adds statements to the principal's identity policies: an existing inline policy when the aggregate stays within
/// the limit, else a new inline policy, else (over the inline limit) a new customer managed policy.
pub fn add_identity_statements(world: &mut World, statements: &[Value]) -> Result<Change, String> {
    let limit = world.inline_limit();
    let aggregate = world.inline_aggregate();
    // Prefer the inline policy whose statements the change merges into; else the first inline policy.
    let inline: Vec<usize> = (0..world.docs.len()).filter(|&i| world.docs[i].id.starts_with("inline:")).collect();
    let mut best: Option<(usize, Vec<Value>, Value)> = None;
    for &i in &inline {
        let mut document = world.docs[i].document.clone();
        let mut operations = Vec::new();
        for s in statements {
            let ops = addition_operations(&document, s, true);
            apply_operations(&mut document, &ops)?;
            operations.extend(ops);
        }
        let merged = operations.iter().all(|o| o.get("path").and_then(Value::as_str) != Some("/Statement/-"));
        let better = best.as_ref().is_none_or(|(_, ops, _)| merged && ops.iter().any(|o| o["path"] == "/Statement/-"));
        if better {
            best = Some((i, operations, document));
        }
    }
    if let Some((i, operations, document)) = best {
        let size = aggregate - policy_size(&world.docs[i].document) + policy_size(&document);
        if size <= limit {
            world.docs[i].document = document.clone();
            return Ok(Change {
                policy_id: world.docs[i].id.clone(),
                layer: Layer::Identity,
                operations,
                document,
                created: false,
                size,
                limit: Some(limit),
            });
        }
    }
    let document = new_document(statements);
    let size = aggregate + policy_size(&document);
    if size <= limit && world.doc_index(&format!("inline:{NEW_INLINE_POLICY}"), Layer::Identity).is_none() {
        let id = format!("inline:{NEW_INLINE_POLICY}");
        world.docs.push(doc(id.clone(), Layer::Identity, document.clone(), true));
        return Ok(Change {
            policy_id: id,
            layer: Layer::Identity,
            operations: vec![json!({"op": "add", "path": "", "value": document})],
            document,
            created: true,
            size,
            limit: Some(limit),
        });
    }
    // Over the inline aggregate: a customer managed policy has its own 6,144-character budget.
    let size = policy_size(&document);
    if size > MANAGED_POLICY_LIMIT {
        return Err(format!(
            "the statements take {size} characters, over the {MANAGED_POLICY_LIMIT} of a managed policy"
        ));
    }
    let arn = managed_policy_arn(&world.principal.arn, NEW_INLINE_POLICY);
    world.docs.push(doc(arn.clone(), Layer::Identity, document.clone(), true));
    Ok(Change {
        policy_id: arn,
        layer: Layer::Identity,
        operations: vec![json!({"op": "add", "path": "", "value": document})],
        document,
        created: true,
        size,
        limit: Some(MANAGED_POLICY_LIMIT),
    })
}

fn managed_policy_arn(principal_arn: &str, name: &str) -> String {
    let mut parts = principal_arn.splitn(6, ':');
    let partition = parts.nth(1).unwrap_or("aws");
    let account = parts.nth(2).unwrap_or("");
    format!("arn:{partition}:iam::{account}:policy/{name}")
}

/// Adds statements to the one policy of a layer (boundary, key, resource or trust policy), creating the document
/// when the inputs had none.
pub fn add_layer_statements(world: &mut World, layer: Layer, id: &str, statements: &[Value]) -> Result<Change, String> {
    let merge = layer == Layer::PermissionsBoundary;
    let limit = match layer {
        Layer::PermissionsBoundary => Some(MANAGED_POLICY_LIMIT),
        Layer::Resource if id.contains(":kms:") => Some(crate::model::iam::KEY_POLICY_LIMIT),
        _ => None,
    };
    let index = world.docs.iter().position(|d| d.layer == layer && (d.id == id || layer == Layer::Resource));
    let Some(i) = index else {
        let document = new_document(statements);
        world.docs.push(doc(id, layer, document.clone(), true));
        if let Some(pos) = world.unknown_layers.iter().position(|l| *l == layer) {
            world.unknown_layers.remove(pos);
            world.unknown_layers.push(layer);
        }
        return Ok(Change {
            policy_id: id.to_string(),
            layer,
            operations: vec![json!({"op": "add", "path": "", "value": document})],
            size: policy_size(&document),
            document,
            created: true,
            limit,
        });
    };
    if !world.docs[i].editable {
        return Err(format!("`{}` is managed by AWS or the organization and cannot be edited", world.docs[i].id));
    }
    let mut document = world.docs[i].document.clone();
    let mut operations = Vec::new();
    for s in statements {
        let ops = addition_operations(&document, s, merge);
        apply_operations(&mut document, &ops)?;
        operations.extend(ops);
    }
    let size = policy_size(&document);
    if let Some(limit) = limit.filter(|l| size > *l) {
        return Err(format!("`{}` would take {size} characters, over its limit of {limit}", world.docs[i].id));
    }
    world.docs[i].document = document.clone();
    Ok(Change { policy_id: world.docs[i].id.clone(), layer, operations, document, created: false, size, limit })
}

/// Removes one statement (a Deny that blocks) from a policy of the working copy.
pub fn remove_statement(world: &mut World, policy_id: &str, layer: Layer, index: usize) -> Result<Change, String> {
    let i = world.doc_index(policy_id, layer).ok_or_else(|| format!("policy `{policy_id}` is not in the inputs"))?;
    if !world.docs[i].editable {
        return Err(format!("`{policy_id}` is managed by AWS or the organization and cannot be edited"));
    }
    let mut document = world.docs[i].document.clone();
    let operations = match document.get("Statement") {
        Some(Value::Array(_)) => vec![json!({"op": "remove", "path": format!("/Statement/{index}")})],
        _ => vec![json!({"op": "replace", "path": "/Statement", "value": []})],
    };
    apply_operations(&mut document, &operations)?;
    world.docs[i].document = document.clone();
    Ok(Change {
        policy_id: policy_id.to_string(),
        layer,
        operations,
        size: policy_size(&document),
        document,
        created: false,
        limit: None,
    })
}

/// The layer and policy a fix is made to.
pub fn layer_of_target(target: FixTarget) -> Option<Layer> {
    match target {
        FixTarget::IdentityPolicy => Some(Layer::Identity),
        FixTarget::ResourcePolicy | FixTarget::KeyPolicy | FixTarget::TrustPolicy => Some(Layer::Resource),
        FixTarget::PermissionsBoundary => Some(Layer::PermissionsBoundary),
        FixTarget::Scp => Some(Layer::Scp),
        FixTarget::VpcEndpointPolicy => Some(Layer::VpcEndpoint),
        _ => None,
    }
}

fn quote(document: &Value) -> String {
    serde_json::to_string(document).unwrap_or_default().replace('\'', "'\\''")
}

/// The AWS CLI command that puts a changed document in place (these APIs take whole documents).
pub fn apply_command(change: &Change, principal: &PrincipalFacts) -> Option<String> {
    let doc = quote(&change.document);
    let id = change.policy_id.as_str();
    let (kind, flag) = match principal.kind {
        PrincipalKind::Role => ("role", "--role-name"),
        PrincipalKind::User => ("user", "--user-name"),
    };
    // IAM rejects a policy without statements: a policy whose last statement goes is deleted or detached.
    if crate::source::iam_snapshot::statements(&change.document).is_empty() {
        if let Some(name) = id.strip_prefix("inline:") {
            return Some(format!("aws iam delete-{kind}-policy {flag} {} --policy-name {name}", principal.name));
        }
        if id.contains(":policy/") {
            return Some(format!("aws iam detach-{kind}-policy {flag} {} --policy-arn {id}", principal.name));
        }
    }
    if let Some(name) = id.strip_prefix("inline:") {
        return Some(format!(
            "aws iam put-{kind}-policy {flag} {} --policy-name {name} --policy-document '{doc}'",
            principal.name
        ));
    }
    if let Some(role_arn) = id.strip_prefix("trust:") {
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        return Some(format!("aws iam update-assume-role-policy --role-name {name} --policy-document '{doc}'"));
    }
    if id.contains(":iam::") && id.contains(":policy/") && !is_aws_managed_policy_arn(id) {
        return Some(if change.created {
            let name = id.rsplit('/').next().unwrap_or(id);
            format!(
                "aws iam create-policy --policy-name {name} --policy-document '{doc}' && aws iam attach-{kind}-policy {flag} {} --policy-arn {id}",
                principal.name
            )
        } else {
            format!("aws iam create-policy-version --policy-arn {id} --policy-document '{doc}' --set-as-default")
        });
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    let (service, region, resource) = match parts.as_slice() {
        ["arn", _, service, region, _, resource] => (*service, *region, *resource),
        _ => return None,
    };
    match service {
        "kms" => Some(format!(
            "aws kms put-key-policy --key-id {id} --policy-name default --policy '{doc}' --region {region}"
        )),
        "ecr" => {
            let repo = resource.strip_prefix("repository/")?;
            let account = parts.get(4).copied().unwrap_or("");
            Some(format!(
                "aws ecr set-repository-policy --registry-id {account} --repository-name {repo} --policy-text '{doc}' --region {region}"
            ))
        }
        "secretsmanager" => Some(format!(
            "aws secretsmanager put-resource-policy --secret-id {id} --resource-policy '{doc}' --region {region}"
        )),
        "s3" => {
            let bucket = resource.split('/').next().unwrap_or(resource);
            Some(format!("aws s3api put-bucket-policy --bucket {bucket} --policy '{doc}'"))
        }
        _ => None,
    }
}

/// Fills a fix from the change that implements it: patch, whole document to put, command.
pub fn describe_change(fix: &mut Fix, change: &Change, principal: &PrincipalFacts) {
    fix.patch = Some(change.patch_json());
    if change.created && change.layer == Layer::Resource {
        // The current policy was not among the inputs: a put command would replace whatever it holds.
        fix.steps.push(format!(
            "the current policy of `{}` was not given: add the statement to it rather than replacing it",
            change.policy_id
        ));
        return;
    }
    if let Some(command) = apply_command(change, principal) {
        // This command is computed from the current document with the change: it supersedes a put of the same
        // kind the fix carried (`aws kms put-key-policy`, `aws iam put-role-policy` …).
        let verb = |c: &str| c.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        let same = verb(&command);
        fix.commands.retain(|c| verb(c) != same);
        fix.commands.insert(0, command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_resource_to_statement_with_same_actions() {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::a/*"}]});
        let stmt = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        let ops = addition_operations(&document, &stmt, true);
        assert_eq!(
            ops,
            vec![
                json!({"op": "replace", "path": "/Statement/0/Resource", "value": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]})
            ]
        );
        let mut patched = document.clone();
        apply_operations(&mut patched, &ops).unwrap();
        assert_eq!(patched["Statement"][0]["Resource"][1], "arn:aws:s3:::b/*");
    }

    #[test]
    fn conditioned_statement_is_not_extended() {
        let document = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]});
        let stmt = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        assert_eq!(addition_operations(&document, &stmt, true)[0]["path"], "/Statement/-");
    }

    #[test]
    fn inline_aggregate_limit_moves_the_statement_to_a_managed_policy() {
        // An inline policy just under the role's 10,240-character aggregate.
        let mut big: Vec<String> = Vec::new();
        while policy_size(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": &big}]}),
        ) < 10_180
        {
            big.push(format!("arn:aws:s3:::bucket-{:04}/*", big.len()));
        }
        let principal = PrincipalFacts {
            arn: "arn:aws:iam::111122223333:role/app".into(),
            name: "app".into(),
            ..PrincipalFacts::default()
        };
        let mut world = World {
            principal,
            docs: vec![doc(
                "inline:big",
                Layer::Identity,
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": big}]}),
                true,
            )],
            not_checked: Vec::new(),
            unknown_layers: Vec::new(),
        };
        assert!(world.inline_aggregate() <= ROLE_INLINE_AGGREGATE_LIMIT);
        let stmt =
            json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q"});
        let change = add_identity_statements(&mut world, &[stmt]).unwrap();
        assert_eq!(change.policy_id, "arn:aws:iam::111122223333:policy/why-task-failed-fixes");
        assert_eq!(change.limit, Some(MANAGED_POLICY_LIMIT));
        assert!(apply_command(&change, &world.principal).unwrap().contains("attach-role-policy --role-name app"));
    }
}
