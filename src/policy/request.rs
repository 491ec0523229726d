//! The request being judged: who, what, on which resource, with which context keys.

use crate::iamdata;
use std::collections::HashMap;

/// One context key's value(s) as the request carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    /// The key as the caller spelled it.
    pub name: String,
    pub values: Vec<String>,
    /// Multi-valued (`aws:TagKeys`, `aws:PrincipalOrgPaths`...): only set operators can test it.
    pub multi: bool,
}

/// Request context keys, looked up case-insensitively (key names are case-insensitive in IAM).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: HashMap<String, ContextValue>,
}

impl Context {
    pub fn insert(&mut self, key: &str, values: Vec<String>, multi: bool) {
        self.entries.insert(key.to_ascii_lowercase(), ContextValue { name: key.to_string(), values, multi });
    }

    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(&key.to_ascii_lowercase())
    }

    /// The value of a single-valued key (policy variables can only use those).
    pub fn single(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.multi).and_then(|v| v.values.first()).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ContextValue> {
        self.entries.values()
    }
}

/// A raw context value as given by the user: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    One(String),
    Many(Vec<String>),
}

/// The request AWS authorizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// ARN of the caller (`arn:aws:sts::123456789012:assumed-role/app/task-id`, `arn:aws:iam::...:user/alice`) or
    /// a service principal (`ecs-tasks.amazonaws.com`).
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN, or `*` for actions that support no resource-level scoping.
    pub resource: String,
    /// Account that owns the resource. When absent it is read from the resource ARN, or taken to be the caller's
    /// account for ARNs without one (S3 buckets, `*`).
    pub resource_account: Option<String>,
    pub context: Context,
    /// Keys given by the caller that the action cannot carry (not global, not the action's or its resource type's
    /// keys); AWS never sends them for this action, so they are left out of the context.
    pub ignored_context_keys: Vec<String>,
}

impl Request {
    /// Builds a request, typing each context key by the Service Authorization Reference: multi-valued keys keep
    /// all values, single-valued keys given a list keep the first, keys the action cannot carry are dropped.
    pub fn new(
        principal: &str,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        raw_context: &[(String, RawValue)],
    ) -> Request {
        let allowed = AllowedKeys::for_request(action, resource);
        let mut context = Context::default();
        let mut ignored_context_keys = Vec::new();
        for (key, raw) in raw_context {
            if !allowed.permits(key) {
                ignored_context_keys.push(key.clone());
                continue;
            }
            let multi = iamdata::condition_key_type(key).is_some_and(|t| t.is_array());
            let values = match raw {
                RawValue::One(v) => vec![v.clone()],
                RawValue::Many(vs) if multi => vs.clone(),
                RawValue::Many(vs) => vs.first().cloned().into_iter().collect(),
            };
            context.insert(key, values, multi);
        }
        Request {
            principal: principal.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account: resource_account.map(str::to_string),
            context,
            ignored_context_keys,
        }
    }

    /// Account of the caller: field 5 of its ARN; `None` for service principals.
    pub fn principal_account(&self) -> Option<&str> {
        arn_account(&self.principal)
    }

    /// Account that owns the resource (see [`Request::resource_account`]).
    pub fn effective_resource_account(&self) -> Option<&str> {
        self.resource_account.as_deref().or_else(|| arn_account(&self.resource)).or_else(|| self.principal_account())
    }

    pub fn is_service_principal(&self) -> bool {
        is_service_principal(&self.principal)
    }
}

/// `ecs-tasks.amazonaws.com`, `logs.eu-west-1.amazonaws.com`...: not an ARN, ends with the AWS service domain.
pub fn is_service_principal(principal: &str) -> bool {
    !principal.starts_with("arn:") && principal.ends_with("amazonaws.com")
}

/// The non-empty account field of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    parts.nth(3).filter(|a| !a.is_empty())
}

/// The context keys an action can carry for its resource: global keys, the action's keys and the keys of the
/// resource type the ARN fits.
struct AllowedKeys {
    known_action: bool,
    s3_bucket_or_object: bool,
    keys: Vec<String>,
}

impl AllowedKeys {
    fn for_request(action: &str, resource: &str) -> AllowedKeys {
        let s3_bucket_or_object = is_s3_bucket_or_object(resource);
        let Some(info) = iamdata::action(action) else {
            return AllowedKeys { known_action: false, s3_bucket_or_object, keys: Vec::new() };
        };
        let mut keys: Vec<String> = info.condition_keys.iter().map(|k| k.to_ascii_lowercase()).collect();
        let fitting =
            info.resource_types.iter().find(|r| r.arn_formats.iter().any(|f| iamdata::arn_fits_format(f, resource)));
        if let Some(rtype) = fitting {
            keys.extend(rtype.condition_keys.iter().chain(&rtype.type_condition_keys).map(|k| k.to_ascii_lowercase()));
        }
        AllowedKeys { known_action: true, s3_bucket_or_object, keys }
    }

    fn permits(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        // S3 only sends resource tag keys for buckets with attribute-based access control enabled, which a request
        // does not tell us; like AWS's default, bucket and object requests carry none.
        if self.s3_bucket_or_object && (lower.starts_with("aws:resourcetag/") || lower.starts_with("s3:buckettag/")) {
            return false;
        }
        if iamdata::is_global_condition_key(key) {
            return true;
        }
        // An action missing from the snapshot keeps whatever the caller gave: better than silently dropping.
        if !self.known_action {
            return true;
        }
        self.keys.iter().any(|k| {
            *k == lower
                || iamdata::template_matches(k, &lower, 1, true)
                || lower.split_once('/').is_some_and(|(prefix, _)| k.starts_with(&format!("{prefix}/")))
        })
    }
}

fn is_s3_bucket_or_object(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "s3", "", "", rest] if !rest.is_empty())
}
