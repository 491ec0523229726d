//! The policy facts a diagnosis can know: roles (and users, groups) with their policies, managed policies with
//! their default-version documents, organization policies with their place in the hierarchy, KMS key policies and
//! resource policies. Filled offline from `aws iam get-account-authorization-details` output and friends
//! (`source::iam_snapshot`), or live from the IAM/KMS/ECR/Secrets Manager/S3 APIs.
//!
//! Documents are kept as decoded JSON (`Value`): the evaluator parses them when a request is judged, so a bad
//! document only costs the requests it takes part in.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// AWS's limits on policy size, in characters not counting whitespace
/// (IAM User Guide, "IAM and AWS STS quotas": role inline aggregate 10,240; managed policy 6,144).
pub const ROLE_INLINE_AGGREGATE_LIMIT: usize = 10_240;
pub const USER_INLINE_AGGREGATE_LIMIT: usize = 2_048;
pub const MANAGED_POLICY_LIMIT: usize = 6_144;
/// KMS key policies: 32 KiB (KMS Developer Guide, "Quotas: key policy document size").
pub const KEY_POLICY_LIMIT: usize = 32_768;

/// Whether a principal is a role or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    #[default]
    Role,
    User,
}

/// A role or user and the policies attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PrincipalFacts {
    pub kind: PrincipalKind,
    pub arn: String,
    pub name: String,
    /// IAM path (`/`, `/service-role/`); the assumed-role ARN drops it, the role ARN keeps it.
    pub path: String,
    /// The role's trust policy (roles only).
    pub trust_policy: Option<Value>,
    /// Inline policies by name, in the order the input listed them.
    pub inline_policies: Vec<NamedDocument>,
    pub attached_policy_arns: Vec<String>,
    pub permissions_boundary_arn: Option<String>,
    /// Group names (users only); their policies are in `IamSnapshot::groups`.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Tags, the values of `aws:PrincipalTag/<key>`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl PrincipalFacts {
    pub fn inline_policy(&self, name: &str) -> Option<&NamedDocument> {
        self.inline_policies.iter().find(|p| p.name == name)
    }
}

/// An IAM group's policies (a user's permissions include its groups').
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GroupFacts {
    pub arn: String,
    pub name: String,
    pub inline_policies: Vec<NamedDocument>,
    pub attached_policy_arns: Vec<String>,
}

/// A policy document with the name it is known by (inline policy name, file, Sid-less id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedDocument {
    pub name: String,
    pub document: Value,
}

/// A managed policy with its default version's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub default_version_id: Option<String>,
    pub document: Value,
}

impl ManagedPolicy {
    /// AWS managed policies (`arn:aws:iam::aws:policy/...`) cannot be edited by the account.
    pub fn is_aws_managed(&self) -> bool {
        is_aws_managed_policy_arn(&self.arn)
    }
}

pub fn is_aws_managed_policy_arn(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// Service control policy or resource control policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgPolicyKind {
    Scp,
    Rcp,
}

/// An SCP or RCP and the organization level it is attached to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicy {
    pub kind: OrgPolicyKind,
    /// Policy id (`p-...`) or ARN when known, else the file name.
    pub id: String,
    pub name: Option<String>,
    /// The level it is attached to: root (`r-...`), an OU (`ou-...`) or the account id. Levels are ordered by
    /// their first appearance in the input, root first.
    pub level: String,
    pub document: Value,
}

/// Everything known about the policies of one account (and its organization).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IamSnapshot {
    pub principals: Vec<PrincipalFacts>,
    #[serde(default)]
    pub groups: Vec<GroupFacts>,
    /// Managed policies by ARN.
    pub managed_policies: BTreeMap<String, ManagedPolicy>,
    pub org_policies: Vec<OrgPolicy>,
    /// KMS key policies by key ARN.
    pub key_policies: BTreeMap<String, NamedDocument>,
    /// Resource policies (ECR repository, Secrets Manager secret, S3 bucket, ...) by resource ARN.
    pub resource_policies: BTreeMap<String, NamedDocument>,
    /// Where the facts came from (files, or `api:Operation`), for the explanation.
    #[serde(default)]
    pub sources: Vec<String>,
}

