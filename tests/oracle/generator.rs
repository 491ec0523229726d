//! Seeded generator of `simulate --cases` lines for the differential test against `@cloud-copilot/iam-simulate`
//! and for the throughput bench. Same seed, same cases.
//!
//! It covers ECR, CloudWatch Logs, Secrets Manager, SSM, KMS (key policies), S3 (bucket policies), STS (trust
//! policies) and iam:PassRole, from same-account and cross-account callers (role sessions, users, federated
//! users, roles, service principals), with identity policies, resource policies (every `Principal` form and
//! `NotPrincipal`), permissions boundaries, SCP levels, RCPs, session and VPC endpoint policies; `Action` /
//! `NotAction` with case changes and `*` / `?`; `Resource` / `NotResource` with wildcards, case changes and policy
//! variables (with and without defaults); every condition operator with `IfExists`, `ForAnyValue:` /
//! `ForAllValues:`, several values, typed and missing keys, and keys the action does not carry.

use serde_json::{Value, json};

/// SplitMix64: tiny, seedable, good enough to spread cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const HOME: &str = "111122223333";
const OTHER: &str = "444455556666";
const REGION: &str = "us-east-1";

/// What the request targets.
struct Target {
    actions: &'static [&'static str],
    /// ARN template; `{acct}` is the resource account. `*` for actions without resource-level scoping.
    arn: &'static str,
    /// The kind of resource-side policy this resource has, if any.
    resource_policy: ResourcePolicyKind,
    /// Condition keys specific to the action (name, kind).
    keys: &'static [(&'static str, KeyKind)],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ResourcePolicyKind {
    None,
    Resource,
    Trust,
    KeyPolicy,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Str,
    Num,
    Date,
    Bool,
    Ip,
    Arn,
    StrArray,
}

