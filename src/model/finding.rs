//! The output contract (schema version 1). Fields may be added; existing names never change.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Version of the JSON document. Bump only on a breaking change (which we never make).
pub const SCHEMA_VERSION: u32 = 1;

/// Stable cause ids. The kebab-case spelling is the contract: people script against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    IdentityPolicyDenied,
    ResourcePolicyDenied,
    PermissionsBoundaryDenied,
    SessionPolicyDenied,
    ScpDenied,
    RcpDenied,
    VpcEndpointPolicyDenied,
    ExplicitDenyUnattributed,
    AccessDeniedUnattributed,
    TrustPolicyDenied,
    PassroleDenied,
    KmsKeyUnusable,
    ImagePullDenied,
    ImageNotFound,
    ImagePlatformMismatch,
    RegistryRateLimited,
    RegistryAuthFailed,
    NetworkUnreachable,
    SecretNotFound,
    SsmParameterNotFound,
    LogGroupNotFound,
    RoleNotFound,
    InvalidSecretReference,
    InvalidTaskDefinition,
    ServiceLinkedRoleMissing,
    EfsMountFailed,
    ContainerOutOfMemory,
    EssentialContainerExited,
    HealthCheckFailed,
    SpotInterruption,
    HostFailure,
    ScalingOrDeployment,
    /// Policy lint: `Resource: "*"` on an action that supports resource-level scoping.
    OverlyBroadResource,
    /// Policy lint: an execution role that grants application permissions (the task role's job).
    ExecutionRoleHasAppPermissions,
    /// Policy lint: a trust policy for `ecs-tasks.amazonaws.com` without `aws:SourceAccount`/`aws:SourceArn`.
    TrustPolicyUnconditioned,
    /// Policy lint: an action scoped to an ARN it cannot use, so the statement silently never matches.
    ActionScopedToUnusableArn,
    Unknown,
}

impl Cause {
    pub const ALL: &'static [Cause] = &[
        Cause::IdentityPolicyDenied,
        Cause::ResourcePolicyDenied,
        Cause::PermissionsBoundaryDenied,
        Cause::SessionPolicyDenied,
        Cause::ScpDenied,
        Cause::RcpDenied,
        Cause::VpcEndpointPolicyDenied,
        Cause::ExplicitDenyUnattributed,
        Cause::AccessDeniedUnattributed,
        Cause::TrustPolicyDenied,
        Cause::PassroleDenied,
        Cause::KmsKeyUnusable,
        Cause::ImagePullDenied,
        Cause::ImageNotFound,
        Cause::ImagePlatformMismatch,
        Cause::RegistryRateLimited,
        Cause::RegistryAuthFailed,
        Cause::NetworkUnreachable,
        Cause::SecretNotFound,
        Cause::SsmParameterNotFound,
        Cause::LogGroupNotFound,
        Cause::RoleNotFound,
        Cause::InvalidSecretReference,
        Cause::InvalidTaskDefinition,
        Cause::ServiceLinkedRoleMissing,
        Cause::EfsMountFailed,
        Cause::ContainerOutOfMemory,
        Cause::EssentialContainerExited,
        Cause::HealthCheckFailed,
        Cause::SpotInterruption,
        Cause::HostFailure,
        Cause::ScalingOrDeployment,
        Cause::OverlyBroadResource,
        Cause::ExecutionRoleHasAppPermissions,
        Cause::TrustPolicyUnconditioned,
        Cause::ActionScopedToUnusableArn,
        Cause::Unknown,
    ];

    /// The stable id, as written in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Cause::IdentityPolicyDenied => "identity-policy-denied",
            Cause::ResourcePolicyDenied => "resource-policy-denied",
            Cause::PermissionsBoundaryDenied => "permissions-boundary-denied",
            Cause::SessionPolicyDenied => "session-policy-denied",
            Cause::ScpDenied => "scp-denied",
            Cause::RcpDenied => "rcp-denied",
            Cause::VpcEndpointPolicyDenied => "vpc-endpoint-policy-denied",
            Cause::ExplicitDenyUnattributed => "explicit-deny-unattributed",
            Cause::AccessDeniedUnattributed => "access-denied-unattributed",
            Cause::TrustPolicyDenied => "trust-policy-denied",
            Cause::PassroleDenied => "passrole-denied",
            Cause::KmsKeyUnusable => "kms-key-unusable",
            Cause::ImagePullDenied => "image-pull-denied",
            Cause::ImageNotFound => "image-not-found",
            Cause::ImagePlatformMismatch => "image-platform-mismatch",
            Cause::RegistryRateLimited => "registry-rate-limited",
            Cause::RegistryAuthFailed => "registry-auth-failed",
            Cause::NetworkUnreachable => "network-unreachable",
            Cause::SecretNotFound => "secret-not-found",
            Cause::SsmParameterNotFound => "ssm-parameter-not-found",
            Cause::LogGroupNotFound => "log-group-not-found",
            Cause::RoleNotFound => "role-not-found",
            Cause::InvalidSecretReference => "invalid-secret-reference",
            Cause::InvalidTaskDefinition => "invalid-task-definition",
            Cause::ServiceLinkedRoleMissing => "service-linked-role-missing",
            Cause::EfsMountFailed => "efs-mount-failed",
            Cause::ContainerOutOfMemory => "container-out-of-memory",
            Cause::EssentialContainerExited => "essential-container-exited",
            Cause::HealthCheckFailed => "health-check-failed",
            Cause::SpotInterruption => "spot-interruption",
            Cause::HostFailure => "host-failure",
            Cause::ScalingOrDeployment => "scaling-or-deployment",
            Cause::OverlyBroadResource => "overly-broad-resource",
            Cause::ExecutionRoleHasAppPermissions => "execution-role-has-app-permissions",
            Cause::TrustPolicyUnconditioned => "trust-policy-unconditioned",
            Cause::ActionScopedToUnusableArn => "action-scoped-to-unusable-arn",
            Cause::Unknown => "unknown",
        }
    }

    pub fn from_id(id: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.id() == id)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Which of a task's identities made the call. The execution role is ECS's own (pull, logs, secrets);
