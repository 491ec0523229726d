//! Policy documents → typed statements, with errors that name the JSON path of the bad element.
//!
//! Grammar: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>. Element names are
//! matched case-sensitively as AWS does (`Statement`, `Effect`...); single values and arrays are both accepted
//! wherever the grammar allows either.

use serde_json::Value;
use std::fmt;

/// A policy document that could not be read, with the JSON path of the offending element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// JSON path inside the document, e.g. `$.Statement[1].Condition.StringEquals`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for PolicyError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One entry of a `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Wildcard,
    /// `{"AWS": "123456789012"}` or `{"AWS": "arn:aws:iam::123456789012:root"}`: the account, which delegates to
    /// its IAM policies.
    Account(String),
    /// `{"AWS": "arn:..."}`: a user, role, assumed-role session or federated user.
    Arn(String),
    /// `{"Service": "ecs-tasks.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": "cognito-identity.amazonaws.com"}` or a SAML/OIDC provider ARN.
    Federated(String),
    /// `{"CanonicalUser": "..."}` (S3).
    CanonicalUser(String),
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: the patterns and whether the element is the `Not` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternList {
    pub negated: bool,
    pub patterns: Vec<String>,
}

/// `ForAnyValue:` / `ForAllValues:` prefixes of a condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

/// The base condition operators AWS defines
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "stringequals" => StringEquals,
            "stringnotequals" => StringNotEquals,
            "stringequalsignorecase" => StringEqualsIgnoreCase,
            "stringnotequalsignorecase" => StringNotEqualsIgnoreCase,
            "stringlike" => StringLike,
            "stringnotlike" => StringNotLike,
            "numericequals" => NumericEquals,
            "numericnotequals" => NumericNotEquals,
            "numericlessthan" => NumericLessThan,
            "numericlessthanequals" => NumericLessThanEquals,
            "numericgreaterthan" => NumericGreaterThan,
            "numericgreaterthanequals" => NumericGreaterThanEquals,
            "dateequals" => DateEquals,
            "datenotequals" => DateNotEquals,
            "datelessthan" => DateLessThan,
            "datelessthanequals" => DateLessThanEquals,
            "dategreaterthan" => DateGreaterThan,
            "dategreaterthanequals" => DateGreaterThanEquals,
            "bool" => Bool,
            "binaryequals" => BinaryEquals,
            "ipaddress" => IpAddress,
            "notipaddress" => NotIpAddress,
            "arnequals" => ArnEquals,
            "arnlike" => ArnLike,
            "arnnotequals" => ArnNotEquals,
            "arnnotlike" => ArnNotLike,
            "null" => Null,
            _ => return None,
        })
    }

    /// Negated operators match when the key is absent (the docs' "negated matching" rule) and require every
    /// policy value to differ.
    pub fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// One `operator: { key: values }` test of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator as written (`ForAnyValue:StringLikeIfExists`).
    pub operator_text: String,
    pub operator: Operator,
    pub set: Option<SetOperator>,
    pub if_exists: bool,
    /// The context key as written in the policy.
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Zero-based position in the policy's `Statement` list.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalSpec>,
    pub action: PatternList,
    /// `None` when the statement has neither `Resource` nor `NotResource` (trust and key policies may omit it).
    pub resource: Option<PatternList>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// `Sid` when present, else the index, as the explanation shows it.
    pub fn label(&self) -> String {
        self.sid.clone().unwrap_or_else(|| format!("#{}", self.index))
    }
}

/// A parsed policy document with the identifier the caller gave it (policy ARN, name or `identity[0]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: String,
    pub statements: Vec<Statement>,
}

/// Where a policy is used; decides which elements it must or must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity, session and permissions-boundary policies, SCPs: no `Principal`.
    Identity,
    /// Resource, trust, key and VPC endpoint policies: `Principal` or `NotPrincipal` required.
    Resource,
    /// Resource control policies (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html>):
    /// `Version` 2012-10-17, only `Deny` statements (the Allow of `RCPFullAWSAccess` is implied), `Principal`
    /// exactly `"*"`, `Action` but no `NotAction`, and not the bare `"*"` action.
    ResourceControl,
}

