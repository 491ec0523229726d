//! Deterministic generator of realistic CloudTrail exports in the S3 delivery layout, with ground truth.
//!
//! Shared by `bench/generate.rs` (the `generate-trail` example) and the ground-truth test
//! (`tests/trail_generated.rs`). Records follow the CloudTrail record contents reference: assumed-role task and
//! execution-role sessions named after task ids, AWS-service and IAM-user identities, data and management
//! events, `tlsDetails`, `resources[]`. About 5% of events fail; most failures are denials in every wording the
//! tool parses, the rest are other errors. Traps — `errorCode`/`AccessDenied` nested in `requestParameters` or
//! `responseElements`, the words in keys and messages of non-denied errors — are not denials, and the manifest's
//! `denied_events` does not count them.

use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the generator wrote: the ground truth the tool must reproduce.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Manifest {
    pub seed: u64,
    pub files: u64,
    pub digest_files: u64,
    pub bytes_uncompressed: u64,
    pub bytes_compressed: u64,
    pub events: u64,
    pub error_events: u64,
    pub denied_events: u64,
    pub trap_events: u64,
}

/// splitmix64: tiny, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent_times_100: u64) -> bool {
        self.below(10_000) < percent_times_100
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(len);
        s
    }
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char).collect()
    }
}

const ACCOUNTS: &[&str] = &["111122223333", "444455556666", "777788889999"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];
const ORG: &str = "o-a1b2c3d4e5";
const AGENT_UA: &str =
    "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 amazon-ecs-agent/1.80.0";
const APP_UAS: &[&str] = &[
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-java/2.25.35 Linux/5.10.214-202.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.3+9-LTS Java/21.0.3 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "aws-sdk-js/3.569.0 ua/2.0 os/linux#5.10.215-203.850.amzn2.x86_64 lang/js md/nodejs#20.12.2 api/dynamodb#3.569.0",
];
const CLI_UA: &str = "aws-cli/2.15.40 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#ecs.run-task";
/// Distinct denied calls per account and region.
const DENIAL_SCENARIOS: u64 = 120;
const SERVICES: &[&str] = &["orders", "billing", "search", "ingest", "notifier"];

struct Ctx<'a> {
    rng: &'a mut Rng,
    account: &'a str,
    region: &'a str,
    time: String,
}

fn assumed(ctx: &mut Ctx, role: &str, session: &str) -> Value {
    let id = format!("AROA{}", ctx.rng.token(17).to_uppercase());
    json!({
        "type": "AssumedRole",
        "principalId": format!("{id}:{session}"),
        "arn": format!("arn:aws:sts::{}:assumed-role/{role}/{session}", ctx.account),
        "accountId": ctx.account,
        "accessKeyId": format!("ASIA{}", ctx.rng.token(16).to_uppercase()),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": id, "arn": format!("arn:aws:iam::{}:role/{role}", ctx.account),
                              "accountId": ctx.account, "userName": role},
            "webIdFederationData": {},
            "attributes": {"creationDate": ctx.time, "mfaAuthenticated": "false"}
        }
    })
}

fn service_identity(service: &str) -> Value {
    json!({"type": "AWSService", "invokedBy": service})
}

fn user(ctx: &mut Ctx, name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": format!("AIDA{}", ctx.rng.token(17).to_uppercase()),
           "arn": format!("arn:aws:iam::{}:user/{name}", ctx.account), "accountId": ctx.account,
           "accessKeyId": format!("AKIA{}", ctx.rng.token(16).to_uppercase()), "userName": name})
}

/// One successful call: (eventSource, eventName, identity, userAgent, requestParameters, responseElements,
/// resources, the denial wording family used if this call is turned into a denial).
struct Call {
    source: &'static str,
    name: &'static str,
    action: String,
    resource: String,
    identity: Value,
    principal: String,
    user_agent: String,
    source_ip: String,
    request: Value,
    response: Value,
    resources: Option<Value>,
    data_event: bool,
}