/// the task role is the application's; `caller` is whoever ran/registered the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    Execution,
    Task,
    Caller,
    #[default]
    Unknown,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Execution => "execution",
            RoleKind::Task => "task",
            RoleKind::Caller => "caller",
            RoleKind::Unknown => "unknown",
        }
    }
}

/// The policy layer that decided a denial, as AWS names it in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    Identity,
    Resource,
    PermissionsBoundary,
    Session,
    Scp,
    Rcp,
    VpcEndpoint,
    Trust,
    Key,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::PermissionsBoundary => "permissions-boundary",
            PolicyType::Session => "session",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::VpcEndpoint => "vpc-endpoint",
            PolicyType::Trust => "trust",
            PolicyType::Key => "key",
        }
    }
}

/// Where a fix is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixTarget {
    IdentityPolicy,
    ResourcePolicy,
    TrustPolicy,
    KeyPolicy,
    Scp,
    PermissionsBoundary,
    VpcEndpointPolicy,
    Network,
    TaskDefinition,
    Registry,
    Other,
}

impl FixTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            FixTarget::IdentityPolicy => "identity-policy",
            FixTarget::ResourcePolicy => "resource-policy",
            FixTarget::TrustPolicy => "trust-policy",
            FixTarget::KeyPolicy => "key-policy",
            FixTarget::Scp => "scp",
            FixTarget::PermissionsBoundary => "permissions-boundary",
            FixTarget::VpcEndpointPolicy => "vpc-endpoint-policy",
            FixTarget::Network => "network",
            FixTarget::TaskDefinition => "task-definition",
            FixTarget::Registry => "registry",
            FixTarget::Other => "other",
        }
    }
}

/// Where a piece of evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    Cloudtrail,
    StoppedReason,
    ContainerReason,
    ServiceEvent,
    TaskDefinition,
    Iam,
    Kms,
    Ecr,
    Logs,
    SecretsManager,
    Ssm,
    UserInput,
}

/// One observation a finding rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: EvidenceSource,
    pub event_id: Option<String>,
    pub file: Option<String>,
    pub text: Option<String>,
    /// When the observation was made (RFC 3339), where known.
    #[serde(default)]
    pub time: Option<String>,
}

impl Evidence {
    pub fn text(source: EvidenceSource, text: impl Into<String>) -> Self {
        Evidence { source, event_id: None, file: None, text: Some(text.into()), time: None }
    }
}

/// A concrete change that resolves (part of) a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub target: FixTarget,
    /// The role, key, repository, secret … the change is made to, where known.
    pub target_arn: Option<String>,
    pub title: String,
    /// The IAM policy document (or statement set) to apply, where the fix is a policy change.
    pub document: Option<Value>,
    /// AWS CLI commands that apply the fix.
    #[serde(default)]
    pub commands: Vec<String>,
    /// `true` when re-evaluation with the fix applied yields Allowed, `false` when something still blocks,
    /// `null` when it was not checked.
    pub verified: Option<bool>,
    /// Why `verified` is what it is (what still blocks, or what could not be checked).
    #[serde(default)]
    pub verification_note: Option<String>,
    /// The same change as Terraform.
    #[serde(default)]
    pub terraform: Option<String>,
    /// The same change as CloudFormation (YAML).
    #[serde(default)]
    pub cloudformation: Option<String>,
    /// Steps that are not a policy document (network, task definition, registry).
    #[serde(default)]
    pub steps: Vec<String>,
    /// The smallest change to an existing policy: `{"policy": name-or-ARN, "operations": [RFC 6902 JSON Patch]}`
    /// against the policy's current document, where the policy is known.
    #[serde(default)]
    pub patch: Option<Value>,
}

