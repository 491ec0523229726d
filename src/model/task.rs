//! What the live sources learn about a task and the resources it depends on, in the project's own terms.
//! The SDK types stop at `source::live`; saved files (`--task-json`, `--task-event`) produce the same types.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The parts of a task ARN: `arn:aws:ecs:us-east-1:123456789012:task/my-cluster/0123abcd…`.
/// The old format without a cluster (`task/0123abcd…`) gives `cluster: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    pub arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub cluster: Option<String>,
    pub task_id: String,
}

impl TaskRef {
    /// Parses a task ARN; `None` when the text is not one.
    pub fn parse(arn: &str) -> Option<TaskRef> {
        let rest = arn.strip_prefix("arn:")?;
        let mut parts = rest.splitn(6, ':');
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if service != "ecs" || region.is_empty() || account.is_empty() || parts.next().is_some() {
            return None;
        }
        let path = resource.strip_prefix("task/")?;
        let (cluster, task_id) = match path.split_once('/') {
            Some((cluster, id)) => (Some(cluster.to_string()), id),
            None => (None, path),
        };
        if task_id.is_empty() || task_id.contains('/') {
            return None;
        }
        Some(TaskRef {
            arn: arn.to_string(),
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            cluster,
            task_id: task_id.to_string(),
        })
    }
}

/// One container of a task, as DescribeTasks (or a task-state event) reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: Option<String>,
    pub image_digest: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

/// A task, as DescribeTasks (or a task-state event, or a RunTask response in CloudTrail) reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Task {
    pub arn: String,
    pub cluster_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub launch_type: Option<String>,
    /// `service:NAME` for service tasks, `family:NAME` for standalone ones.
    pub group: Option<String>,
    pub started_by: Option<String>,
    /// RFC 3339 timestamps.
    pub created_at: Option<String>,
    pub started_at: Option<String>,
    pub stopping_at: Option<String>,
    pub stopped_at: Option<String>,
    pub containers: Vec<Container>,
}

/// A secret or parameter a container definition references (`secrets`, `repositoryCredentials`, log `secretOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    /// The container that references it.
    pub container: String,
    /// The environment variable (or `repositoryCredentials`, or the log option) it feeds.
    pub name: String,
    /// `valueFrom` as written: a Secrets Manager ARN (possibly with `:json-key:stage:version`), an SSM parameter
    /// ARN, or a parameter/secret name.
    pub value_from: String,
}

/// The parts of a container definition a diagnosis looks at.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: Option<String>,
    pub essential: bool,
    pub log_driver: Option<String>,
    pub log_options: BTreeMap<String, String>,
    pub secrets: Vec<SecretRef>,
    pub repository_credentials: Option<String>,
    /// S3 object ARNs of `environmentFiles`.
    pub environment_files: Vec<String>,
}

/// The parts of a task definition a diagnosis looks at.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: Option<String>,
    pub revision: Option<i32>,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    pub network_mode: Option<String>,
    pub containers: Vec<ContainerDefinition>,
}

impl TaskDefinition {
    /// Every secret or parameter reference of every container (`secrets`, log `secretOptions`,
    /// `repositoryCredentials`), in definition order.
    pub fn secret_refs(&self) -> Vec<SecretRef> {
        let mut refs = Vec::new();
        for c in &self.containers {
            refs.extend(c.secrets.iter().cloned());
            if let Some(cred) = &c.repository_credentials {
                refs.push(SecretRef {
                    container: c.name.clone(),
                    name: "repositoryCredentials".into(),
                    value_from: cred.clone(),
                });
            }
        }
        refs
    }
}

/// A service event ("(service web) was unable to place a task …").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    pub id: Option<String>,
    pub created_at: Option<String>,
    pub message: String,
}

/// The parts of a service a diagnosis looks at.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Service {
    pub arn: String,
    pub name: String,
    pub status: Option<String>,
    pub task_definition_arn: Option<String>,
    pub desired_count: i32,
    pub running_count: i32,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
}

/// A managed or customer-managed policy attached to a role, with its default version's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachedPolicy {
    pub arn: String,
    pub name: String,
    /// `None` when the document could not be read (see the report's errors).
    pub document: Option<Value>,
}

/// An IAM role with every policy that governs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub trust_policy: Option<Value>,
    /// Inline policies: name → document.
    pub inline_policies: BTreeMap<String, Value>,
    pub attached_policies: Vec<AttachedPolicy>,
    pub permissions_boundary: Option<AttachedPolicy>,
}

/// A Secrets Manager secret's metadata (DescribeSecret; the value is never read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretMetadata {
    pub arn: String,
    pub name: String,
    /// `None` means the AWS managed key `aws/secretsmanager`.
    pub kms_key_id: Option<String>,
    pub deleted_date: Option<String>,
}

/// An SSM parameter's metadata (DescribeParameters; the value is never read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterMetadata {
    pub name: String,
    pub kind: Option<String>,
    /// Only for SecureString parameters.
    pub kms_key_id: Option<String>,
}

