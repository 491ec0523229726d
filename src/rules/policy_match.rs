//! Which statement of a set of fetched policies decides one (principal, action, resource) question: the part of
//! IAM evaluation the fact rules need (Deny beats Allow, no Allow is an implicit deny, a boundary must also allow,
//! a key policy must name the principal or delegate to the account). Conditions are not evaluated: a statement
//! with a `Condition` is reported as deciding "if its condition holds", and the finding says so.
//! The full evaluator (`crate::policy`, issue 3) replaces this once it lands.

use serde_json::Value;

/// A policy document with the name the report gives it (inline policy name, managed policy ARN, `key policy`).
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub document: &'a Value,
}

/// The decision and the statement that made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allowed { policy: String, statement: Value, conditional: bool },
    ExplicitDeny { policy: String, statement: Value, conditional: bool },
    ImplicitDeny,
}

impl Decision {
    pub fn allows(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    /// The evaluator's explanation for `Finding.explanation`.
    pub fn explanation(&self, layer: &str, policies_checked: usize) -> Value {
        match self {
            Decision::Allowed { policy, statement, conditional } => serde_json::json!({
                "layer": layer, "decision": "allow", "policy": policy, "statement": statement,
                "conditional": conditional,
            }),
            Decision::ExplicitDeny { policy, statement, conditional } => serde_json::json!({
                "layer": layer, "decision": "explicit-deny", "policy": policy, "statement": statement,
                "conditional": conditional,
            }),
            Decision::ImplicitDeny => serde_json::json!({
                "layer": layer, "decision": "implicit-deny", "policies_checked": policies_checked,
                "reason": "no statement allows this action on this resource",
            }),
        }
    }
}

/// The statements of a policy document (`Statement` may be one object or a list).
pub fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if ignore_case {
        (pattern.to_lowercase().chars().collect(), value.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    // Iterative glob match with backtracking to the last `*`.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn covers(stmt: &Value, key: &str, not_key: &str, value: &str, ignore_case: bool) -> bool {
    if let Some(patterns) = stmt.get(key) {
        strings(Some(patterns)).iter().any(|p| wildcard_match(p, value, ignore_case))
    } else if let Some(patterns) = stmt.get(not_key) {
        !strings(Some(patterns)).iter().any(|p| wildcard_match(p, value, ignore_case))
    } else {
        // Trust policies have no `Resource`: the statement is about the policy's own resource.
        key == "Resource"
    }
}

/// Whether a statement applies to this action and resource (principal and conditions aside).
pub fn statement_applies(stmt: &Value, action: &str, resource: &str) -> bool {
    covers(stmt, "Action", "NotAction", action, true) && covers(stmt, "Resource", "NotResource", resource, false)
}

fn has_condition(stmt: &Value) -> bool {
    stmt.get("Condition").and_then(Value::as_object).is_some_and(|c| !c.is_empty())
}

fn effect(stmt: &Value) -> Option<&str> {
    stmt.get("Effect").and_then(Value::as_str)
}

/// Evaluates identity-style policies (no `Principal`): an explicit Deny wins, then any Allow, else implicit deny.
/// `principal` filters statements when they carry a `Principal` (resource and key policies).
pub fn decide(policies: &[NamedPolicy<'_>], action: &str, resource: &str, principal: Option<&Principal>) -> Decision {
    let mut allowed = None;
    for policy in policies {
        for stmt in statements(policy.document) {
            if !statement_applies(stmt, action, resource) {
                continue;
            }
            if let Some(p) = principal
                && !p.named_by(stmt)
            {
                continue;
            }
            let conditional = has_condition(stmt);
            match effect(stmt) {
                Some("Deny") => {
                    return Decision::ExplicitDeny {
                        policy: policy.name.to_string(),
                        statement: stmt.clone(),
                        conditional,
                    };
                }
                Some("Allow") if allowed.is_none() => {
                    allowed = Some(Decision::Allowed {
                        policy: policy.name.to_string(),
                        statement: stmt.clone(),
                        conditional,
                    });
                }
                _ => {}
            }
        }
    }
    allowed.unwrap_or(Decision::ImplicitDeny)
}

/// Who is asking, for statements with a `Principal` (trust, key and repository policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM role (or user) ARN in `account`.
    Arn { arn: String, account: String },
    /// A service principal (`ecs-tasks.amazonaws.com`).
    Service(String),
}

impl Principal {
    /// Whether a statement's `Principal` names this principal directly (or `*`).
    pub fn named_by(&self, stmt: &Value) -> bool {
        let Some(principal) = stmt.get("Principal") else { return false };
        if principal.as_str() == Some("*") {
            return true;
        }
        match self {
            Principal::Arn { arn, .. } => strings(principal.get("AWS")).iter().any(|p| *p == "*" || p == arn),
            Principal::Service(name) => strings(principal.get("Service")).contains(&name.as_str()),
        }
    }

    /// Whether a statement delegates to the principal's account (`arn:…:iam::ACCOUNT:root` or the bare id), so
    /// that the principal's IAM policies decide.
    pub fn account_delegated_by(&self, stmt: &Value) -> bool {
        let Principal::Arn { account, .. } = self else { return false };
        let Some(principal) = stmt.get("Principal") else { return false };
        strings(principal.get("AWS")).iter().any(|p| is_account_root(p, account) || *p == account)
    }
}

fn is_account_root(p: &str, account: &str) -> bool {
    p.strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":iam::"))
        .is_some_and(|(_, tail)| tail.strip_suffix(":root").is_some_and(|a| a == account))
}

