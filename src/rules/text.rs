//! Reading a stopped reason: which ECS step failed (the stage), and the values the text names (image, secret ARN,
//! parameter, log group, endpoint, …). Tolerates the wrappers ECS, Docker, containerd and the SDKs add, truncation
//! (`...`, `…`) and the placeholders people paste (`<account id>`, `xxxx`, `{account-id}`).

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The ECS step the text says failed. It decides which identity made the call (the execution role for every
/// step ECS performs before the container starts) and which endpoint a network failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `unable to retrieve ecr registry auth` / `ecr:GetAuthorizationToken`.
    EcrAuth,
    /// Private registry credentials (`repositoryCredentials`) read from Secrets Manager.
    RegistryCredentials,
    /// A `secrets` entry read from Secrets Manager.
    SecretsManager,
    /// A `secrets` entry read from SSM Parameter Store.
    Ssm,
    /// The awslogs (or other) log driver set-up.
    Logging,
    /// An EFS volume mount.
    Efs,
    /// Pulling the container image (manifest, layers).
    ImagePull,
}

impl Stage {
    /// The AWS service the step calls, as its endpoint prefix (`ecr.api`, `secretsmanager`, …).
    pub fn service(self, registry: Option<&str>) -> &'static str {
        match self {
            Stage::EcrAuth => "ecr.api",
            Stage::RegistryCredentials | Stage::SecretsManager => "secretsmanager",
            Stage::Ssm => "ssm",
            Stage::Logging => "logs",
            Stage::Efs => "elasticfilesystem",
            Stage::ImagePull => match registry {
                Some(r) if is_ecr_host(r) => "ecr.dkr",
                Some(_) => "registry",
                None => "ecr.dkr",
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::EcrAuth => "ecr-auth",
            Stage::RegistryCredentials => "registry-credentials",
            Stage::SecretsManager => "secrets-manager",
            Stage::Ssm => "ssm-parameter-store",
            Stage::Logging => "logging",
            Stage::Efs => "efs",
            Stage::ImagePull => "image-pull",
        }
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are literals of this file, covered by tests: a failure to compile is a programming error.
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in pattern `{pattern}`: {e}")))
}

macro_rules! regex {
    ($pattern:expr) => {{
        static CELL: OnceLock<Regex> = OnceLock::new();
        re(&CELL, $pattern)
    }};
}

/// The stage, from the most specific wording to the least.
pub fn stage(text: &str) -> Option<Stage> {
    let stages: [(Stage, &Regex); 7] = [
        (Stage::EcrAuth, regex!(r"(?i)ecr registry auth|ecr:GetAuthorizationToken|GetAuthorizationToken operation")),
        (Stage::RegistryCredentials, regex!(r"(?i)registry auth from asm|repositoryCredentials|private registry auth")),
        (
            Stage::SecretsManager,
            regex!(
                r"(?i)secrets? from asm|from secrets manager|secretsmanager:GetSecretValue|GetSecretValue operation|asm fetching secret"
            ),
        ),
        (
            Stage::Ssm,
            regex!(
                r"(?i)secrets? from ssm|SSM Parameter Store|ssm:GetParameters?\b|GetParameters? operation|ssm parameters?"
            ),
        ),
        (Stage::Logging, regex!(r"(?i)logg(?:er|ing) (?:args|driver)|log group|log-group|awslogs|logs:\w+|log stream")),
        (Stage::Efs, regex!(r"(?i)\bEFS\b|efs-utils|elasticfilesystem|mount\.nfs")),
        (
            Stage::ImagePull,
            regex!(
                r"(?i)CannotPull\w*ContainerError|pull image|pull access|ref pull|failed to resolve ref|manifest|image pull|pulling from host|/v2/|ecr:BatchGetImage|ecr:GetDownloadUrlForLayer"
            ),
        ),
    ];
    stages.iter().find(|(_, r)| r.is_match(text)).map(|(s, _)| *s)
}

/// `true` for `123456789012.dkr.ecr.us-east-1.amazonaws.com` (and the China / FIPS variants).
pub fn is_ecr_host(host: &str) -> bool {
    regex!(r"(?i)^[^.]+\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$").is_match(host)
}

/// An image reference split into its parts (`registry/repository:tag@digest`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRef {
    pub image: String,
    pub registry: Option<String>,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Splits an image reference the way Docker does: the first path segment is a registry when it has a `.` or `:`
/// or is `localhost`; otherwise the image is on Docker Hub.
pub fn parse_image(image: &str) -> Option<ImageRef> {
    let image = image.trim_matches(|c: char| c == '"' || c == '\'' || c == ',' || c == '.' || c.is_whitespace());
    if image.is_empty() || image.contains(' ') {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d.to_string())),
        None => (image, None),
    };
    let (registry, rest) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    };
    // The tag is after the last `:` of the last path segment (a registry port was split off above).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(rest[last_slash + i + 1..].to_string())),
        None => (rest, None),
    };
    if repository.is_empty() {
        return None;
    }
    Some(ImageRef { image: image.to_string(), registry, repository: repository.to_string(), tag, digest })
}

