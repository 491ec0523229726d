//! Offline IAM snapshot: the files behind `--iam`, `--scp`, `--resource-policy` and `--key-policy`.
//!
//! - `--iam FILE`: `aws iam get-account-authorization-details` output (`RoleDetailList`, `UserDetailList`,
//!   `GroupDetailList`, `Policies` with `PolicyVersionList`/`IsDefaultVersion`). Documents may be JSON objects (as
//!   the CLI prints them) or URL-encoded JSON strings (as the API returns them).
//! - `--scp [LEVEL=]FILE`: `aws organizations describe-policy` output (`Policy.Content`, its `Type` says SCP or
//!   RCP) or a plain policy document (an RCP if its statements carry `Principal`, which SCPs cannot). `LEVEL` is
//!   where the policy is attached: the root (`r-...`), an OU (`ou-...`) or the account id; give levels root
//!   first. Files without a level share one level.
//! - `--key-policy ARN=FILE`: `aws kms get-key-policy` output (`Policy` is a JSON string) or a plain document.
//! - `--resource-policy ARN=FILE`: ECR `get-repository-policy` (`policyText`), Secrets Manager
//!   `get-resource-policy` (`ResourcePolicy`, whose `ARN` may stand in for `ARN=`), S3 `get-bucket-policy`
//!   (`Policy`) output, or a plain document.
//!
//! A bad file or a bad entry becomes an `InputError` naming the file and the JSON path; the rest is still read.

use crate::model::InputError;
use crate::model::iam::{
    GroupFacts, IamSnapshot, ManagedPolicy, NamedDocument, OrgPolicy, OrgPolicyKind, PrincipalFacts, PrincipalKind,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Level shared by `--scp FILE` given without `LEVEL=`.
pub const UNSPECIFIED_LEVEL: &str = "(unspecified level)";

/// The policy inputs of one run, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct PolicyInputs {
    pub iam: Option<String>,
    pub scps: Vec<String>,
    pub resource_policies: Vec<String>,
    pub key_policies: Vec<String>,
}

impl PolicyInputs {
    pub fn is_empty(&self) -> bool {
        self.iam.is_none() && self.scps.is_empty() && self.resource_policies.is_empty() && self.key_policies.is_empty()
    }
}

/// Reads every policy input; what cannot be read is reported and skipped.
pub fn load(inputs: &PolicyInputs) -> (IamSnapshot, Vec<InputError>) {
    let mut snapshot = IamSnapshot::default();
    let mut errors = Vec::new();
    if let Some(path) = &inputs.iam {
        match read_json(path) {
            Ok(value) => {
                let (part, errs) = authorization_details(&value, path);
                snapshot.merge(part);
                errors.extend(errs);
            }
            Err(e) => errors.push(e),
        }
    }
    for spec in &inputs.scps {
        match org_policy(spec) {
            Ok(p) => {
                snapshot.org_policies.push(p);
                snapshot.sources.push(spec.clone());
            }
            Err(e) => errors.push(e),
        }
    }
    type Reader = fn(&str) -> Result<(String, NamedDocument), InputError>;
    let by_arn: [(&[String], Reader, bool); 2] =
        [(&inputs.key_policies, key_policy, true), (&inputs.resource_policies, resource_policy, false)];
    for (specs, read, is_key) in by_arn {
        for spec in specs {
            match read(spec) {
                Ok((arn, doc)) => {
                    let map = if is_key { &mut snapshot.key_policies } else { &mut snapshot.resource_policies };
                    map.insert(arn, doc);
                    snapshot.sources.push(spec.clone());
                }
                Err(e) => errors.push(e),
            }
        }
    }
    (snapshot, errors)
}

fn input_error(input: &str, message: impl Into<String>) -> InputError {
    InputError { input: input.to_string(), message: message.into(), offset: None, line: None }
}

fn read_json(path: &str) -> Result<Value, InputError> {
    let text = std::fs::read_to_string(Path::new(path))
        .map_err(|e| input_error(path, format!("cannot read `{path}`: {e}")))?;
    serde_json::from_str(&text).map_err(|e| InputError {
        input: path.to_string(),
        message: format!("`{path}` is not JSON: {e}"),
        offset: None,
        line: Some(e.line() as u64),
    })
}

/// `%7B%22Version%22...` → `{"Version"...`. `+` stays as is: IAM encodes spaces as `%20`.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A policy document as a JSON object: given as an object, as JSON text, or as URL-encoded JSON text.
pub fn decode_document(value: &Value) -> Result<Value, String> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::String(text) => {
            let trimmed = text.trim_start();
            let decoded = if trimmed.starts_with('{') {
                text.clone()
            } else {
                percent_decode(text).ok_or("not JSON and not URL-encoded JSON")?
            };
            let doc: Value = serde_json::from_str(&decoded)
                .map_err(|e| format!("not a JSON policy document: {e} (line {}, column {})", e.line(), e.column()))?;
            if doc.is_object() { Ok(doc) } else { Err("a policy document must be a JSON object".into()) }
        }
        _ => Err("expected a policy document (object or string)".into()),
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    obj.get(name).and_then(Value::as_str)
}