fn call(ctx: &mut Ctx) -> Call {
    let svc = *ctx.rng.pick(SERVICES);
    let task = ctx.rng.hex(32);
    let acct = ctx.account.to_string();
    let region = ctx.region.to_string();
    let app_ua = ctx.rng.pick(APP_UAS).to_string();
    let ip = format!("10.{}.{}.{}", ctx.rng.below(256), ctx.rng.below(256), ctx.rng.below(256));
    let exec_role = format!("{svc}-execution-role");
    let task_role = format!("{svc}-task-role");
    let kind = ctx.rng.below(100);
    let mk = |source, name, action: &str, resource: String, identity: Value, principal: String| Call {
        source,
        name,
        action: action.to_string(),
        resource,
        identity,
        principal,
        user_agent: String::new(),
        source_ip: String::new(),
        request: Value::Null,
        response: Value::Null,
        resources: None,
        data_event: false,
    };
    let sts = |role: &str, session: &str| format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}");
    let mut c = match kind {
        0..=24 => {
            let key = format!("exports/{}/{}.parquet", ctx.rng.below(400), ctx.rng.hex(12));
            let bucket = format!("{svc}-data-{acct}");
            let mut c = mk(
                "s3.amazonaws.com",
                "GetObject",
                "s3:GetObject",
                format!("arn:aws:s3:::{bucket}/{key}"),
                assumed(ctx, &task_role, &task),
                sts(&task_role, &task),
            );
            c.request =
                json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key});
            c.resources = Some(json!([{"type": "AWS::S3::Object", "ARN": c.resource},
                                      {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]));
            c.data_event = true;
            c.user_agent = format!("[{app_ua}]");
            c
        }
        25..=34 => {
            let key = format!(
                "arn:aws:kms:{region}:{acct}:key/{}-{}-4{}-a{}-{}",
                ctx.rng.hex(8),
                ctx.rng.hex(4),
                ctx.rng.hex(3),
                ctx.rng.hex(3),
                ctx.rng.hex(12)
            );
            let mut c = mk(
                "kms.amazonaws.com",
                "Decrypt",
                "kms:Decrypt",
                key.clone(),
                assumed(ctx, &task_role, &task),
                sts(&task_role, &task),
            );
            c.request = json!({"encryptionContext": {"aws:secretsmanager:arn": format!("arn:aws:secretsmanager:{region}:{acct}:secret:{svc}/db-{}", ctx.rng.token(6))}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"});
            c.resources = Some(json!([{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]));
            c.user_agent = app_ua.clone();
            c
        }
        35..=42 => {
            let role = format!("arn:aws:iam::{acct}:role/{task_role}");
            let mut c = mk(
                "sts.amazonaws.com",
                "AssumeRole",
                "sts:AssumeRole",
                role.clone(),
                service_identity("ecs-tasks.amazonaws.com"),
                String::new(),
            );
            c.user_agent = "ecs-tasks.amazonaws.com".into();
            c.source_ip = "ecs-tasks.amazonaws.com".into();
            c.request = json!({"roleArn": role, "roleSessionName": task, "durationSeconds": 3600});
            c.response = json!({"credentials": {"accessKeyId": format!("ASIA{}", ctx.rng.token(16).to_uppercase()), "sessionToken": ctx.rng.token(120), "expiration": "May 1, 2024, 11:00:00 AM"},
                                "assumedRoleUser": {"assumedRoleId": format!("AROA{}:{task}", ctx.rng.token(17).to_uppercase()), "arn": sts(&task_role, &task)}});
            c.resources = Some(json!([{"accountId": acct, "type": "AWS::IAM::Role", "ARN": role}]));
            c
        }
        43..=54 => {
            let (name, action) = *ctx.rng.pick(&[
                ("GetAuthorizationToken", "ecr:GetAuthorizationToken"),
                ("BatchGetImage", "ecr:BatchGetImage"),
                ("GetDownloadUrlForLayer", "ecr:GetDownloadUrlForLayer"),
            ]);
            let repo = format!("arn:aws:ecr:{region}:{acct}:repository/{svc}-api");
            let resource = if name == "GetAuthorizationToken" { "*".to_string() } else { repo };
            let mut c = mk(
                "ecr.amazonaws.com",
                name,
                action,
                resource,
                assumed(ctx, &exec_role, &task),
                sts(&exec_role, &task),
            );
            c.user_agent = AGENT_UA.into();
            c.request = if name == "GetAuthorizationToken" {
                json!({"registryIds": [acct]})
            } else {
                json!({"repositoryName": format!("{svc}-api"), "registryId": acct, "imageIds": [{"imageTag": format!("v1.{}.{}", ctx.rng.below(40), ctx.rng.below(9))}],
                       "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"]})
            };
            c
        }
        55..=62 => {
            let group = format!("/ecs/{svc}-api");
            let mut c = mk(
                "logs.amazonaws.com",
                "CreateLogStream",
                "logs:CreateLogStream",
                format!("arn:aws:logs:{region}:{acct}:log-group:{group}:log-stream:ecs/{svc}/{task}"),
                assumed(ctx, &exec_role, &task),
                sts(&exec_role, &task),
            );
            c.user_agent = AGENT_UA.into();
            c.request = json!({"logGroupName": group, "logStreamName": format!("ecs/{svc}/{task}")});
            c
        }
        63..=72 => {
            let who = format!("oncall-{}", ctx.rng.pick(&["alice", "bob", "chen", "dana"]));
            let mut c = mk(
                "ec2.amazonaws.com",
                "DescribeInstances",
                "ec2:DescribeInstances",
                "*".into(),
                user(ctx, &who),
                format!("arn:aws:iam::{acct}:user/{who}"),
            );
            c.user_agent = CLI_UA.into();
            c.request = json!({"instancesSet": {}, "filterSet": {"items": [{"name": "tag:service", "valueSet": {"items": [{"value": svc}]}}, {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}});
            c
        }
        73..=77 => {
            let session = format!("gha-run-{}", ctx.rng.below(100_000));
            let mut c = mk(
                "ecs.amazonaws.com",
                "RunTask",
                "ecs:RunTask",
                format!("arn:aws:ecs:{region}:{acct}:task-definition/{svc}-api:{}", ctx.rng.below(90) + 1),
                assumed(ctx, "ci-deployer", &session),
                sts("ci-deployer", &session),
            );
            c.user_agent = CLI_UA.into();
            c.request = json!({"cluster": "prod", "count": 1, "launchType": "FARGATE", "taskDefinition": format!("{svc}-api"),
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": [format!("subnet-{}", ctx.rng.hex(17)), format!("subnet-{}", ctx.rng.hex(17))], "securityGroups": [format!("sg-{}", ctx.rng.hex(17))], "assignPublicIp": "DISABLED"}},
                "overrides": {"containerOverrides": [{"name": "app", "environment": [{"name": "JOB", "value": "reindex"}]}]}, "enableECSManagedTags": true});
            c.response = json!({"tasks": [{"taskArn": format!("arn:aws:ecs:{region}:{acct}:task/prod/{task}"), "lastStatus": "PROVISIONING", "desiredStatus": "RUNNING", "cpu": "512", "memory": "1024",
                "containers": [{"name": "app", "image": format!("{acct}.dkr.ecr.{region}.amazonaws.com/{svc}-api:latest"), "lastStatus": "PENDING"}]}], "failures": []});
            c
        }
        78..=84 => {
            let secret = format!("arn:aws:secretsmanager:{region}:{acct}:secret:{svc}/db-{}", ctx.rng.token(6));
            let mut c = mk(
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                "secretsmanager:GetSecretValue",
                secret.clone(),
                assumed(ctx, &exec_role, &task),
                sts(&exec_role, &task),
            );
            c.user_agent = AGENT_UA.into();
            c.request = json!({"secretId": secret});
            c
        }
        85..=94 => {
            let table = format!("arn:aws:dynamodb:{region}:{acct}:table/{svc}");
            let name = if ctx.rng.chance(5000) { "GetItem" } else { "PutItem" };
            let mut c = mk(
                "dynamodb.amazonaws.com",
                name,
                if name == "GetItem" { "dynamodb:GetItem" } else { "dynamodb:PutItem" },
                table.clone(),
                assumed(ctx, &task_role, &task),
                sts(&task_role, &task),
            );
            c.user_agent = app_ua.clone();
            c.request =
                json!({"tableName": svc, "key": {"pk": "HIDDEN_DUE_TO_SECURITY_REASONS"}, "consistentRead": false});
            c.resources = Some(json!([{"accountId": acct, "type": "AWS::DynamoDB::Table", "ARN": table}]));
            c.data_event = true;
            c
        }
        _ => {
            let function = format!("arn:aws:lambda:{region}:{acct}:function:{svc}-hook");
            let mut c = mk(
                "lambda.amazonaws.com",
                "Invoke",
                "lambda:InvokeFunction",
                function.clone(),
                assumed(ctx, &task_role, &task),
                sts(&task_role, &task),
            );
            c.user_agent = app_ua.clone();
            c.request = json!({"functionName": function, "invocationType": "RequestResponse"});
            c.resources = Some(json!([{"accountId": acct, "type": "AWS::Lambda::Function", "ARN": function}]));
            c.data_event = true;
            c
        }
    };
    if c.source_ip.is_empty() {
        c.source_ip = ip;
    }
    c
}

/// Turns a call into a denial in one of AWS's wordings: (errorCode, errorMessage).
fn denial(ctx: &mut Ctx, c: &Call) -> (String, String) {
    let principal =
        if c.principal.is_empty() { format!("arn:aws:iam::{}:root", ctx.account) } else { c.principal.clone() };
    let head = format!("User: {principal} is not authorized to perform: {} on resource: {}", c.action, c.resource);
    let code = match c.source {
        "s3.amazonaws.com" | "sts.amazonaws.com" | "iam.amazonaws.com" => "AccessDenied",
        "ec2.amazonaws.com" => "Client.UnauthorizedOperation",
        _ => "AccessDeniedException",
    };
    if c.source == "s3.amazonaws.com" && ctx.rng.chance(5000) {
        return (code.into(), "Access Denied".into());
    }
    if c.source == "ec2.amazonaws.com" {
        let encoded = ctx.rng.token(180);
        return (
            code.into(),
            format!(
                "You are not authorized to perform this operation. {head} because no identity-based policy allows the {} action. Encoded authorization failure message: {encoded}",
                c.action
            ),
        );
    }
    let reason = match ctx.rng.below(8) {
        0..=3 => format!(" because no identity-based policy allows the {} action", c.action),
        4 => format!(" because no resource-based policy allows the {} action", c.action),
        5 => format!(
            " with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/{ORG}/service_control_policy/p-{}",
            ctx.rng.token(8).to_lowercase()
        ),
        6 => format!(" because no permissions boundary allows the {} action", c.action),
        _ => String::new(),
    };
    (code.into(), format!("{head}{reason}"))
}

fn non_denied_error(ctx: &mut Ctx, c: &Call) -> (String, String, bool) {
    match ctx.rng.below(5) {
        0 => ("ThrottlingException".into(), "Rate exceeded".into(), false),
        1 if c.source == "s3.amazonaws.com" => ("NoSuchKey".into(), "The specified key does not exist.".into(), false),
        2 => ("ResourceNotFoundException".into(), format!("Requested resource not found: {}", c.resource), false),
        // A message that mentions AccessDenied under another error code: a trap for text matching.
        3 => (
            "ValidationException".into(),
            "Policy statement references AccessDenied handler that does not exist".into(),
            true,
        ),
        _ => ("InternalError".into(), "We encountered an internal error. Please try again.".into(), false),
    }
}

/// Adds a nested `errorCode`/`AccessDenied` to a successful call's parameters or response.
fn plant_trap(ctx: &mut Ctx, c: &mut Call) {
    match ctx.rng.below(3) {
        0 => {
            c.response = json!({"failedEntryCount": 1, "entries": [{"errorCode": "AccessDeniedException", "errorMessage": "User is not authorized to perform: events:PutEvents"}]});
        }
        1 => {
            if let Value::Object(map) = &mut c.request {
                map.insert("errorCode".into(), json!("AccessDenied"));
            } else {
                c.request = json!({"errorCode": "AccessDenied", "cause": "{\"errorCode\":\"AccessDenied\"}"});
            }
        }
        _ => {
            c.request = json!({"taskToken": ctx.rng.token(40), "error": "AccessDenied", "output": {"status": {"errorCode": "UnauthorizedOperation"}}});
        }
    }
}

/// One record; what kind it is (error, denial, trap) is tallied in `manifest`.
fn record(ctx: &mut Ctx, manifest: &mut Manifest) -> Value {
    let roll = ctx.rng.below(10_000);
    let (mut c, denied) = if roll < 300 {
        // Denials repeat: a few misconfigured roles retry the same call (SDK retries, task restart loops).
        // Each one is a fixed scenario (call and wording), replayed from its own seed; only the time differs.
        let scenario = ctx.rng.below(DENIAL_SCENARIOS);
        let mut scenario_rng = Rng::new(scenario.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        let mut replay =
            Ctx { rng: &mut scenario_rng, account: ctx.account, region: ctx.region, time: ctx.time.clone() };
        let c = call(&mut replay);
        let wording = denial(&mut replay, &c);
        (c, Some(wording))
    } else {
        (call(ctx), None)
    };
    let mut error: Option<(String, String)> = None;
    if let Some(wording) = denied {
        error = Some(wording);
        manifest.denied_events += 1;
    } else if roll < 500 {
        let (code, msg, trap) = non_denied_error(ctx, &c);
        manifest.trap_events += u64::from(trap);
        error = Some((code, msg));
    } else if roll < 800 {
        plant_trap(ctx, &mut c);
        manifest.trap_events += 1;
    }
    manifest.events += 1;
    let mut r = serde_json::Map::new();
    r.insert("eventVersion".into(), json!("1.09"));
    r.insert("userIdentity".into(), c.identity);
    r.insert("eventTime".into(), json!(ctx.time));
    r.insert("eventSource".into(), json!(c.source));
    r.insert("eventName".into(), json!(c.name));
    r.insert("awsRegion".into(), json!(ctx.region));
    r.insert("sourceIPAddress".into(), json!(c.source_ip));
    r.insert("userAgent".into(), json!(c.user_agent));
    if let Some((code, msg)) = error {
        manifest.error_events += 1;
        r.insert("errorCode".into(), json!(code));
        r.insert("errorMessage".into(), json!(msg));
    }
    r.insert("requestParameters".into(), c.request);
    r.insert("responseElements".into(), c.response);
    r.insert(
        "requestID".into(),
        json!(format!(
            "{}-{}-{}-{}-{}",
            ctx.rng.hex(8),
            ctx.rng.hex(4),
            ctx.rng.hex(4),
            ctx.rng.hex(4),
            ctx.rng.hex(12)
        )),
    );
    r.insert(
        "eventID".into(),
        json!(format!(
            "{}-{}-{}-{}-{}",
            ctx.rng.hex(8),
            ctx.rng.hex(4),
            ctx.rng.hex(4),
            ctx.rng.hex(4),
            ctx.rng.hex(12)
        )),
    );
    r.insert("readOnly".into(), json!(c.name.starts_with("Get") || c.name.starts_with("Describe")));
    if let Some(resources) = c.resources {
        r.insert("resources".into(), resources);
    }
    r.insert("eventType".into(), json!("AwsApiCall"));
    r.insert("managementEvent".into(), json!(!c.data_event));
    r.insert("recipientAccountId".into(), json!(ctx.account));
    r.insert("eventCategory".into(), json!(if c.data_event { "Data" } else { "Management" }));
    r.insert("tlsDetails".into(), json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
        "clientProvidedHostHeader": format!("{}.{}.amazonaws.com", c.source.trim_end_matches(".amazonaws.com"), ctx.region)}));
    Value::Object(r)
}

/// Where file `index` goes in the S3 delivery layout (every fourth file under an organization trail).
pub fn file_path(root: &Path, index: u64, seed: u64) -> (PathBuf, String, String, i64) {
    let account = ACCOUNTS[(index % 3) as usize];
    let region = REGIONS[((index / 3) % 3) as usize];
    let start = 1_714_521_600 + (index as i64) * 300; // 2024-05-01T00:00:00Z, one file per 5 minutes
    let t = OffsetDateTime::from_unix_timestamp(start).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (y, m, d) = (t.year(), t.month() as u8, t.day());
    let stamp = format!("{y:04}{m:02}{d:02}T{:02}{:02}Z", t.hour(), t.minute());
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let prefix = if index % 4 == 3 { format!("AWSLogs/{ORG}/{account}") } else { format!("AWSLogs/{account}") };
    let dir = root.join(format!("{prefix}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}"));
    let name = format!("{account}_CloudTrail_{region}_{stamp}_{}.json.gz", rng.token(16));
    (dir.join(name), account.to_string(), region.to_string(), start)
}

/// Writes one log file of about `target` uncompressed bytes; returns its manifest contribution.
pub fn write_file(root: &Path, index: u64, seed: u64, target: u64) -> io::Result<Manifest> {
    let (path, account, region, start) = file_path(root, index, seed);
    let mut rng = Rng::new(seed.wrapping_add(index.wrapping_mul(0x9E37_79B9)));
    let mut manifest = Manifest { files: 1, ..Manifest::default() };
    let mut json = Vec::with_capacity(target as usize + 64 * 1024);
    json.extend_from_slice(b"{\"Records\":[");
    let mut second = 0i64;
    while (json.len() as u64) < target {
        if json.len() > 12 {
            json.push(b',');
        }
        second += rng.below(3) as i64;
        let time = OffsetDateTime::from_unix_timestamp(start + second.min(299))
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        let mut ctx = Ctx { rng: &mut rng, account: &account, region: &region, time };
        let r = record(&mut ctx, &mut manifest);
        serde_json::to_writer(&mut json, &r).map_err(io::Error::other)?;
    }
    json.extend_from_slice(b"]}");
    manifest.bytes_uncompressed = json.len() as u64;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::default());
    gz.write_all(&json)?;
    let compressed = gz.finish()?;
    manifest.bytes_compressed = compressed.len() as u64;
    std::fs::write(&path, compressed)?;
    Ok(manifest)
}