/// The image the text names, from the wordings Docker, containerd and the ECS agent use.
pub fn image(text: &str) -> Option<ImageRef> {
    let patterns: [&Regex; 6] = [
        regex!(
            r#"(?i)failed to resolve ref(?:erence)?:? \\?["']?([^\s:"']+(?::[^\s:@"']+)*(?:@sha256:[0-9a-zA-Z]+)?)"#
        ),
        regex!(r"(?i)pull access denied for ([^\s,]+)"),
        regex!(r"(?i)manifest for ([^\s]+) not found"),
        regex!(r"(?i)repository ([^\s]+) not found"),
        regex!(
            r"(?i)(?:pulling|pull) (?:image |from )?(?:host )?([a-z0-9.-]+\.[a-z]{2,}(?::\d+)?/[^\s:]+(?::[^\s:]+)?)"
        ),
        regex!(r#"(?i)https://([^/\s"]+)/v2/([^\s"]+?)/(?:manifests|blobs)/([^\s"/]+)"#),
    ];
    for (i, pattern) in patterns.iter().enumerate() {
        let Some(caps) = pattern.captures(text) else { continue };
        if i == 5 {
            let (host, repo, reference) = (&caps[1], &caps[2], &caps[3]);
            let mut parsed = ImageRef {
                image: format!("{host}/{repo}"),
                registry: Some(host.to_string()),
                repository: repo.to_string(),
                tag: None,
                digest: None,
            };
            if reference.starts_with("sha256:") {
                parsed.digest = Some(reference.to_string());
            } else {
                parsed.tag = Some(reference.to_string());
            }
            return Some(parsed);
        }
        let raw = caps[1].trim_end_matches(':');
        if let Some(parsed) = parse_image(raw) {
            return Some(parsed);
        }
    }
    None
}

/// Every ARN in the text, trailing punctuation removed. Placeholder accounts (`<account id>`) are kept as written.
pub fn arns(text: &str) -> Vec<String> {
    regex!(r#"arn:aws[a-z-]*:[a-z0-9-]+:[^\s:"']*:(?:<[^>\n]*>|[^\s:"']*):[^\s"',;)\]}]+"#)
        .find_iter(text)
        .map(|m| m.as_str().trim_end_matches(['.', ',']).to_string())
        .collect()
}

/// The parts of an ARN: (partition, service, region, account, resource).
pub fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let mut parts = arn.strip_prefix("arn:")?.splitn(5, ':');
    Some((parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?))
}

/// A 12-digit account id (placeholders are not accounts).
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A region name such as `us-east-1` (placeholders are not regions).
pub fn is_region(s: &str) -> bool {
    regex!(r"^[a-z]{2}(?:-[a-z]+)+-\d$").is_match(s)
}

/// The SSM parameter name an ARN stands for: `parameter/a/b` is `/a/b`, `parameter/a` is `a` (a name with a path
/// must start with `/`, so the ARN's missing slash is restored).
pub fn parameter_name_of_arn(arn: &str) -> Option<String> {
    let (_, service, _, _, resource) = split_arn(arn)?;
    if service != "ssm" {
        return None;
    }
    let rest = resource.strip_prefix("parameter")?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return None;
    }
    Some(if rest.contains('/') { format!("/{rest}") } else { rest.to_string() })
}

/// The log group an ARN names (`arn:…:log-group:NAME[:log-stream:…|:*]`).
pub fn log_group_of_arn(arn: &str) -> Option<String> {
    let (_, service, _, _, resource) = split_arn(arn)?;
    if service != "logs" {
        return None;
    }
    let rest = resource.strip_prefix("log-group:")?;
    let name = rest.split(":log-stream").next().unwrap_or(rest);
    let name = name.strip_suffix(":*").unwrap_or(name).trim_end_matches(':');
    (!name.is_empty()).then(|| name.to_string())
}