const TARGETS: &[Target] = &[
    Target {
        actions: &["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"],
        arn: "arn:aws:ecr:us-east-1:{acct}:repository/team/app",
        resource_policy: ResourcePolicyKind::Resource,
        keys: &[("aws:ResourceTag/env", KeyKind::Str)],
    },
    Target { actions: &["ecr:GetAuthorizationToken"], arn: "*", resource_policy: ResourcePolicyKind::None, keys: &[] },
    Target {
        actions: &["logs:CreateLogStream", "logs:PutLogEvents"],
        arn: "arn:aws:logs:us-east-1:{acct}:log-group:/ecs/app:log-stream:ecs/app/4f1c",
        resource_policy: ResourcePolicyKind::None,
        keys: &[],
    },
    Target {
        actions: &["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        arn: "arn:aws:secretsmanager:us-east-1:{acct}:secret:prod/db-AbCdEf",
        resource_policy: ResourcePolicyKind::Resource,
        keys: &[("secretsmanager:VersionStage", KeyKind::Str), ("aws:ResourceTag/env", KeyKind::Str)],
    },
    Target {
        actions: &["ssm:GetParameters", "ssm:GetParameter"],
        arn: "arn:aws:ssm:us-east-1:{acct}:parameter/app/db-url",
        resource_policy: ResourcePolicyKind::None,
        keys: &[("aws:ResourceTag/env", KeyKind::Str)],
    },
    Target {
        actions: &["kms:Decrypt", "kms:GenerateDataKey"],
        arn: "arn:aws:kms:us-east-1:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        resource_policy: ResourcePolicyKind::KeyPolicy,
        keys: &[("kms:ViaService", KeyKind::Str), ("kms:CallerAccount", KeyKind::Str)],
    },
    Target {
        actions: &["s3:GetObject", "s3:PutObject"],
        arn: "arn:aws:s3:::app-bucket/home/alice/report.csv",
        resource_policy: ResourcePolicyKind::Resource,
        keys: &[("s3:ExistingObjectTag/env", KeyKind::Str)],
    },
    Target {
        actions: &["s3:ListBucket"],
        arn: "arn:aws:s3:::app-bucket",
        resource_policy: ResourcePolicyKind::Resource,
        keys: &[("s3:prefix", KeyKind::Str)],
    },
    Target {
        actions: &["sts:AssumeRole", "sts:TagSession"],
        arn: "arn:aws:iam::{acct}:role/deploy",
        resource_policy: ResourcePolicyKind::Trust,
        keys: &[("sts:ExternalId", KeyKind::Str)],
    },
    Target {
        actions: &["iam:PassRole"],
        arn: "arn:aws:iam::{acct}:role/service-role/app-task",
        resource_policy: ResourcePolicyKind::None,
        keys: &[("iam:PassedToService", KeyKind::Str)],
    },
];

/// Global keys used in conditions and contexts.
const GLOBAL_KEYS: &[(&str, KeyKind)] = &[
    ("aws:SourceIp", KeyKind::Ip),
    ("aws:SecureTransport", KeyKind::Bool),
    ("aws:CurrentTime", KeyKind::Date),
    ("aws:MultiFactorAuthAge", KeyKind::Num),
    ("aws:PrincipalTag/team", KeyKind::Str),
    ("aws:PrincipalOrgID", KeyKind::Str),
    ("aws:RequestedRegion", KeyKind::Str),
    ("aws:TagKeys", KeyKind::StrArray),
    ("aws:PrincipalArn", KeyKind::Arn),
    ("aws:SourceVpce", KeyKind::Str),
    ("aws:username", KeyKind::Str),
    ("aws:PrincipalOrgPaths", KeyKind::StrArray),
    ("aws:SourceArn", KeyKind::Arn),
    ("aws:CalledVia", KeyKind::StrArray),
    ("aws:ViaAWSService", KeyKind::Bool),
    ("aws:UserAgent", KeyKind::Str),
];

fn string_values(key: &str) -> &'static [&'static str] {
    match key.to_ascii_lowercase().as_str() {
        "aws:principaltag/team" => &["platform", "Platform", "data"],
        "aws:principalorgid" => &["o-abc123", "o-zzz999"],
        "aws:requestedregion" => &["us-east-1", "eu-west-1"],
        "aws:sourcevpce" => &["vpce-1a2b3c4d", "vpce-9f9f9f9f"],
        "aws:username" => &["alice", "bob"],
        "aws:useragent" => &["aws-sdk-go/1.44", "Boto3/1.34"],
        "aws:resourcetag/env" => &["prod", "dev"],
        "secretsmanager:versionstage" => &["AWSCURRENT", "AWSPREVIOUS"],
        "kms:viaservice" => &["secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"],
        "kms:calleraccount" => &[HOME, OTHER],
        "s3:existingobjecttag/env" => &["prod", "dev"],
        "s3:prefix" => &["home/alice/", "home/bob/"],
        "sts:externalid" => &["ext-42", "ext-43"],
        "iam:passedtoservice" => &["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"],
        "aws:tagkeys" => &["env", "team", "owner"],
        "aws:principalorgpaths" => &["o-abc123/r-ab12/ou-ab12-11111111/", "o-abc123/r-ab12/ou-ab12-22222222/"],
        "aws:calledvia" => &["cloudformation.amazonaws.com", "athena.amazonaws.com"],
        _ => &["value-a", "value-b"],
    }
}

/// Policy-side patterns for a string key: exact values, wildcards, variables.
fn string_patterns(key: &str) -> Vec<String> {
    let mut out: Vec<String> = string_values(key).iter().map(|s| (*s).to_string()).collect();
    if let Some(first) = out.first().cloned() {
        out.push(format!("{}*", &first[..first.len().min(3)]));
        out.push(first.replacen(|c: char| c.is_ascii_alphanumeric(), "?", 1));
    }
    out.push("${aws:username}".into());
    out.push("${aws:PrincipalTag/team, 'platform'}".into());
    out
}