fn array<'a>(obj: &'a Map<String, Value>, name: &str) -> &'a [Value] {
    obj.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// Collects the errors of one file, each with its JSON path.
struct Reader<'a> {
    file: &'a str,
    errors: Vec<InputError>,
}

impl Reader<'_> {
    fn error(&mut self, path: &str, message: impl std::fmt::Display) {
        self.errors.push(input_error(self.file, format!("`{}` at `{path}`: {message}", self.file)));
    }

    fn document(&mut self, value: Option<&Value>, path: &str) -> Option<Value> {
        let value = value?;
        match decode_document(value) {
            Ok(doc) => Some(doc),
            Err(e) => {
                self.error(path, e);
                None
            }
        }
    }

    fn inline_policies(&mut self, obj: &Map<String, Value>, list: &str, path: &str) -> Vec<NamedDocument> {
        let mut out = Vec::new();
        for (i, entry) in array(obj, list).iter().enumerate() {
            let here = format!("{path}.{list}[{i}]");
            let Some(name) = entry.get("PolicyName").and_then(Value::as_str) else {
                self.error(&here, "missing `PolicyName`");
                continue;
            };
            if let Some(document) = self.document(entry.get("PolicyDocument"), &format!("{here}.PolicyDocument")) {
                out.push(NamedDocument { name: name.to_string(), document });
            }
        }
        out
    }

    fn attached(&mut self, obj: &Map<String, Value>, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, entry) in array(obj, "AttachedManagedPolicies").iter().enumerate() {
            match entry.get("PolicyArn").and_then(Value::as_str) {
                Some(arn) => out.push(arn.to_string()),
                None => self.error(&format!("{path}.AttachedManagedPolicies[{i}]"), "missing `PolicyArn`"),
            }
        }
        out
    }

    fn principal(&mut self, entry: &Value, kind: PrincipalKind, path: &str) -> Option<PrincipalFacts> {
        let Some(obj) = entry.as_object() else {
            self.error(path, "expected an object");
            return None;
        };
        let (name_field, list) = match kind {
            PrincipalKind::Role => ("RoleName", "RolePolicyList"),
            PrincipalKind::User => ("UserName", "UserPolicyList"),
        };
        let (Some(arn), Some(name)) = (str_field(obj, "Arn"), str_field(obj, name_field)) else {
            self.error(path, format!("missing `Arn` or `{name_field}`"));
            return None;
        };
        let trust_policy = match kind {
            PrincipalKind::Role => {
                self.document(obj.get("AssumeRolePolicyDocument"), &format!("{path}.AssumeRolePolicyDocument"))
            }
            PrincipalKind::User => None,
        };
        let tags = array(obj, "Tags")
            .iter()
            .filter_map(|t| Some((t.get("Key")?.as_str()?.to_string(), t.get("Value")?.as_str()?.to_string())))
            .collect::<BTreeMap<_, _>>();
        Some(PrincipalFacts {
            kind,
            arn: arn.to_string(),
            name: name.to_string(),
            path: str_field(obj, "Path").unwrap_or("/").to_string(),
            trust_policy,
            inline_policies: self.inline_policies(obj, list, path),
            attached_policy_arns: self.attached(obj, path),
            permissions_boundary_arn: obj
                .get("PermissionsBoundary")
                .and_then(|b| b.get("PermissionsBoundaryArn"))
                .and_then(Value::as_str)
                .map(str::to_string),
            groups: array(obj, "GroupList").iter().filter_map(Value::as_str).map(str::to_string).collect(),
            tags,
        })
    }

    fn managed_policy(&mut self, entry: &Value, path: &str) -> Option<ManagedPolicy> {
        let obj = entry.as_object()?;
        let Some(arn) = str_field(obj, "Arn") else {
            self.error(path, "missing `Arn`");
            return None;
        };
        let default_version_id = str_field(obj, "DefaultVersionId");
        let versions = array(obj, "PolicyVersionList");
        let chosen = versions
            .iter()
            .position(|v| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))
            .or_else(|| versions.iter().position(|v| v.get("VersionId").and_then(Value::as_str) == default_version_id));
        let Some(index) = chosen else {
            self.error(path, format!("managed policy `{arn}` has no default version in `PolicyVersionList`"));
            return None;
        };
        let version = &versions[index];
        let document =
            self.document(version.get("Document"), &format!("{path}.PolicyVersionList[{index}].Document"))?;
        Some(ManagedPolicy {
            arn: arn.to_string(),
            name: str_field(obj, "PolicyName").unwrap_or(arn).to_string(),
            default_version_id: version.get("VersionId").and_then(Value::as_str).map(str::to_string),
            document,
        })
    }
}