/// The values a text names, keyed as in `Finding::details`.
pub fn facts(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.entry(k.to_string()).or_insert(v);
    };
    if let Some(code) = error_code(text) {
        put("error", code);
    }
    for arn in arns(text) {
        let Some((_, service, _, _, resource)) = split_arn(&arn) else { continue };
        match service {
            "secretsmanager" if resource.starts_with("secret:") => put("secret_arn", arn.clone()),
            "ssm" if resource.starts_with("parameter") => {
                if let Some(name) = parameter_name_of_arn(&arn) {
                    put("parameter", name);
                }
                put("parameter_arn", arn.clone());
            }
            "logs" => {
                if let Some(group) = log_group_of_arn(&arn) {
                    put("log_group", group);
                }
            }
            "kms" => put("kms_key_arn", arn.clone()),
            "ecr" if resource.starts_with("repository/") => {
                put("repository_arn", arn.clone());
                put("repository", resource.trim_start_matches("repository/").to_string());
            }
            "ecs" if resource.starts_with("task/") => {
                if let Some(id) = resource.rsplit('/').next() {
                    put("task_id", id.to_string());
                }
                put("task_arn", arn.clone());
            }
            "elasticfilesystem" => put("file_system_arn", arn.clone()),
            "iam" if resource.starts_with("role/") => put("role_arn", arn.clone()),
            _ => {}
        }
    }
    if let Some(caps) = regex!(r"assumed-role/[^/\s]+/([0-9a-f]{32})\b").captures(text) {
        put("task_id", caps[1].to_string());
    }
    if let Some(caps) =
        regex!(r"(?i)(?:invalid (?:ssm )?parameters?|parameter(?: name)?|ParameterNotFound)[: ]+'?(/[\w./-]+)")
            .captures(text)
    {
        put("parameter", caps[1].trim_end_matches('.').to_string());
    }
    if let Some(caps) = regex!(r#"(?i)(?:awslogs-group|log group)[ :=]+['"`]?(/?[\w./#-]*[\w#-])"#).captures(text) {
        let group = caps[1].to_string();
        if !matches!(group.to_ascii_lowercase().as_str(), "does" | "has" | "is" | "was" | "not") {
            put("log_group", group);
        }
    }
    if let Some(image) = image(text) {
        put("image", image.image.clone());
        if let Some(r) = &image.registry {
            put("registry", r.clone());
        }
        put("repository", image.repository.clone());
        if let Some(t) = image.tag {
            put("tag", t);
        }
        if let Some(d) = image.digest {
            put("digest", d);
        }
    }
    if let Some(caps) = regex!(r#"(?i)(?:Post|Get|Head|Put)\s+"?https?://([a-z0-9.-]+(?:\.\.\.)?)"#).captures(text) {
        put("endpoint", caps[1].to_string());
    } else if let Some(caps) =
        regex!(r"(?i)dial tcp:? (?:lookup )?([a-z0-9.-]+\.[a-z]{2,}|\d+\.\d+\.\d+\.\d+)(?::(\d+))?").captures(text)
    {
        put("endpoint", caps[0].trim_start_matches("dial tcp").trim_start_matches(':').trim().to_string());
    }
    if let Some(caps) = regex!(r"(?i)\b(fs-[0-9a-f]{8,17})\b").captures(text) {
        put("file_system_id", caps[1].to_string());
    }
    if let Some(caps) = regex!(r"(?i)\bfsap-[0-9a-f]{8,17}\b").find(text) {
        put("access_point_id", caps.as_str().to_string());
    }
    if let Some(caps) = regex!(r"(?i)exit[ _]code[=: ]+(-?\d+)").captures(text) {
        put("exit_code", caps[1].to_string());
    }
    if let Some(caps) = regex!(r"(?i)\((?:elb|target-group|load balancer)\s+([^)\s]+)\)").captures(text) {
        put("load_balancer", caps[1].trim_end_matches(')').to_string());
    }
    if let Some(caps) = regex!(r"(?i)\bdeployment ((?:ecs-svc/)?[\w-]+)\)").captures(text) {
        put("deployment", caps[1].to_string());
    }
    if let Some(caps) = regex!(r"(?i)\binstance (i-[0-9a-f]{8,17})\b").captures(text) {
        put("instance_id", caps[1].to_string());
    }
    out
}