impl Fix {
    pub fn new(target: FixTarget, title: impl Into<String>) -> Self {
        Fix {
            target,
            target_arn: None,
            title: title.into(),
            document: None,
            commands: Vec::new(),
            verified: None,
            verification_note: None,
            terraform: None,
            cloudformation: None,
            steps: Vec::new(),
            patch: None,
        }
    }
}

/// Another reading of the same evidence, when the text alone cannot tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlternativeCause {
    pub cause: Cause,
    pub confidence: Confidence,
    pub summary: String,
}

/// One diagnosed problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub cause: Cause,
    pub summary: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub principal: Option<String>,
    pub role_kind: RoleKind,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub policy_type: Option<PolicyType>,
    pub policy_arn: Option<String>,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub evidence: Vec<Evidence>,
    pub fixes: Vec<Fix>,
    /// The role session name (for ECS roles: the task id), where known.
    #[serde(default)]
    pub role_session: Option<String>,
    /// Values the rule extracted (image, registry, secret_arn, parameter, log_group, endpoint, …).
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// Other causes the same evidence supports.
    #[serde(default)]
    pub alternatives: Vec<AlternativeCause>,
    /// The evaluator's per-layer decision and deciding statements, where policies were available.
    #[serde(default)]
    pub explanation: Option<Value>,
    /// Request context keys the event supplies (`aws:CurrentTime`, `aws:SourceIp`, `aws:SourceVpce`,
    /// `aws:RequestedRegion`, …) as a JSON object of key → string or list of strings; the explanation and the
    /// fix verification evaluate the request with them.
    #[serde(default)]
    pub request_context: Option<Value>,
}

impl Finding {
    pub fn new(cause: Cause, summary: impl Into<String>) -> Self {
        Finding {
            cause,
            summary: summary.into(),
            severity: Severity::Error,
            confidence: Confidence::Medium,
            principal: None,
            role_kind: RoleKind::Unknown,
            action: None,
            resource: None,
            policy_type: None,
            policy_arn: None,
            count: 1,
            first_seen: None,
            last_seen: None,
            evidence: Vec::new(),
            fixes: Vec::new(),
            role_session: None,
            details: BTreeMap::new(),
            alternatives: Vec::new(),
            explanation: None,
            request_context: None,
        }
    }
}

/// A problem with an input (file, API call) that did not stop the rest of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputError {
    /// The file (or `-`, or `api:Operation resource`) the problem is in.
    pub input: String,
    pub message: String,
    /// Byte offset in the (decompressed) input, where known.
    #[serde(default)]
    pub offset: Option<u64>,
    /// 1-based line, where known.
    #[serde(default)]
    pub line: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: env!("CARGO_PKG_NAME").to_string(), version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

/// The whole document a run prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// Run statistics (files, events scanned, API calls, …): informative, free-form.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, Value>,
}

impl Default for Report {
    fn default() -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            findings: Vec::new(),
            errors: Vec::new(),
            stats: BTreeMap::new(),
        }
    }
}

/// Process exit codes. Documented in the README; scripts depend on them.
pub mod exit_code {
    /// Analysis complete; no finding of severity `error`, no input error.
    pub const CLEAN: i32 = 0;
    /// At least one finding of severity `error` (a cause was found).
    pub const FINDINGS: i32 = 1;
    /// Usage error (bad flags or arguments).
    pub const USAGE: i32 = 2;
    /// Nothing could be analysed (no readable input, no credentials, API unreachable).
    pub const FATAL: i32 = 3;
    /// No `error` finding, but some inputs could not be read; see `errors`.
    pub const PARTIAL: i32 = 4;
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        if self.findings.iter().any(|f| f.severity == Severity::Error) {
            exit_code::FINDINGS
        } else if !self.errors.is_empty() {
            exit_code::PARTIAL
        } else {
            exit_code::CLEAN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_ids_round_trip_through_serde() {
        for cause in Cause::ALL {
            let json = serde_json::to_string(cause).expect("serialize");
            assert_eq!(json, format!("\"{}\"", cause.id()));
            assert_eq!(Cause::from_id(cause.id()), Some(*cause));
        }
    }

    #[test]
    fn exit_code_prefers_findings_over_input_errors() {
        let mut report = Report::default();
        assert_eq!(report.exit_code(), exit_code::CLEAN);
        report.errors.push(InputError { input: "a.json".into(), message: "bad".into(), offset: None, line: None });
        assert_eq!(report.exit_code(), exit_code::PARTIAL);
        report.findings.push(Finding::new(Cause::ImageNotFound, "x"));
        assert_eq!(report.exit_code(), exit_code::FINDINGS);
    }
}