/// `aws iam get-account-authorization-details` output → snapshot (bad entries reported with their JSON path).
pub fn authorization_details(value: &Value, file: &str) -> (IamSnapshot, Vec<InputError>) {
    let mut reader = Reader { file, errors: Vec::new() };
    let mut snapshot = IamSnapshot { sources: vec![file.to_string()], ..IamSnapshot::default() };
    let Some(obj) = value.as_object() else {
        reader.error("$", "expected `aws iam get-account-authorization-details` output (a JSON object)");
        return (snapshot, reader.errors);
    };
    if !["RoleDetailList", "UserDetailList", "GroupDetailList", "Policies"].iter().any(|k| obj.contains_key(*k)) {
        reader.error("$", "none of `RoleDetailList`, `UserDetailList`, `GroupDetailList`, `Policies`: not `get-account-authorization-details` output");
    }
    for (list, kind) in [("RoleDetailList", PrincipalKind::Role), ("UserDetailList", PrincipalKind::User)] {
        for (i, entry) in array(obj, list).iter().enumerate() {
            if let Some(p) = reader.principal(entry, kind, &format!("$.{list}[{i}]")) {
                snapshot.principals.push(p);
            }
        }
    }
    for (i, entry) in array(obj, "GroupDetailList").iter().enumerate() {
        let path = format!("$.GroupDetailList[{i}]");
        let Some(g) = entry.as_object() else { continue };
        let (Some(arn), Some(name)) = (str_field(g, "Arn"), str_field(g, "GroupName")) else {
            reader.error(&path, "missing `Arn` or `GroupName`");
            continue;
        };
        let group = GroupFacts {
            arn: arn.to_string(),
            name: name.to_string(),
            inline_policies: reader.inline_policies(g, "GroupPolicyList", &path),
            attached_policy_arns: reader.attached(g, &path),
        };
        snapshot.groups.push(group);
    }
    for (i, entry) in array(obj, "Policies").iter().enumerate() {
        if let Some(p) = reader.managed_policy(entry, &format!("$.Policies[{i}]")) {
            snapshot.managed_policies.insert(p.arn.clone(), p);
        }
    }
    (snapshot, reader.errors)
}

/// `ARN=FILE` → (ARN, FILE). The ARN part must look like an ARN; a bare file is allowed when `arn_optional`.
fn split_arn_spec(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once('=') {
        Some((arn, file)) if arn.starts_with("arn:") => (Some(arn), file),
        _ => (None, spec),
    }
}

/// A wrapped policy (`Policy`, `policyText`, `ResourcePolicy`, `Policy.Content`) or a plain document.
fn unwrap_policy(value: &Value, file: &str) -> Result<Value, InputError> {
    let bad = |path: &str, e: String| input_error(file, format!("`{file}` at `{path}`: {e}"));
    let obj = value.as_object().ok_or_else(|| bad("$", "expected a JSON object".into()))?;
    if obj.contains_key("Statement") {
        return Ok(value.clone());
    }
    for key in ["Policy", "policyText", "ResourcePolicy"] {
        if let Some(inner) = obj.get(key) {
            // `describe-policy`: {"Policy": {"PolicySummary": ..., "Content": "..."}}
            if let Some(content) = inner.get("Content") {
                return decode_document(content).map_err(|e| bad("$.Policy.Content", e));
            }
            return decode_document(inner).map_err(|e| bad(&format!("$.{key}"), e));
        }
    }
    Err(bad(
        "$",
        "no policy found: expected `Statement`, `Policy`, `policyText`, `ResourcePolicy` or `Policy.Content`".into(),
    ))
}

/// `--key-policy ARN=FILE`.
pub fn key_policy(spec: &str) -> Result<(String, NamedDocument), InputError> {
    let (arn, file) = split_arn_spec(spec);
    let Some(arn) = arn else {
        return Err(input_error(spec, format!("`--key-policy {spec}`: expected `KEY-ARN=FILE`")));
    };
    let document = unwrap_policy(&read_json(file)?, file)?;
    Ok((arn.to_string(), NamedDocument { name: format!("key policy of `{arn}`"), document }))
}

/// `--resource-policy ARN=FILE` (the ARN may come from the file's `ARN` field instead).
pub fn resource_policy(spec: &str) -> Result<(String, NamedDocument), InputError> {
    let (arn, file) = split_arn_spec(spec);
    let value = read_json(file)?;
    let arn = arn.map(str::to_string).or_else(|| value.get("ARN").and_then(Value::as_str).map(str::to_string));
    let Some(arn) = arn else {
        return Err(input_error(spec, format!("`--resource-policy {spec}`: expected `RESOURCE-ARN=FILE`")));
    };
    let document = unwrap_policy(&value, file)?;
    Ok((arn.clone(), NamedDocument { name: format!("resource policy of `{arn}`"), document }))
}

