//! One change, four renderings: the policy JSON, AWS CLI commands, Terraform and CloudFormation (YAML).

use serde_json::Value;
use std::fmt::Write as _;

/// A JSON value as an HCL expression (what `jsonencode(...)` takes), indented by `indent` spaces.
pub fn to_hcl(value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let inner = " ".repeat(indent + 2);
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => hcl_string(s),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            format!("[{}]", items.iter().map(|v| to_hcl(v, indent)).collect::<Vec<_>>().join(", "))
        }
        Value::Array(items) => {
            let mut out = "[\n".to_string();
            for item in items {
                let _ = writeln!(out, "{inner}{},", to_hcl(item, indent + 2));
            }
            out.push_str(&pad);
            out.push(']');
            out
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let mut out = "{\n".to_string();
            for (k, v) in map {
                let key =
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.starts_with(char::is_numeric) {
                        k.clone()
                    } else {
                        hcl_string(k)
                    };
                let _ = writeln!(out, "{inner}{key} = {}", to_hcl(v, indent + 2));
            }
            out.push_str(&pad);
            out.push('}');
            out
        }
    }
}

/// An HCL string literal: JSON escaping, plus `${` and `%{` doubled so IAM variables stay literal.
fn hcl_string(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
    json.replace("${", "$${").replace("%{", "%%{")
}

/// A JSON value as YAML (block style; strings double-quoted, which YAML reads as JSON strings).
pub fn to_yaml(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    yaml_into(value, indent, &mut out);
    out
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\"")),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        other => other.to_string(),
    }
}

fn is_block(value: &Value) -> bool {
    matches!(value, Value::Array(a) if !a.is_empty()) || matches!(value, Value::Object(o) if !o.is_empty())
}

fn yaml_key(k: &str) -> String {
    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        yaml_scalar(&Value::String(k.to_string()))
    }
}

fn yaml_into(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                if is_block(v) {
                    let _ = writeln!(out, "{pad}{}:", yaml_key(k));
                    yaml_into(v, indent + 2, out);
                } else {
                    let _ = writeln!(out, "{pad}{}: {}", yaml_key(k), yaml_scalar(v));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The first line of the block goes after the dash.
                    let body = to_yaml(item, indent + 2);
                    let trimmed = body.trim_start_matches(' ');
                    let _ = write!(out, "{pad}- {trimmed}");
                } else {
                    let _ = writeln!(out, "{pad}- {}", yaml_scalar(item));
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", yaml_scalar(other));
        }
    }
}

/// The JSON of a document, single-quoted for a POSIX shell.
pub fn shell_json(value: &Value) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    format!("'{}'", json.replace('\'', r"'\''"))
}

/// A Terraform / CloudFormation identifier from free text (`allow-ssm:GetParameters` → `allow_ssm_getparameters`).
pub fn identifier(text: &str) -> String {
    let mut id: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    let id = id.trim_matches('_').to_string();
    if id.starts_with(|c: char| c.is_ascii_digit()) { format!("r_{id}") } else { id }
}

/// A CloudFormation logical id (alphanumeric, PascalCase).
pub fn logical_id(text: &str) -> String {
    identifier(text)
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hcl_quotes_condition_keys_and_escapes_interpolation() {
        let doc = json!({"Condition": {"StringEquals": {"aws:SourceAccount": "1"}}, "Resource": ["${aws:username}"]});
        let hcl = to_hcl(&doc, 0);
        assert!(hcl.contains("\"aws:SourceAccount\" = \"1\""), "{hcl}");
        assert!(hcl.contains("$${aws:username}"), "{hcl}");
    }

    #[test]
    fn yaml_nests_lists_of_maps() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": ["a:B", "a:C"]}]});
        let yaml = to_yaml(&doc, 0);
        assert_eq!(yaml, "Statement:\n  - Effect: \"Allow\"\n    Action:\n      - \"a:B\"\n      - \"a:C\"\n");
    }

    #[test]
    fn identifiers_are_safe() {
        assert_eq!(identifier("allow ssm:GetParameters"), "allow_ssm_getparameters");
        assert_eq!(logical_id("allow ssm:GetParameters"), "AllowSsmGetparameters");
        assert_eq!(shell_json(&json!({"a": "it's"})), r#"'{"a":"it'\''s"}'"#);
    }
}
