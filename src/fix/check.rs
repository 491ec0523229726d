//! Checks a fix's policy statements against the IAM data: every action exists, every resource ARN fits a
//! resource type of the action, and `*` is used only for actions that cannot be scoped to a resource.

use crate::iamdata;
use crate::model::{Fix, FixTarget};
use serde_json::Value;

/// The problems of a fix's statements; empty when every statement is well formed.
pub fn problems(fix: &Fix) -> Vec<String> {
    let Some(doc) = &fix.document else { return Vec::new() };
    let statements: Vec<&Value> = match &doc["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&doc["Statement"]],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for st in statements {
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let resources: Vec<&str> = match &st["Resource"] {
            Value::String(r) => vec![r.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for action in &actions {
            let Some(info) = iamdata::action(action) else {
                out.push(format!("`{action}` is not an IAM action"));
                continue;
            };
            // In a key policy `"Resource": "*"` means "this key"; repository policies have no Resource at all.
            if fix.target == FixTarget::KeyPolicy {
                continue;
            }
            for resource in &resources {
                if *resource == "*" {
                    if info.supports_resource_scoping() {
                        out.push(format!("`{action}` can be scoped to a resource but the statement uses `*`"));
                    }
                } else if !iamdata::resource_arn_fits(action, resource) {
                    out.push(format!("`{resource}` is not a resource type of `{action}`"));
                }
            }
        }
    }
    out
}