impl Policy {
    /// Parses a policy document given as JSON text.
    pub fn parse_str(id: &str, text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PolicyError {
            path: "$".into(),
            message: format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
        })?;
        Policy::parse(id, &value, kind)
    }

    /// Parses a policy document given as a JSON value.
    pub fn parse(id: &str, doc: &Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
        // Policies arrive as JSON text inside JSON too (e.g. the URL-decoded documents `get-role` returns).
        if let Value::String(text) = doc {
            return Policy::parse_str(id, text, kind);
        }
        let Value::Object(map) = doc else { return Err(err("$", "a policy document must be a JSON object")) };
        if let Some(version) = map.get("Version")
            && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
        {
            return Err(err("$.Version", "`Version` must be \"2012-10-17\" or \"2008-10-17\""));
        }
        if kind == PolicyKind::ResourceControl && map.get("Version").and_then(Value::as_str) != Some("2012-10-17") {
            return Err(err("$.Version", "a resource control policy needs `\"Version\": \"2012-10-17\"`"));
        }
        let statements = match map.get("Statement") {
            None => return Err(err("$", "missing `Statement`")),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| parse_statement(s, i, &format!("$.Statement[{i}]"), kind))
                .collect::<Result<Vec<_>, _>>()?,
            Some(single @ Value::Object(_)) => vec![parse_statement(single, 0, "$.Statement", kind)?],
            Some(_) => return Err(err("$.Statement", "`Statement` must be an object or an array of objects")),
        };
        Ok(Policy { id: id.to_string(), statements })
    }
}

fn err(path: &str, message: impl Into<String>) -> PolicyError {
    PolicyError { path: path.to_string(), message: message.into() }
}

/// A string or an array of strings (the grammar's `<value_list>`); numbers and booleans are read as their text
/// because AWS accepts `"Bool": {"aws:SecureTransport": false}`.
fn string_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value, p: &str| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(err(p, "expected a string")),
    };
    match value {
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| one(v, &format!("{path}[{i}]"))).collect(),
        other => Ok(vec![one(other, path)?]),
    }
}

fn parse_statement(value: &Value, index: usize, path: &str, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else { return Err(err(path, "a statement must be a JSON object")) };
    const KNOWN: &[&str] =
        &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(err(&format!("{path}.{unknown}"), format!("unknown statement element `{unknown}`")));
    }
    let sid = match map.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(err(&format!("{path}.Sid"), "`Sid` must be a string")),
    };
    let effect = match map.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(err(&format!("{path}.Effect"), format!("`Effect` must be Allow or Deny, not `{other}`")));
        }
        None => return Err(err(path, "missing `Effect`")),
    };
    let principal = parse_principal(map, path)?;
    match (kind, &principal) {
        (PolicyKind::Identity, Some(p)) => {
            let element = if p.negated { "NotPrincipal" } else { "Principal" };
            return Err(err(&format!("{path}.{element}"), format!("`{element}` is not allowed in this policy type")));
        }
        (PolicyKind::Resource | PolicyKind::ResourceControl, None) => {
            return Err(err(path, "missing `Principal` or `NotPrincipal`"));
        }
        _ => {}
    }
    if kind == PolicyKind::ResourceControl {
        check_rcp_statement(map, path, effect)?;
    }
    let action =
        pattern_pair(map, path, "Action", "NotAction")?.ok_or_else(|| err(path, "missing `Action` or `NotAction`"))?;
    for (i, pattern) in action.patterns.iter().enumerate() {
        if pattern != "*" && !pattern.split_once(':').is_some_and(|(svc, act)| !svc.is_empty() && !act.is_empty()) {
            let element = if action.negated { "NotAction" } else { "Action" };
            return Err(err(&format!("{path}.{element}[{i}]"), format!("`{pattern}` is not `service:action` or `*`")));
        }
    }
    let resource = pattern_pair(map, path, "Resource", "NotResource")?;
    if resource.is_none() && kind == PolicyKind::Identity {
        return Err(err(path, "missing `Resource` or `NotResource`"));
    }
    let conditions = match map.get("Condition") {
        None => Vec::new(),
        Some(block) => parse_conditions(block, &format!("{path}.Condition"))?,
    };
    Ok(Statement { index, sid, effect, principal, action, resource, conditions })
}

fn check_rcp_statement(map: &serde_json::Map<String, Value>, path: &str, effect: Effect) -> Result<(), PolicyError> {
    if effect != Effect::Deny {
        return Err(err(&format!("{path}.Effect"), "a resource control policy statement must be a `Deny`"));
    }
    if map.get("Principal").and_then(Value::as_str) != Some("*") {
        return Err(err(&format!("{path}.Principal"), "a resource control policy needs `\"Principal\": \"*\"`"));
    }
    if map.contains_key("NotAction") {
        return Err(err(&format!("{path}.NotAction"), "`NotAction` is not supported in resource control policies"));
    }
    if let Some(action) = map.get("Action")
        && string_list(action, &format!("{path}.Action"))?.iter().any(|a| a == "*")
    {
        return Err(err(
            &format!("{path}.Action"),
            "`\"*\"` alone is not supported as an action in resource control policies",
        ));
    }
    Ok(())
}

