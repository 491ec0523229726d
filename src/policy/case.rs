//! The batch case format of `why-task-failed simulate --cases FILE.jsonl`, one JSON object per line:
//!
//! ```json
//! {"id": "c1", "identityPolicies": [doc...], "resourcePolicy": doc|null, "permissionBoundaries": [doc...]|null,
//!  "scps": [doc...]|null,
//!  "request": {"principal": "...", "action": "svc:Action", "resource": "arn|*", "resourceAccount": "...",
//!              "context": {"aws:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"]}}}
//! ```
//!
//! Optional extra layers: `"rcps"`, `"sessionPolicy"`, `"vpcEndpointPolicies"`, `"trustPolicy"`, `"kmsKeyPolicy"`.
//! A policy is a document, or `{"name": "...", "policy": doc}` to give it an id. Each `scps` / `rcps` entry is
//! one level of the organization (root first): a document, or `{"id": "ou-...", "policies": [doc...]}`.

use super::evaluate::{Evaluation, OrgLevel, PolicySet};
use super::parse::{Policy, PolicyKind};
use super::request::{RawValue, Request};
use serde_json::{Map, Value};
use std::fmt;

/// A case that cannot be evaluated: which one, where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    pub id: Option<String>,
    /// JSON path inside the case line, e.g. `$.identityPolicies[0].Statement[1].Effect`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "case `{id}` at `{}`: {}", self.path, self.message),
            None => write!(f, "at `{}`: {}", self.path, self.message),
        }
    }
}

/// A parsed case, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub policies: PolicySet,
    pub request: Request,
}

/// What one case line produced.
#[derive(Debug, Clone)]
pub enum CaseOutcome {
    Evaluated { id: String, evaluation: Box<Evaluation> },
    Failed(CaseError),
}

impl CaseOutcome {
    /// The output line: `{"id", "decision", "explain"}` or `{"id", "error"}`.
    pub fn to_json(&self) -> Value {
        match self {
            CaseOutcome::Evaluated { id, evaluation } => serde_json::json!({
                "id": id,
                "decision": evaluation.decision.as_str(),
                "explain": evaluation,
            }),
            CaseOutcome::Failed(e) => serde_json::json!({
                "id": e.id,
                "error": {"path": e.path, "message": e.message},
            }),
        }
    }
}

/// Parses and evaluates one line.
pub fn run_line(line: &str, line_number: usize) -> CaseOutcome {
    match Case::parse_line(line, line_number) {
        Ok(case) => {
            let evaluation = super::evaluate(&case.policies, &case.request);
            CaseOutcome::Evaluated { id: case.id, evaluation: Box::new(evaluation) }
        }
        Err(e) => CaseOutcome::Failed(e),
    }
}

impl Case {
    /// Parses one JSONL line; cases without an `id` are named `line N`.
    pub fn parse_line(line: &str, line_number: usize) -> Result<Case, CaseError> {
        let value: Value = serde_json::from_str(line).map_err(|e| CaseError {
            id: Some(format!("line {line_number}")),
            path: "$".into(),
            message: format!("not JSON: {e}"),
        })?;
        Case::from_value(&value, &format!("line {line_number}"))
    }

