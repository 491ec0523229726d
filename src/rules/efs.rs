//! EFS: a volume could not be mounted.

use super::{Rule, Scan, alternative};
use crate::model::{Cause, Confidence, Finding, RoleKind};

pub(super) static RULES: &[Rule] = &[Rule {
    id: "efs.mount-failed",
    family: "efs",
    title: "The EFS volume could not be mounted",
    cause: Cause::EfsMountFailed,
    yields: &[],
    patterns: &[
        r"(?i)EFS utils",
        r"(?i)efs-utils",
        r"(?i)mount\.nfs4?:",
        r#"(?i)failed to resolve \\?"?fs-"#,
        r"(?i)lookup mount target",
        r"(?i)EFS volumes?",
        r"(?i)CannotCreateVolumeError",
    ],
    extracts: &["file_system_id", "access_point_id"],
    explanation: "ECS mounts EFS with efs-utils over NFS (TCP 2049). The mount fails when the file system has no \
                  mount target in the task's Availability Zone, the mount target's security group does not allow \
                  2049 from the task, the VPC lacks DNS hostnames/resolution, the root directory does not exist (use \
                  an access point that creates it), or IAM authorization denies elasticfilesystem:ClientMount to the \
                  task role.",
    fix: "Allow TCP 2049 from the task's security group to the mount targets, create a mount target in every AZ the \
          service uses, enable DNS hostnames, and use an access point for a sub-directory.",
    generic: false,
    apply,
}];

fn apply(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let fs = scan.fact("file_system_id").map(|f| format!("`{f}`")).unwrap_or("the EFS file system".into());
    let network = scan.mentions(&[
        "timed out",
        "Connection reset",
        "Failed to resolve",
        "lookup mount target",
        "botocore",
        "No route to host",
        "connection refused",
    ]);
    let missing_dir = scan.mentions(&["No such file or directory"]);
    let denied = scan.mentions(&["access denied by server", "Permission denied", "ClientMount"]);
    let (summary, confidence) = if missing_dir {
        (format!("{fs} has no such directory to mount (create it, or mount through an access point)"), Confidence::High)
    } else if denied {
        (format!("{fs} refused the mount (IAM authorization or the file system policy)"), Confidence::High)
    } else if network {
        (
            format!("{fs} could not be reached for mounting (security group 2049, mount target in the AZ, DNS)"),
            Confidence::Medium,
        )
    } else {
        (format!("{fs} could not be mounted"), Confidence::Medium)
    };
    let mut f = scan.finding(rule, Cause::EfsMountFailed, confidence, summary);
    f.role_kind = if denied { RoleKind::Task } else { RoleKind::Unknown };
    if network {
        f.alternatives.push(alternative(
            Cause::NetworkUnreachable,
            Confidence::Medium,
            "the task cannot reach the mount target (security group, missing mount target, VPC DNS)",
        ));
    }
    Some(f)
}
