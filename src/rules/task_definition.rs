//! Task definition: a value ECS or the runtime rejects.

use super::{Rule, Scan};
use crate::model::{Cause, Confidence, Finding, RoleKind};

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "taskdef.fargate-cpu-memory",
        family: "taskdef",
        title: "The task's CPU/memory combination is not a Fargate size",
        cause: Cause::InvalidTaskDefinition,
        yields: &[],
        patterns: &[
            r"(?i)No Fargate configuration exists for given values",
            r"(?i)Invalid '?(?:cpu|memory)'? (?:setting|value)",
            r"(?i)(?:cpu|memory) (?:value|setting)[^\n]{0,60}(?:invalid|not supported)",
        ],
        extracts: &[],
        explanation: "Fargate accepts only fixed CPU/memory pairs: 256 with 512-2048 MiB, 512 with 1-4 GiB, 1024 \
                      with 2-8 GiB, 2048 with 4-16 GiB, 4096 with 8-30 GiB, 8192 with 16-60 GiB (4 GiB steps) and \
                      16384 with 32-120 GiB (8 GiB steps).",
        fix: "Set the task-level `cpu` and `memory` to a supported pair.",
        generic: false,
        apply: fargate_size,
    },
    Rule {
        id: "taskdef.execution-role-required",
        family: "taskdef",
        title: "The task definition needs an execution role",
        cause: Cause::InvalidTaskDefinition,
        yields: &[],
        patterns: &[
            r"(?i)requires? (?:the )?(?:task definition to have )?(?:an )?execution ?role",
            r"(?i)execution role (?:arn )?(?:is )?(?:required|missing)",
        ],
        extracts: &[],
        explanation: "ECR images, awslogs, secrets and private registry credentials are fetched by the execution role; \
                      on Fargate a task definition that uses any of them must name one.",
        fix: "Set `executionRoleArn` to a role with AmazonECSTaskExecutionRolePolicy (plus the secrets it reads).",
        generic: false,
        apply: execution_role_required,
    },
    Rule {
        id: "taskdef.network-mode",
        family: "taskdef",
        title: "The network mode is not supported by the launch type",
        cause: Cause::InvalidTaskDefinition,
        yields: &[],
        patterns: &[r"(?i)only supports? network mode", r"(?i)network mode[^\n]{0,40}(?:not supported|must be awsvpc)"],
        extracts: &[],
        explanation: "Fargate tasks must use the awsvpc network mode.",
        fix: "Set `networkMode` to `awsvpc` and pass subnets and security groups when running the task.",
        generic: false,
        apply: network_mode,
    },
    Rule {
        id: "taskdef.command-not-found",
        family: "taskdef",
        title: "The container's command or entry point does not exist in the image",
        cause: Cause::InvalidTaskDefinition,
        yields: &[],
        patterns: &[
            r"(?i)executable file not found in \$PATH",
            r"(?i)exec: [^\n]{0,80}: (?:no such file or directory|permission denied)",
            r"(?i)OCI runtime create failed",
        ],
        extracts: &["container"],
        explanation: "The runtime could not start the process: the `command`/`entryPoint` names a file that is not in \
                      the image, is not executable, or a script's interpreter (`#!`) is missing.",
        fix: "Fix the container definition's `command`/`entryPoint` (or the image's ENTRYPOINT) to an executable that \
              exists in the image.",
        generic: false,
        apply: command_not_found,
    },
];

fn fargate_size(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::InvalidTaskDefinition,
        Confidence::High,
        "the task's cpu/memory pair is not one Fargate offers".into(),
    );
    f.action = Some("ecs:RegisterTaskDefinition".into());
    f.role_kind = RoleKind::Caller;
    Some(f)
}

fn execution_role_required(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::InvalidTaskDefinition,
        Confidence::High,
        "the task definition has no execution role but uses ECR, awslogs or secrets".into(),
    );
    f.role_kind = RoleKind::Execution;
    Some(f)
}

fn network_mode(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    Some(scan.finding(
        rule,
        Cause::InvalidTaskDefinition,
        Confidence::High,
        "the task definition's network mode is not supported by its launch type (Fargate needs awsvpc)".into(),
    ))
}

fn command_not_found(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::InvalidTaskDefinition,
        Confidence::Medium,
        "the container's command or entry point is not an executable in the image".into(),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}