/// A KMS key: its ARN and key policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmsKey {
    pub arn: String,
    pub key_id: String,
    pub key_manager: Option<String>,
    pub key_state: Option<String>,
    pub policy: Option<Value>,
}

/// A log group's existence check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub arn: Option<String>,
    pub kms_key_id: Option<String>,
}

/// An ECR image lookup: the repository, the tag or digest asked for, and what ECR said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EcrImage {
    pub registry_id: String,
    pub region: String,
    pub repository: String,
    pub reference: ImageReference,
    pub digest: Option<String>,
    pub tags: Vec<String>,
}

/// How an image names its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageReference {
    Tag(String),
    Digest(String),
}

/// A private ECR image named by a container definition: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcrImageName {
    pub registry_id: String,
    pub region: String,
    pub repository: String,
    pub reference: ImageReference,
}

impl EcrImageName {
    /// Parses a private ECR image URI; `None` for any other registry.
    pub fn parse(image: &str) -> Option<EcrImageName> {
        let (host, path) = image.split_once('/')?;
        let mut host_parts = host.split('.');
        let registry_id = host_parts.next()?;
        if host_parts.next()? != "dkr" {
            return None;
        }
        let ecr = host_parts.next()?;
        if ecr != "ecr" && ecr != "ecr-fips" {
            return None;
        }
        let region = host_parts.next()?;
        if registry_id.len() != 12 || !registry_id.bytes().all(|b| b.is_ascii_digit()) || region.is_empty() {
            return None;
        }
        let (repository, reference) = if let Some((repo, digest)) = path.split_once('@') {
            (repo, ImageReference::Digest(digest.to_string()))
        } else {
            // A tag follows the last ':' after the last '/'.
            let last_slash = path.rfind('/').map_or(0, |i| i + 1);
            match path[last_slash..].rfind(':') {
                Some(i) => (&path[..last_slash + i], ImageReference::Tag(path[last_slash + i + 1..].to_string())),
                None => (path, ImageReference::Tag("latest".to_string())),
            }
        };
        if repository.is_empty() {
            return None;
        }
        Some(EcrImageName {
            registry_id: registry_id.to_string(),
            region: region.to_string(),
            repository: repository.to_string(),
            reference,
        })
    }

    /// The repository ARN in the given partition.
    pub fn repository_arn(&self, partition: &str) -> String {
        format!("arn:{partition}:ecr:{}:{}:repository/{}", self.region, self.registry_id, self.repository)
    }
}

/// Where a `valueFrom` points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SecretTarget {
    /// A Secrets Manager secret: `arn` is the secret's own ARN (without `:json-key:stage:version`), or `None`
    /// when referenced by name.
    SecretsManager { region: Option<String>, account: Option<String>, arn: Option<String>, name: String },
    /// An SSM parameter, by ARN or by name (a name starts with `/` or has no `arn:` prefix).
    Ssm { region: Option<String>, account: Option<String>, name: String },
}

impl SecretTarget {
    /// Reads a `valueFrom`. A bare name is taken as an SSM parameter, as ECS does for `secrets`; `repository_credentials`
    /// names a Secrets Manager secret.
    pub fn parse(value_from: &str, is_repository_credentials: bool) -> SecretTarget {
        let parts: Vec<&str> = value_from.split(':').collect();
        if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[5] == "secret" {
            let arn = parts[..7].join(":");
            // The ARN of a secret ends with `-` and six random characters; the name is what precedes them.
            let full = parts[6];
            let name = match full.rsplit_once('-') {
                Some((base, suffix)) if suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) => base,
                _ => full,
            };
            return SecretTarget::SecretsManager {
                region: Some(parts[3].to_string()),
                account: Some(parts[4].to_string()),
                arn: Some(arn),
                name: name.to_string(),
            };
        }
        if parts.len() >= 6 && parts[0] == "arn" && parts[2] == "ssm" {
            let resource = parts[5..].join(":");
            let name = resource.strip_prefix("parameter").unwrap_or(&resource);
            let name = if name.starts_with('/') && name.matches('/').count() == 1 {
                // `parameter/name` (no hierarchy) is the parameter `name`.
                name.trim_start_matches('/').to_string()
            } else {
                name.to_string()
            };
            return SecretTarget::Ssm { region: Some(parts[3].to_string()), account: Some(parts[4].to_string()), name };
        }
        if is_repository_credentials {
            SecretTarget::SecretsManager { region: None, account: None, arn: None, name: value_from.to_string() }
        } else {
            SecretTarget::Ssm { region: None, account: None, name: value_from.to_string() }
        }
    }
}

/// The outcome of looking something up: found, known not to exist, or not checked (the call failed; the
/// report's errors say why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "state", content = "value", rename_all = "kebab-case")]
pub enum Lookup<T> {
    Found(T),
    Missing,
    #[default]
    Unknown,
}