/// A key policy's decision for a principal: direct grant, delegation to the account's IAM, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyPolicyDecision {
    /// A statement names the principal (or `*`) for the action.
    Grants(Decision),
    /// A statement gives the account (root) the action: IAM policies decide.
    DelegatesToIam { statement: Value },
    /// Neither: the key cannot be used by this principal, whatever its IAM policies say.
    NoGrant,
    /// A statement explicitly denies it.
    Denies(Decision),
}

pub fn key_policy_decision(
    key_policy: &Value,
    principal: &Principal,
    action: &str,
    key_arn: &str,
) -> KeyPolicyDecision {
    let named = NamedPolicy { name: "key policy", document: key_policy };
    let direct = decide(&[named], action, key_arn, Some(principal));
    match direct {
        Decision::ExplicitDeny { .. } => return KeyPolicyDecision::Denies(direct),
        Decision::Allowed { .. } => return KeyPolicyDecision::Grants(direct),
        Decision::ImplicitDeny => {}
    }
    statements(key_policy)
        .into_iter()
        .find(|s| {
            effect(s) == Some("Allow") && statement_applies(s, action, key_arn) && principal.account_delegated_by(s)
        })
        .map_or(KeyPolicyDecision::NoGrant, |s| KeyPolicyDecision::DelegatesToIam { statement: s.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("ecr:Get*", "ecr:GetAuthorizationToken", false));
        assert!(wildcard_match("ECR:get*", "ecr:GetAuthorizationToken", true));
        assert!(wildcard_match(
            "arn:aws:logs:*:*:log-group:/ecs/app:*",
            "arn:aws:logs:us-east-1:1:log-group:/ecs/app:log-stream:x",
            false
        ));
        assert!(!wildcard_match("arn:aws:ecr:*:*:repository/a", "arn:aws:ecr:us-east-1:1:repository/ab", false));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(wildcard_match("*", "", false));
    }

    #[test]
    fn deny_beats_allow_and_no_allow_is_implicit() {
        let allow = json!({"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]});
        let deny = json!({"Statement": {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": "*"}});
        let policies = [NamedPolicy { name: "a", document: &allow }, NamedPolicy { name: "d", document: &deny }];
        assert!(matches!(decide(&policies, "ecr:BatchGetImage", "arn:r", None), Decision::ExplicitDeny { .. }));
        assert!(decide(&policies, "ecr:GetAuthorizationToken", "*", None).allows());
        assert_eq!(decide(&policies[1..], "ecr:GetAuthorizationToken", "*", None), Decision::ImplicitDeny);
    }

    #[test]
    fn not_action_and_not_resource() {
        let doc = json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:secret"}]});
        let p = [NamedPolicy { name: "n", document: &doc }];
        assert!(decide(&p, "kms:Decrypt", "arn:key", None).allows());
        assert!(!decide(&p, "iam:GetRole", "arn:key", None).allows());
        assert!(!decide(&p, "kms:Decrypt", "arn:secret", None).allows());
    }

    #[test]
    fn key_policies_grant_delegate_or_not() {
        let role = Principal::Arn { arn: "arn:aws:iam::111122223333:role/exec".into(), account: "111122223333".into() };
        let key = "arn:aws:kms:us-east-1:111122223333:key/k";
        let admins = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/admin"}, "Action": "kms:*", "Resource": "*"}]});
        assert_eq!(key_policy_decision(&admins, &role, "kms:Decrypt", key), KeyPolicyDecision::NoGrant);
        let root = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]});
        assert!(matches!(
            key_policy_decision(&root, &role, "kms:Decrypt", key),
            KeyPolicyDecision::DelegatesToIam { .. }
        ));
        let direct = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/exec"]}, "Action": ["kms:Decrypt"], "Resource": "*"}]});
        assert!(matches!(key_policy_decision(&direct, &role, "kms:Decrypt", key), KeyPolicyDecision::Grants(_)));
    }

    #[test]
    fn trust_statements_name_services() {
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}]});
        let ecs = Principal::Service("ecs-tasks.amazonaws.com".into());
        let p = [NamedPolicy { name: "trust", document: &trust }];
        assert_eq!(decide(&p, "sts:AssumeRole", "arn:role", Some(&ecs)), Decision::ImplicitDeny);
        let ec2 = Principal::Service("ec2.amazonaws.com".into());
        assert!(decide(&p, "sts:AssumeRole", "arn:role", Some(&ec2)).allows());
    }
}