fn pattern_pair(
    map: &serde_json::Map<String, Value>,
    path: &str,
    positive: &str,
    negative: &str,
) -> Result<Option<PatternList>, PolicyError> {
    match (map.get(positive), map.get(negative)) {
        (Some(_), Some(_)) => Err(err(path, format!("`{positive}` and `{negative}` cannot both be present"))),
        (Some(v), None) => {
            Ok(Some(PatternList { negated: false, patterns: nonempty_list(v, &format!("{path}.{positive}"))? }))
        }
        (None, Some(v)) => {
            Ok(Some(PatternList { negated: true, patterns: nonempty_list(v, &format!("{path}.{negative}"))? }))
        }
        (None, None) => Ok(None),
    }
}

fn nonempty_list(value: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let list = string_list(value, path)?;
    if list.is_empty() {
        return Err(err(path, "must not be empty"));
    }
    Ok(list)
}

fn parse_principal(map: &serde_json::Map<String, Value>, path: &str) -> Result<Option<PrincipalSpec>, PolicyError> {
    let (negated, value, name) = match (map.get("Principal"), map.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(err(path, "`Principal` and `NotPrincipal` cannot both be present")),
        (Some(v), None) => (false, v, "Principal"),
        (None, Some(v)) => (true, v, "NotPrincipal"),
        (None, None) => return Ok(None),
    };
    let path = format!("{path}.{name}");
    let entries = match value {
        Value::String(s) if s == "*" => vec![PrincipalEntry::Wildcard],
        Value::Object(kinds) => {
            let mut entries = Vec::new();
            for (kind, values) in kinds {
                let kind_path = format!("{path}.{kind}");
                for value in nonempty_list(values, &kind_path)? {
                    entries.push(match kind.as_str() {
                        "AWS" if value == "*" => PrincipalEntry::Wildcard,
                        "AWS" => aws_principal(&value),
                        "Service" => PrincipalEntry::Service(value),
                        "Federated" => PrincipalEntry::Federated(value),
                        "CanonicalUser" => PrincipalEntry::CanonicalUser(value),
                        other => return Err(err(&kind_path, format!("unknown principal type `{other}`"))),
                    });
                }
            }
            if entries.is_empty() {
                return Err(err(&path, "must name at least one principal"));
            }
            entries
        }
        _ => return Err(err(&path, "must be \"*\" or an object such as {\"AWS\": ...}")),
    };
    Ok(Some(PrincipalSpec { negated, entries }))
}

/// `123456789012` and `arn:aws:iam::123456789012:root` both mean the account.
fn aws_principal(value: &str) -> PrincipalEntry {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return PrincipalEntry::Account(value.to_string());
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if let [_arn, _partition, "iam", "", account, "root"] = parts.as_slice() {
        return PrincipalEntry::Account((*account).to_string());
    }
    PrincipalEntry::Arn(value.to_string())
}

fn parse_conditions(block: &Value, path: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = block else { return Err(err(path, "`Condition` must be an object")) };
    let mut out = Vec::new();
    for (operator_text, keys) in operators {
        let op_path = format!("{path}.{operator_text}");
        let (set, rest) = match operator_text.split_once(':') {
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAnyValue") => {
                (Some(SetOperator::ForAnyValue), rest)
            }
            Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAllValues") => {
                (Some(SetOperator::ForAllValues), rest)
            }
            Some((prefix, _)) => return Err(err(&op_path, format!("unknown set operator `{prefix}`"))),
            None => (None, operator_text.as_str()),
        };
        let (base, if_exists) = match rest.len().checked_sub("IfExists".len()) {
            Some(cut) if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") => {
                (&rest[..cut], true)
            }
            _ => (rest, false),
        };
        let operator = Operator::parse(base)
            .ok_or_else(|| err(&op_path, format!("unknown condition operator `{operator_text}`")))?;
        if operator == Operator::Null && (if_exists || set.is_some()) {
            return Err(err(&op_path, "`Null` cannot take `IfExists` or a set operator"));
        }
        let Value::Object(keys) = keys else {
            return Err(err(&op_path, "a condition operator must map context keys to values"));
        };
        for (key, values) in keys {
            let values = nonempty_list(values, &format!("{op_path}.{key}"))?;
            out.push(Condition {
                operator_text: operator_text.clone(),
                operator,
                set,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}