/// The outermost ECS / agent error type (`CannotPullContainerError`, `ResourceInitializationError`, …), in the
/// capitalisation AWS documents even when the text was lower-cased (`Resourceinitializationerror`).
pub fn error_code(text: &str) -> Option<String> {
    const CODES: &[&str] = &[
        "CannotPullContainerError",
        "CannotPullECRContainerError",
        "ResourceInitializationError",
        "CannotStartContainerError",
        "CannotStopContainerError",
        "CannotInspectContainerError",
        "CannotCreateContainerError",
        "CannotCreateVolumeError",
        "ContainerRuntimeTimeoutError",
        "ContainerRuntimeError",
        "DockerTimeoutError",
        "OutOfMemoryError",
        "InternalError",
        "TaskFailedToStart",
    ];
    let lower = text.to_ascii_lowercase();
    CODES
        .iter()
        .filter_map(|c| lower.find(&c.to_ascii_lowercase()).map(|i| (i, *c)))
        .min_by_key(|(i, _)| *i)
        .map(|(_, c)| c.to_string())
}

/// The retry count ECS reports (`service call has been retried 5 time(s)`), a hint at timeouts.
pub fn retries(text: &str) -> Option<u32> {
    regex!(r"(?i)retried (\d+) time").captures(text).and_then(|c| c[1].parse().ok())
}

/// The role ECS could not assume (`ECS was unable to assume the role 'arn:…'`).
pub fn unassumable_role(text: &str) -> Option<String> {
    regex!(r"(?i)unable to assume the role '([^']+)'").captures(text).map(|c| c[1].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_image_references() {
        let i = parse_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1@sha256:abc").expect("image");
        assert_eq!(i.registry.as_deref(), Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com"));
        assert_eq!(i.repository, "team/app");
        assert_eq!(i.tag.as_deref(), Some("v1"));
        assert_eq!(i.digest.as_deref(), Some("sha256:abc"));
        let hub = parse_image("nginx:1.25").expect("image");
        assert_eq!(hub.registry, None);
        assert_eq!(hub.repository, "nginx");
        let port = parse_image("localhost:5000/app").expect("image");
        assert_eq!(port.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(port.tag, None);
    }

    #[test]
    fn parameter_names_keep_their_leading_slash() {
        assert_eq!(
            parameter_name_of_arn("arn:aws:ssm:eu-west-2:1:parameter/GOOGLE_CLIENT_ID").as_deref(),
            Some("GOOGLE_CLIENT_ID")
        );
        assert_eq!(parameter_name_of_arn("arn:aws:ssm:eu-west-2:1:parameter/a/b").as_deref(), Some("/a/b"));
    }

    #[test]
    fn log_group_from_stream_arn() {
        assert_eq!(
            log_group_of_arn("arn:aws:logs:us-east-1:1:log-group:/ecs/app:log-stream:").as_deref(),
            Some("/ecs/app")
        );
        assert_eq!(log_group_of_arn("arn:aws:logs:us-east-1:1:log-group:/ecs/app:*").as_deref(), Some("/ecs/app"));
    }

    #[test]
    fn arns_tolerate_placeholder_accounts() {
        let found = arns("on resource: arn:aws:ssm:eu-west-2:<account id>:parameter/X because");
        assert_eq!(found, vec!["arn:aws:ssm:eu-west-2:<account id>:parameter/X".to_string()]);
    }

    #[test]
    fn stage_prefers_the_specific_step() {
        assert_eq!(stage("unable to retrieve ecr registry auth: service call"), Some(Stage::EcrAuth));
        assert_eq!(stage("unable to retrieve secrets from ssm: x"), Some(Stage::Ssm));
        assert_eq!(stage("failed to validate logger args: create stream"), Some(Stage::Logging));
        assert_eq!(stage("CannotPullContainerError: manifest unknown"), Some(Stage::ImagePull));
        assert_eq!(stage("Essential container in task exited"), None);
    }

    #[test]
    fn image_from_head_request_url() {
        let i =
            image(r#"Head "https://quay.io/v2/deepfenceio/cloud-scanner/manifests/latest": dial tcp"#).expect("img");
        assert_eq!(i.registry.as_deref(), Some("quay.io"));
        assert_eq!(i.repository, "deepfenceio/cloud-scanner");
        assert_eq!(i.tag.as_deref(), Some("latest"));
    }
}