fn key_values(rng: &mut Rng, key: &str, kind: KeyKind) -> Value {
    match kind {
        KeyKind::Str => json!(rng.pick(string_values(key))),
        KeyKind::StrArray => {
            let pool = string_values(key);
            let n = 1 + rng.below(pool.len());
            let mut vals: Vec<&str> = Vec::new();
            for _ in 0..n {
                let v = *rng.pick(pool);
                if !vals.contains(&v) {
                    vals.push(v);
                }
            }
            json!(vals)
        }
        KeyKind::Num => json!(rng.pick(&["100", "3600", "7200", "0"])),
        KeyKind::Date => json!(rng.pick(&["2026-06-01T12:00:00Z", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"])),
        KeyKind::Bool => json!(rng.pick(&["true", "false"])),
        KeyKind::Ip => json!(rng.pick(&["10.1.2.3", "172.16.0.1", "192.168.1.1", "2001:db8::1"])),
        KeyKind::Arn => json!(rng.pick(&[
            "arn:aws:iam::111122223333:role/app-task",
            "arn:aws:iam::444455556666:role/ci",
            "arn:aws:sns:us-east-1:111122223333:alerts",
        ])),
    }
}

fn operators(kind: KeyKind) -> &'static [&'static str] {
    match kind {
        KeyKind::Str | KeyKind::StrArray => &[
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
            "BinaryEquals",
        ],
        KeyKind::Num => &[
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ],
        KeyKind::Date => &[
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ],
        KeyKind::Bool => &["Bool"],
        KeyKind::Ip => &["IpAddress", "NotIpAddress"],
        KeyKind::Arn => &["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"],
    }
}

fn policy_values(rng: &mut Rng, key: &str, kind: KeyKind, op: &str) -> Vec<String> {
    let n = 1 + rng.below(3);
    let mut out = Vec::new();
    for _ in 0..n {
        let v = match kind {
            KeyKind::Str | KeyKind::StrArray if op == "BinaryEquals" => rng.pick(string_values(key)).to_string(),
            KeyKind::Str | KeyKind::StrArray => rng.pick(&string_patterns(key)).clone(),
            KeyKind::Num => rng.pick(&["100", "3600", "7200"]).to_string(),
            KeyKind::Date => rng.pick(&["2026-01-01T00:00:00Z", "2026-06-01T12:00:00Z", "2025-12-31"]).to_string(),
            KeyKind::Bool => rng.pick(&["true", "false", "${aws:SecureTransport}"]).to_string(),
            KeyKind::Ip => {
                rng.pick(&["10.0.0.0/8", "192.168.1.1/32", "172.16.0.0/12", "2001:db8::/32", "192.168.1.1"]).to_string()
            }
            KeyKind::Arn => rng
                .pick(&[
                    "arn:aws:iam::111122223333:role/app-*",
                    "arn:aws:iam::*:role/ci",
                    "arn:aws:iam::111122223333:role/app-task",
                    "arn:aws:sns:*:111122223333:*",
                    "arn:aws:iam::${aws:PrincipalAccount}:role/*",
                ])
                .to_string(),
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn condition_block(rng: &mut Rng, keys: &[(&'static str, KeyKind)]) -> Value {
    let mut block = serde_json::Map::new();
    for _ in 0..1 + rng.below(2) {
        let (key, kind) = *rng.pick(keys);
        let key_text = if rng.chance(15) { key.to_ascii_lowercase() } else { key.to_string() };
        let (op, values): (String, Vec<String>) = if rng.chance(8) {
            ("Null".into(), vec![rng.pick(&["true", "false"]).to_string()])
        } else {
            let base = *rng.pick(operators(kind));
            let mut op = base.to_string();
            let set = if kind == KeyKind::StrArray { 85 } else { 10 };
            if rng.chance(set) {
                op = format!("{}:{op}", rng.pick(&["ForAnyValue", "ForAllValues"]));
            } else if rng.chance(20) {
                op.push_str("IfExists");
            }
            (op, policy_values(rng, key, kind, base))
        };
        let entry = block.entry(op).or_insert_with(|| json!({}));
        let value = if values.len() == 1 && rng.chance(50) { json!(values[0]) } else { json!(values) };
        entry[key_text] = value;
    }
    Value::Object(block)
}

fn action_pattern(rng: &mut Rng, action: &str, target: &Target) -> String {
    let (svc, name) = action.split_once(':').unwrap_or((action, ""));
    match rng.below(11) {
        0..=2 => action.to_string(),
        3 => action.to_ascii_lowercase(),
        4 => format!("{svc}:*"),
        5 => format!("{svc}:{}*", &name[..name.len().min(3)]),
        6 => format!("{svc}:{}", name.replacen(|c: char| c.is_ascii_lowercase(), "?", 1)),
        7 => "*".into(),
        8 => rng.pick(target.actions).to_string(),
        9 => rng.pick(&["s3:GetObject", "ecr:BatchGetImage", "kms:Decrypt", "logs:PutLogEvents"]).to_string(),
        _ => format!("{}:{name}", svc.to_ascii_uppercase()),
    }
}

fn resource_pattern(rng: &mut Rng, arn: &str) -> String {
    if arn == "*" {
        return if rng.chance(85) { "*".into() } else { "arn:aws:ecr:us-east-1:111122223333:repository/*".into() };
    }
    let (head, tail) = match arn.rfind('/') {
        Some(i) => (&arn[..=i], &arn[i + 1..]),
        None => (arn, ""),
    };
    match rng.below(14) {
        0..=2 => arn.to_string(),
        3 => "*".into(),
        4 => format!("{head}*"),
        5 if !tail.is_empty() => format!("{head}{}", tail.replacen(|c: char| c.is_ascii_alphanumeric(), "?", 1)),
        6 => arn.replace(HOME, "*").replace(OTHER, "*").replace(REGION, "*"),
        7 => arn.replace(REGION, "US-EAST-1"),
        8 if !tail.is_empty() => format!("{head}{}", tail.to_ascii_uppercase()),
        9 => arn.replace("alice", "${aws:username}"),
        10 => arn.replace("alice", "${aws:username, 'alice'}"),
        11 => arn.replace("app", "${aws:PrincipalTag/team}"),
        12 => format!("{arn}-other"),
        _ => arn.replace(HOME, OTHER),
    }
}

fn actions_element(rng: &mut Rng, action: &str, target: &Target) -> (&'static str, Value) {
    let n = 1 + rng.below(2);
    let list: Vec<String> = (0..n).map(|_| action_pattern(rng, action, target)).collect();
    let name = if rng.chance(8) { "NotAction" } else { "Action" };
    (name, if n == 1 && rng.chance(50) { json!(list[0]) } else { json!(list) })
}

fn resources_element(rng: &mut Rng, arn: &str) -> (&'static str, Value) {
    let n = 1 + rng.below(2);
    let list: Vec<String> = (0..n).map(|_| resource_pattern(rng, arn)).collect();
    let name = if rng.chance(8) { "NotResource" } else { "Resource" };
    (name, if n == 1 && rng.chance(50) { json!(list[0]) } else { json!(list) })
}

struct Scenario<'a> {
    target: &'a Target,
    action: &'static str,
    arn: String,
    principal: String,
    keys: Vec<(&'static str, KeyKind)>,
}

fn statement(rng: &mut Rng, sc: &Scenario, principal: Option<Value>, with_resource: bool) -> Value {
    let mut stmt = serde_json::Map::new();
    if rng.chance(40) {
        stmt.insert("Sid".into(), json!(format!("S{}", rng.below(100))));
    }
    let effect = if rng.chance(75) { "Allow" } else { "Deny" };
    stmt.insert("Effect".into(), json!(effect));
    if let Some(p) = principal {
        // NotPrincipal is only supported with Deny (reference_policies_elements_notprincipal.html).
        let name = if effect == "Deny" && rng.chance(25) { "NotPrincipal" } else { "Principal" };
        stmt.insert(name.into(), p);
    }
    let (a, av) = actions_element(rng, sc.action, sc.target);
    stmt.insert(a.into(), av);
    if with_resource {
        let (r, rv) = resources_element(rng, &sc.arn);
        stmt.insert(r.into(), rv);
    }
    if rng.chance(45) {
        stmt.insert("Condition".into(), condition_block(rng, &sc.keys));
    }
    Value::Object(stmt)
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn identity_policy(rng: &mut Rng, sc: &Scenario) -> Value {
    let n = 1 + rng.below(3);
    doc((0..n).map(|_| statement(rng, sc, None, true)).collect())
}

fn principal_element(rng: &mut Rng, sc: &Scenario) -> Value {
    let role = "arn:aws:iam::111122223333:role/app-task";
    let options: Vec<Value> = vec![
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": HOME}),
        json!({"AWS": format!("arn:aws:iam::{HOME}:root")}),
        json!({"AWS": OTHER}),
        json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}),
        json!({"AWS": role}),
        json!({"AWS": sc.principal.clone()}),
        json!({"AWS": "arn:aws:iam::111122223333:user/alice"}),
        json!({"AWS": "arn:aws:iam::444455556666:role/ci"}),
        json!({"Service": "ecs-tasks.amazonaws.com"}),
        json!({"AWS": [role, OTHER], "Service": "ecs-tasks.amazonaws.com"}),
        json!({"AWS": [format!("arn:aws:iam::{OTHER}:root"), "arn:aws:iam::111122223333:user/alice"]}),
    ];
    rng.pick(&options).clone()
}

fn resource_policy(rng: &mut Rng, sc: &Scenario, kind: ResourcePolicyKind) -> Value {
    let n = 1 + rng.below(3);
    let stmts = (0..n)
        .map(|_| {
            let principal = principal_element(rng, sc);
            // Trust and key policies usually omit Resource (it is the role or key itself).
            let with_resource = match kind {
                ResourcePolicyKind::Trust => rng.chance(10),
                ResourcePolicyKind::KeyPolicy => rng.chance(60),
                _ => rng.chance(75),
            };
            statement(rng, sc, Some(principal), with_resource)
        })
        .collect();
    doc(stmts)
}

fn scp_levels(rng: &mut Rng, sc: &Scenario) -> Value {
    let levels = 1 + rng.below(3);
    let mut out = Vec::new();
    for level in 0..levels {
        let mut stmts = Vec::new();
        if rng.chance(85) {
            stmts.push(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
        } else {
            let (a, av) = actions_element(rng, sc.action, sc.target);
            stmts.push(json!({"Effect": "Allow", a: av, "Resource": "*"}));
        }
        if rng.chance(35) {
            stmts.push(statement(rng, sc, None, true));
        }
        if rng.chance(30) {
            out.push(json!({"id": format!("ou-level-{level}"), "policies": [doc(stmts)]}));
        } else {
            out.push(doc(stmts));
        }
    }
    json!(out)
}

fn rcp_levels(rng: &mut Rng, sc: &Scenario) -> Value {
    let n = 1 + rng.below(2);
    let levels: Vec<Value> = (0..n)
        .map(|_| {
            // RCPs take `Action` only, and not the bare `*` (orgs_manage_policies_rcps_syntax.html).
            let action = match action_pattern(rng, sc.action, sc.target) {
                a if a == "*" => sc.action.to_string(),
                a => a,
            };
            let mut stmt = json!({"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"});
            if rng.chance(70) {
                stmt["Condition"] = condition_block(rng, &sc.keys);
            }
            doc(vec![stmt])
        })
        .collect();
    json!(levels)
}

fn endpoint_policy(rng: &mut Rng, sc: &Scenario) -> Value {
    let n = 1 + rng.below(2);
    doc((0..n)
        .map(|_| {
            let mut stmt = statement(rng, sc, None, true);
            stmt["Principal"] = json!("*");
            stmt
        })
        .collect())
}

fn context(rng: &mut Rng, keys: &[(&'static str, KeyKind)]) -> Value {
    let mut ctx = serde_json::Map::new();
    for (key, kind) in keys {
        if rng.chance(45) {
            let name = if rng.chance(15) { key.to_ascii_lowercase() } else { (*key).to_string() };
            let mut value = key_values(rng, key, *kind);
            // Single-valued keys given as a one-element list, and lists for single-valued keys.
            if rng.chance(8) && value.is_string() {
                value = json!([value]);
            }
            ctx.insert(name, value);
        }
    }
    // A key no action carries, which AWS never sends.
    if rng.chance(10) {
        ctx.insert("ec2:InstanceType".into(), json!("t3.micro"));
    }
    Value::Object(ctx)
}

fn principal_for(rng: &mut Rng, target: &Target) -> String {
    let mut options = vec![
        format!("arn:aws:sts::{HOME}:assumed-role/app-task/task-1"),
        format!("arn:aws:sts::{HOME}:assumed-role/app-task/task-1"),
        format!("arn:aws:sts::{OTHER}:assumed-role/ci/build-7"),
        format!("arn:aws:iam::{HOME}:user/alice"),
        format!("arn:aws:sts::{HOME}:federated-user/alice"),
        format!("arn:aws:iam::{OTHER}:user/bob"),
    ];
    if target.resource_policy != ResourcePolicyKind::None {
        options.push("ecs-tasks.amazonaws.com".into());
    }
    rng.pick(&options).clone()
}

/// One malformed case in a hundred: the evaluator and the oracle must both reject it.
fn malformed(rng: &mut Rng) -> Value {
    let stmt = match rng.below(4) {
        0 => json!({"Effect": "Allw", "Action": "s3:GetObject", "Resource": "*"}),
        1 => json!({"Effect": "Allow", "Resource": "*"}),
        2 => json!({"Effect": "Allow", "Action": "s3GetObject", "Resource": "*"}),
        _ => {
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEqualz": {"aws:username": "a"}}})
        }
    };
    doc(vec![stmt])
}

/// Generates `count` case lines from `seed`.
pub fn generate(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..count).map(|i| generate_case(&mut rng, i).to_string()).collect()
}

fn generate_case(rng: &mut Rng, i: usize) -> Value {
    let target = rng.pick(TARGETS);
    let action = *rng.pick(target.actions);
    let resource_account = if rng.chance(70) { HOME } else { OTHER };
    let arn = target.arn.replace("{acct}", resource_account);
    let principal = principal_for(rng, target);
    let mut keys: Vec<(&'static str, KeyKind)> = GLOBAL_KEYS.to_vec();
    keys.extend_from_slice(target.keys);
    let sc = Scenario { target, action, arn: arn.clone(), principal: principal.clone(), keys };

    let identity: Vec<Value> = if principal.ends_with("amazonaws.com") {
        Vec::new()
    } else {
        (0..rng.below(3) + usize::from(rng.chance(80))).map(|_| identity_policy(rng, &sc)).collect()
    };
    let mut case = json!({
        "id": format!("gen-{i}"),
        "identityPolicies": identity,
        "resourcePolicy": null,
        "permissionBoundaries": null,
        "scps": null,
        "request": {
            "principal": principal,
            "action": action,
            "resource": arn,
            "context": context(rng, &sc.keys),
        },
    });
    if target.arn.starts_with("arn:aws:s3:::") {
        case["request"]["resourceAccount"] = json!(resource_account);
    }
    let rp_field = match target.resource_policy {
        ResourcePolicyKind::Trust => "trustPolicy",
        ResourcePolicyKind::KeyPolicy => "kmsKeyPolicy",
        _ => "resourcePolicy",
    };
    let rp_chance = match target.resource_policy {
        ResourcePolicyKind::None => 0,
        ResourcePolicyKind::Trust | ResourcePolicyKind::KeyPolicy => 85,
        ResourcePolicyKind::Resource => 50,
    };
    if rng.chance(rp_chance) {
        case[rp_field] = resource_policy(rng, &sc, target.resource_policy);
    }
    let human = !sc.principal.ends_with("amazonaws.com");
    if human && rng.chance(20) {
        let n = 1 + rng.below(2);
        case["permissionBoundaries"] = json!((0..n).map(|_| identity_policy(rng, &sc)).collect::<Vec<_>>());
    }
    if human && rng.chance(30) {
        case["scps"] = scp_levels(rng, &sc);
    }
    if rng.chance(12) {
        case["rcps"] = rcp_levels(rng, &sc);
    }
    if sc.principal.contains(":assumed-role/") && rng.chance(12) {
        case["sessionPolicy"] = identity_policy(rng, &sc);
    }
    if human && rng.chance(8) {
        case["vpcEndpointPolicies"] = json!([endpoint_policy(rng, &sc)]);
    }
    if rng.chance(1) {
        case["identityPolicies"] = json!([malformed(rng)]);
    }
    case
}