    pub fn from_value(value: &Value, fallback_id: &str) -> Result<Case, CaseError> {
        let Value::Object(map) = value else {
            return Err(CaseError {
                id: Some(fallback_id.into()),
                path: "$".into(),
                message: "a case must be a JSON object".into(),
            });
        };
        let id = match map.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => fallback_id.to_string(),
        };
        let fail = |path: String, message: String| CaseError { id: Some(id.clone()), path, message };
        let policy_at = |v: &Value, path: &str, default_name: &str, kind: PolicyKind| -> Result<Policy, CaseError> {
            let (name, doc, doc_path) = match v {
                Value::Object(m) if m.contains_key("policy") => {
                    let name = m.get("name").or_else(|| m.get("arn")).and_then(Value::as_str).unwrap_or(default_name);
                    (name.to_string(), &m["policy"], format!("{path}.policy"))
                }
                other => (default_name.to_string(), other, path.to_string()),
            };
            Policy::parse(&name, doc, kind).map_err(|e| {
                let inner = e.path.strip_prefix('$').unwrap_or(&e.path);
                fail(format!("{doc_path}{inner}"), e.message)
            })
        };
        let list = |field: &str, kind: PolicyKind| -> Result<Option<Vec<Policy>>, CaseError> {
            match map.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| policy_at(v, &format!("$.{field}[{i}]"), &format!("{field}[{i}]"), kind))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(fail(format!("$.{field}"), "must be an array of policy documents or null".into())),
            }
        };
        let single = |field: &str, kind: PolicyKind| -> Result<Option<Policy>, CaseError> {
            match map.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => policy_at(v, &format!("$.{field}"), field, kind).map(Some),
            }
        };
        let levels = |field: &str, kind: PolicyKind| -> Result<Vec<OrgLevel>, CaseError> {
            let Some(value) = map.get(field).filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
            let Value::Array(items) = value else {
                return Err(fail(format!("$.{field}"), "must be an array of levels or null".into()));
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("$.{field}[{i}]");
                let level_id = format!("{field}[{i}]");
                match item {
                    Value::Object(m) if m.contains_key("policies") => {
                        let id =
                            m.get("id").or_else(|| m.get("orgIdentifier")).and_then(Value::as_str).unwrap_or(&level_id);
                        let Some(Value::Array(docs)) = m.get("policies") else {
                            return Err(fail(
                                format!("{path}.policies"),
                                "must be an array of policy documents".into(),
                            ));
                        };
                        let policies = docs
                            .iter()
                            .enumerate()
                            .map(|(j, d)| policy_at(d, &format!("{path}.policies[{j}]"), &format!("{id}[{j}]"), kind))
                            .collect::<Result<Vec<_>, _>>()?;
                        out.push(OrgLevel { id: id.to_string(), policies });
                    }
                    doc => out.push(OrgLevel {
                        id: level_id.clone(),
                        policies: vec![policy_at(doc, &path, &level_id, kind)?],
                    }),
                }
            }
            Ok(out)
        };

        let policies = PolicySet {
            identity_policies: list("identityPolicies", PolicyKind::Identity)?.unwrap_or_default(),
            permission_boundaries: list("permissionBoundaries", PolicyKind::Identity)?,
            scps: levels("scps", PolicyKind::Identity)?,
            rcps: levels("rcps", PolicyKind::ResourceControl)?,
            resource_policy: single("resourcePolicy", PolicyKind::Resource)?,
            session_policy: single("sessionPolicy", PolicyKind::Identity)?,
            vpc_endpoint_policies: list("vpcEndpointPolicies", PolicyKind::Resource)?.unwrap_or_default(),
            trust_policy: single("trustPolicy", PolicyKind::Resource)?,
            kms_key_policy: single("kmsKeyPolicy", PolicyKind::Resource)?,
        };

        let Some(Value::Object(req)) = map.get("request") else {
            return Err(fail("$.request".into(), "missing `request` object".into()));
        };
        let text = |field: &str, required: bool| -> Result<Option<String>, CaseError> {
            match req.get(field) {
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                None | Some(Value::Null) if !required => Ok(None),
                _ => Err(fail(format!("$.request.{field}"), format!("`{field}` must be a non-empty string"))),
            }
        };
        let principal = text("principal", true)?.unwrap_or_default();
        let action = text("action", true)?.unwrap_or_default();
        if !action.split_once(':').is_some_and(|(s, a)| !s.is_empty() && !a.is_empty()) {
            return Err(fail("$.request.action".into(), format!("`{action}` is not `service:Action`")));
        }
        let resource = text("resource", false)?.unwrap_or_else(|| "*".to_string());
        let resource_account = text("resourceAccount", false)?;
        let context = raw_context(req.get("context"), &fail)?;
        let request = Request::new(&principal, &action, &resource, resource_account.as_deref(), &context);
        Ok(Case { id, policies, request })
    }
}

fn raw_context(
    value: Option<&Value>,
    fail: &dyn Fn(String, String) -> CaseError,
) -> Result<Vec<(String, RawValue)>, CaseError> {
    let map: &Map<String, Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(fail("$.request.context".into(), "must be an object of key → value(s)".into())),
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut out = Vec::new();
    for (key, v) in map {
        let path = format!("$.request.context.{key}");
        let raw = match v {
            Value::Array(items) => RawValue::Many(
                items
                    .iter()
                    .map(|i| scalar(i).ok_or_else(|| fail(path.clone(), "values must be strings".into())))
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                RawValue::One(scalar(other).ok_or_else(|| fail(path.clone(), "must be a string or a list".into()))?)
            }
        };
        out.push((key.clone(), raw));
    }
    Ok(out)
}