impl IamSnapshot {
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty()
            && self.managed_policies.is_empty()
            && self.org_policies.is_empty()
            && self.key_policies.is_empty()
            && self.resource_policies.is_empty()
    }

    /// Adds everything from another snapshot (later inputs win for the same ARN).
    pub fn merge(&mut self, other: IamSnapshot) {
        for p in other.principals {
            self.principals.retain(|q| q.arn != p.arn);
            self.principals.push(p);
        }
        for g in other.groups {
            self.groups.retain(|h| h.arn != g.arn);
            self.groups.push(g);
        }
        self.managed_policies.extend(other.managed_policies);
        self.org_policies.extend(other.org_policies);
        self.key_policies.extend(other.key_policies);
        self.resource_policies.extend(other.resource_policies);
        self.sources.extend(other.sources);
    }

    /// The role or user behind a caller ARN: the role ARN itself, an assumed-role session
    /// (`arn:aws:sts::A:assumed-role/R/S`, which drops the role's path, so matched by account and name), or a user.
    pub fn principal_for(&self, caller: &str) -> Option<&PrincipalFacts> {
        if let Some(p) = self.principals.iter().find(|p| p.arn == caller) {
            return Some(p);
        }
        let account = caller.split(':').nth(4)?;
        let resource = caller.splitn(6, ':').nth(5)?;
        let (kind, name) = if let Some(rest) = resource.strip_prefix("assumed-role/") {
            (PrincipalKind::Role, rest.split('/').next()?)
        } else if let Some(rest) = resource.strip_prefix("role/") {
            (PrincipalKind::Role, rest.rsplit('/').next()?)
        } else if let Some(rest) = resource.strip_prefix("user/") {
            (PrincipalKind::User, rest.rsplit('/').next()?)
        } else {
            return None;
        };
        self.principals.iter().find(|p| p.kind == kind && p.name == name && p.arn.split(':').nth(4) == Some(account))
    }

    pub fn role_by_arn(&self, arn: &str) -> Option<&PrincipalFacts> {
        self.principals.iter().find(|p| p.kind == PrincipalKind::Role && p.arn == arn)
    }

    pub fn group(&self, name: &str) -> Option<&GroupFacts> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The key policy of a key: by key ARN, or by key id when the input named only the id.
    pub fn key_policy_for(&self, key_arn: &str) -> Option<(&str, &NamedDocument)> {
        if let Some((k, v)) = self.key_policies.get_key_value(key_arn) {
            return Some((k.as_str(), v));
        }
        let key_id = key_arn.rsplit('/').next()?;
        self.key_policies.iter().find(|(k, _)| k.rsplit('/').next() == Some(key_id)).map(|(k, v)| (k.as_str(), v))
    }

    /// The resource policy that governs a resource: exact ARN; an S3 object's bucket; a secret named without its
    /// random 6-character suffix.
    pub fn resource_policy_for(&self, resource: &str) -> Option<(&str, &NamedDocument)> {
        if let Some((k, v)) = self.resource_policies.get_key_value(resource) {
            return Some((k.as_str(), v));
        }
        if let Some(rest) = resource.strip_prefix("arn:").and_then(|r| r.split_once(":s3:::"))
            && let Some((bucket, _key)) = rest.1.split_once('/')
        {
            let bucket_arn = format!("arn:{}:s3:::{bucket}", rest.0);
            return self.resource_policies.get_key_value(&bucket_arn).map(|(k, v)| (k.as_str(), v));
        }
        if resource.contains(":secretsmanager:") {
            return self
                .resource_policies
                .iter()
                .find(|(k, _)| secret_arns_match(k, resource))
                .map(|(k, v)| (k.as_str(), v));
        }
        None
    }

    /// Organization levels (root first) of one kind, with their policies.
    pub fn org_levels(&self, kind: OrgPolicyKind) -> Vec<(&str, Vec<&OrgPolicy>)> {
        let mut levels: Vec<(&str, Vec<&OrgPolicy>)> = Vec::new();
        for p in self.org_policies.iter().filter(|p| p.kind == kind) {
            match levels.iter_mut().find(|(l, _)| *l == p.level) {
                Some((_, ps)) => ps.push(p),
                None => levels.push((p.level.as_str(), vec![p])),
            }
        }
        levels
    }
}