/// Writes a CloudTrail digest file (not events: the tool must skip it).
pub fn write_digest(root: &Path, account: &str, region: &str) -> io::Result<()> {
    let dir = root.join(format!("AWSLogs/{account}/CloudTrail-Digest/{region}/2024/05/01"));
    std::fs::create_dir_all(&dir)?;
    let digest = json!({"awsAccountId": account, "digestStartTime": "2024-05-01T00:00:00Z", "digestEndTime": "2024-05-01T01:00:00Z",
        "digestS3Bucket": "org-trail-logs", "digestS3Object": "AWSLogs/digest.json.gz", "digestPublicKeyFingerprint": "0123456789abcdef0123456789abcdef",
        "digestSignatureAlgorithm": "SHA256withRSA", "newestEventTime": "2024-05-01T00:59:59Z", "oldestEventTime": "2024-05-01T00:00:00Z",
        "previousDigestS3Bucket": null, "previousDigestS3Object": null, "previousDigestHashValue": null, "previousDigestHashAlgorithm": null,
        "previousDigestSignature": null, "logFiles": []});
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    serde_json::to_writer(&mut gz, &digest).map_err(io::Error::other)?;
    std::fs::write(
        dir.join(format!("{account}_CloudTrail-Digest_{region}_org-trail_{region}_20240501T010000Z.json.gz")),
        gz.finish()?,
    )
}

impl Manifest {
    pub fn add(&mut self, other: &Manifest) {
        self.files += other.files;
        self.digest_files += other.digest_files;
        self.bytes_uncompressed += other.bytes_uncompressed;
        self.bytes_compressed += other.bytes_compressed;
        self.events += other.events;
        self.error_events += other.error_events;
        self.denied_events += other.denied_events;
        self.trap_events += other.trap_events;
    }
}