impl<T> Lookup<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// A referenced secret or parameter and what its lookups found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretFacts {
    pub reference: SecretRef,
    pub target: SecretTarget,
    /// The region it was looked up in (the ARN's, else the task's).
    pub region: String,
    pub secret: Lookup<SecretMetadata>,
    pub parameter: Lookup<ParameterMetadata>,
    /// When a secret ARN points at another region and nothing is there: the secret of the same name in the
    /// task's region, if one exists.
    pub same_name_in_task_region: Option<SecretMetadata>,
    /// The customer managed key that encrypts it (resolved with DescribeKey, policy from GetKeyPolicy).
    pub key: Lookup<KmsKey>,
}

/// An ECR image a container definition names and what ECR said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    pub container: String,
    pub name: EcrImageName,
    pub image: Lookup<EcrImage>,
    /// `false` when the repository itself does not exist.
    pub repository_exists: Option<bool>,
    pub repository_policy: Lookup<Value>,
}

/// Everything the gather plan learnt about one task: the input of the fact rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskEvidence {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub task: Option<Task>,
    /// Where `task` came from (`ecs:DescribeTasks`, `--task-event FILE`, `CloudTrail RunTask`).
    pub task_source: Option<String>,
    /// `true` when DescribeTasks answered MISSING (the task stopped more than about an hour ago).
    pub task_expired: bool,
    pub task_definition: Option<TaskDefinition>,
    /// Role ARN → the role, or `Missing` (NoSuchEntity), or `Unknown`.
    pub roles: BTreeMap<String, Lookup<Role>>,
    /// awslogs group name → lookup.
    pub log_groups: BTreeMap<String, Lookup<LogGroup>>,
    pub images: Vec<ImageFacts>,
    pub secrets: Vec<SecretFacts>,
    /// CloudTrail records made by the task's role sessions (or naming the task), parsed JSON.
    pub trail_events: Vec<Value>,
}

impl TaskEvidence {
    /// The task's id (the role session name of its roles), from the task or nothing.
    pub fn task_id(&self) -> Option<&str> {
        self.task.as_ref().and_then(|t| t.arn.rsplit('/').next())
    }

    pub fn role(&self, arn: Option<&str>) -> Option<&Role> {
        arn.and_then(|a| self.roles.get(a)).and_then(Lookup::found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_arn_with_and_without_cluster() {
        let r = TaskRef::parse("arn:aws:ecs:eu-west-1:123456789012:task/prod/0f4a1b2c3d4e5f60718293a4b5c6d7e8")
            .expect("task arn");
        assert_eq!(r.region, "eu-west-1");
        assert_eq!(r.cluster.as_deref(), Some("prod"));
        assert_eq!(r.task_id, "0f4a1b2c3d4e5f60718293a4b5c6d7e8");
        let old = TaskRef::parse("arn:aws-cn:ecs:cn-north-1:123456789012:task/1234").expect("old format");
        assert_eq!(old.partition, "aws-cn");
        assert_eq!(old.cluster, None);
        assert_eq!(TaskRef::parse("arn:aws:ecs:eu-west-1:123456789012:service/prod/web"), None);
        assert_eq!(TaskRef::parse("0f4a1b2c"), None);
    }

    #[test]
    fn ecr_image_names() {
        let i = EcrImageName::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2").expect("ecr");
        assert_eq!(i.repository, "team/app");
        assert_eq!(i.reference, ImageReference::Tag("1.2".into()));
        assert_eq!(i.repository_arn("aws"), "arn:aws:ecr:us-east-1:123456789012:repository/team/app");
        let d = EcrImageName::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc").expect("digest");
        assert_eq!(d.reference, ImageReference::Digest("sha256:abc".into()));
        let latest = EcrImageName::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/app").expect("latest");
        assert_eq!(latest.reference, ImageReference::Tag("latest".into()));
        assert_eq!(EcrImageName::parse("nginx:1.25"), None);
        assert_eq!(EcrImageName::parse("public.ecr.aws/nginx/nginx:1"), None);
        assert_eq!(EcrImageName::parse("localhost:5000/app:1"), None);
    }

    #[test]
    fn secret_targets() {
        let t = SecretTarget::parse(
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-password-AbCdEf:password::",
            false,
        );
        assert_eq!(
            t,
            SecretTarget::SecretsManager {
                region: Some("us-west-2".into()),
                account: Some("123456789012".into()),
                arn: Some("arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/db-password-AbCdEf".into()),
                name: "prod/db-password".into(),
            }
        );
        let p = SecretTarget::parse("arn:aws:ssm:us-east-1:123456789012:parameter/app/db/url", false);
        assert_eq!(
            p,
            SecretTarget::Ssm {
                region: Some("us-east-1".into()),
                account: Some("123456789012".into()),
                name: "/app/db/url".into()
            }
        );
        let flat = SecretTarget::parse("arn:aws:ssm:us-east-1:123456789012:parameter/token", false);
        assert!(matches!(flat, SecretTarget::Ssm { ref name, .. } if name == "token"));
        assert!(matches!(SecretTarget::parse("token", false), SecretTarget::Ssm { region: None, .. }));
        assert!(matches!(SecretTarget::parse("creds", true), SecretTarget::SecretsManager { arn: None, .. }));
    }
}