impl IamSnapshot {
    /// What a live diagnosis fetched (roles with their policies, KMS key policies, ECR repository policies), as a
    /// snapshot the explanation and fix verification can use.
    pub fn from_task_evidence(e: &super::task::TaskEvidence) -> IamSnapshot {
        let mut snapshot = IamSnapshot::default();
        for role in e.roles.values().filter_map(super::task::Lookup::found) {
            let managed = role.attached_policies.iter().chain(role.permissions_boundary.as_ref());
            for p in managed {
                if let Some(document) = &p.document {
                    snapshot.managed_policies.insert(
                        p.arn.clone(),
                        ManagedPolicy {
                            arn: p.arn.clone(),
                            name: p.name.clone(),
                            default_version_id: None,
                            document: document.clone(),
                        },
                    );
                }
            }
            // `arn:…:role/service-role/name` → `/service-role/`.
            let path = role
                .arn
                .split_once(":role/")
                .and_then(|(_, rest)| rest.rsplit_once('/'))
                .map(|(p, _)| format!("/{p}/"))
                .unwrap_or_else(|| "/".into());
            snapshot.principals.push(PrincipalFacts {
                kind: PrincipalKind::Role,
                arn: role.arn.clone(),
                name: role.name.clone(),
                path,
                trust_policy: role.trust_policy.clone(),
                inline_policies: role
                    .inline_policies
                    .iter()
                    .map(|(name, document)| NamedDocument { name: name.clone(), document: document.clone() })
                    .collect(),
                attached_policy_arns: role.attached_policies.iter().map(|p| p.arn.clone()).collect(),
                permissions_boundary_arn: role.permissions_boundary.as_ref().map(|b| b.arn.clone()),
                groups: Vec::new(),
                tags: BTreeMap::new(),
            });
        }
        for key in e.secrets.iter().filter_map(|s| s.key.found()) {
            if let Some(policy) = &key.policy {
                let named = NamedDocument { name: format!("key policy of `{}`", key.arn), document: policy.clone() };
                snapshot.key_policies.insert(key.arn.clone(), named);
            }
        }
        for image in &e.images {
            if let Some(policy) = image.repository_policy.found() {
                let n = &image.name;
                let arn = format!("arn:{}:ecr:{}:{}:repository/{}", e.partition, n.region, n.registry_id, n.repository);
                let named = NamedDocument { name: format!("repository policy of `{arn}`"), document: policy.clone() };
                snapshot.resource_policies.insert(arn, named);
            }
        }
        if !snapshot.is_empty() {
            snapshot.sources.push("live: iam, kms, ecr".into());
        }
        snapshot
    }
}

/// Secrets Manager ARNs end in `-` plus 6 random characters; a policy or message may name the secret without them.
fn secret_arns_match(a: &str, b: &str) -> bool {
    let strip = |s: &str| -> String {
        match s.rsplit_once('-') {
            Some((head, tail)) if tail.len() == 6 && tail.chars().all(|c| c.is_ascii_alphanumeric()) => head.into(),
            _ => s.into(),
        }
    };
    a == b || strip(a) == b || a == strip(b) || strip(a) == strip(b)
}

/// The size AWS counts for a policy: characters of its compact JSON (whitespace outside strings is not counted).
pub fn policy_size(document: &Value) -> usize {
    serde_json::to_string(document).map(|s| s.chars().count()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(arn: &str, name: &str) -> PrincipalFacts {
        PrincipalFacts { arn: arn.into(), name: name.into(), path: "/".into(), ..PrincipalFacts::default() }
    }

    #[test]
    fn assumed_role_session_finds_role_with_path() {
        let snap = IamSnapshot {
            principals: vec![role("arn:aws:iam::111122223333:role/service-role/exec", "exec")],
            ..IamSnapshot::default()
        };
        let found = snap.principal_for("arn:aws:sts::111122223333:assumed-role/exec/abc").map(|p| p.arn.as_str());
        assert_eq!(found, Some("arn:aws:iam::111122223333:role/service-role/exec"));
        assert!(snap.principal_for("arn:aws:sts::999999999999:assumed-role/exec/abc").is_none());
    }

    #[test]
    fn resource_policy_lookup_by_bucket_and_secret_suffix() {
        let doc = NamedDocument { name: "p".into(), document: json!({}) };
        let mut snap = IamSnapshot::default();
        snap.resource_policies.insert("arn:aws:s3:::bucket".into(), doc.clone());
        snap.resource_policies.insert("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf".into(), doc);
        assert!(snap.resource_policy_for("arn:aws:s3:::bucket/a/b.txt").is_some());
        assert!(snap.resource_policy_for("arn:aws:secretsmanager:us-east-1:111122223333:secret:db").is_some());
        assert!(snap.resource_policy_for("arn:aws:s3:::other/a").is_none());
    }

    #[test]
    fn policy_size_ignores_whitespace_outside_strings() {
        let doc = json!({"Statement": [{"Sid": "a b"}]});
        assert_eq!(policy_size(&doc), r#"{"Statement":[{"Sid":"a b"}]}"#.len());
    }
}