/// Is `level` an organization level id: root, OU or account?
fn is_level(level: &str) -> bool {
    level.starts_with("r-")
        || level.starts_with("ou-")
        || (level.len() == 12 && level.bytes().all(|b| b.is_ascii_digit()))
}

/// `--scp [LEVEL=]FILE`.
pub fn org_policy(spec: &str) -> Result<OrgPolicy, InputError> {
    let (level, file) = match spec.split_once('=') {
        Some((level, file)) if is_level(level) => (level.to_string(), file),
        _ => (UNSPECIFIED_LEVEL.to_string(), spec),
    };
    let value = read_json(file)?;
    let document = unwrap_policy(&value, file)?;
    let summary = value.get("Policy").and_then(|p| p.get("PolicySummary"));
    let declared = summary.and_then(|s| s.get("Type")).and_then(Value::as_str);
    let kind = match declared {
        Some("RESOURCE_CONTROL_POLICY") => OrgPolicyKind::Rcp,
        Some(_) => OrgPolicyKind::Scp,
        // RCPs must name a `Principal`; SCPs cannot.
        None if statements(&document).iter().any(|s| s.get("Principal").is_some()) => OrgPolicyKind::Rcp,
        None => OrgPolicyKind::Scp,
    };
    let field = |name: &str| summary.and_then(|s| s.get(name)).and_then(Value::as_str).map(str::to_string);
    Ok(OrgPolicy {
        kind,
        id: field("Arn").or_else(|| field("Id")).unwrap_or(file.to_string()),
        name: field("Name"),
        level,
        document,
    })
}

/// The statements of a document (a single statement object counts as one).
pub fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_encoded_and_object_documents_both_decode() {
        let encoded = json!("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D");
        assert_eq!(decode_document(&encoded).unwrap()["Version"], "2012-10-17");
        assert!(decode_document(&json!({"Statement": []})).is_ok());
        assert!(decode_document(&json!("%ZZ")).is_err());
    }

    #[test]
    fn bad_role_entry_is_reported_with_path_and_rest_is_read() {
        let details = json!({
            "RoleDetailList": [
                {"RoleName": "broken"},
                {"RoleName": "ok", "Arn": "arn:aws:iam::111122223333:role/ok", "Path": "/",
                 "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": "%7Bbad"}],
                 "AttachedManagedPolicies": [{"PolicyName": "m", "PolicyArn": "arn:aws:iam::aws:policy/M"}]}
            ],
            "Policies": []
        });
        let (snap, errors) = authorization_details(&details, "auth.json");
        assert_eq!(snap.principals.len(), 1);
        assert_eq!(snap.principals[0].attached_policy_arns, vec!["arn:aws:iam::aws:policy/M"]);
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.contains("`$.RoleDetailList[0]`"), "{}", errors[0].message);
        assert!(errors[1].message.contains("$.RoleDetailList[1].RolePolicyList[0].PolicyDocument"));
    }

    #[test]
    fn org_policy_kind_from_describe_policy_type_or_principal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, value: Value| {
            let path = dir.path().join(name);
            std::fs::write(&path, value.to_string()).expect("write");
            path.display().to_string()
        };
        let rcp = write(
            "rcp.json",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]}),
        );
        let described = write(
            "scp.json",
            json!({"Policy": {"PolicySummary": {"Id": "p-1", "Arn": "arn:aws:organizations::1:policy/o-a/service_control_policy/p-1",
                "Type": "SERVICE_CONTROL_POLICY"}, "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}),
        );
        let p = org_policy(&format!("ou-ab12-11111111={rcp}")).expect("rcp");
        assert_eq!((p.kind, p.level.as_str()), (OrgPolicyKind::Rcp, "ou-ab12-11111111"));
        let p = org_policy(&described).expect("scp");
        assert_eq!((p.kind, p.level.as_str()), (OrgPolicyKind::Scp, UNSPECIFIED_LEVEL));
        assert!(p.id.ends_with("/p-1"));
        let missing = org_policy("r-ab12=/nonexistent/scp.json").expect_err("missing file");
        assert!(missing.message.contains("cannot read `/nonexistent/scp.json`"), "{}", missing.message);
    }

    #[test]
    fn level_prefix_only_when_it_looks_like_a_level() {
        assert!(is_level("ou-ab12-34cd56ef"));
        assert!(is_level("r-ab12"));
        assert!(is_level("111122223333"));
        assert!(!is_level("./dir/with"));
    }
}
