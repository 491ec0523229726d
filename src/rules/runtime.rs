//! Runtime and lifecycle: the container ran (or the host did) and something ended it.

use super::{Rule, Scan, alternative};
use crate::model::{Cause, Confidence, Finding, RoleKind, Severity};

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "runtime.out-of-memory",
        family: "runtime",
        title: "A container was killed for exceeding its memory limit",
        cause: Cause::ContainerOutOfMemory,
        yields: &[],
        patterns: &[
            r"(?i)OutOfMemoryError",
            r"(?i)OOMKilled",
            r"(?i)killed due to memory usage",
            r"(?i)\bout of memory\b",
        ],
        extracts: &["container", "exit_code"],
        explanation: "The kernel OOM killer ended the container when it exceeded its hard `memory` limit (or the \
                      task's memory). Exit code 137 without this text can be the same thing or any SIGKILL.",
        fix: "Raise the container's `memory` (and the task's memory) or lower the application's footprint \
              (JVM -Xmx, worker count).",
        generic: false,
        apply: out_of_memory,
    },
    Rule {
        id: "runtime.elb-health-check",
        family: "runtime",
        title: "The load balancer marked the task unhealthy",
        cause: Cause::HealthCheckFailed,
        yields: &[],
        patterns: &[
            r"(?i)failed ELB health checks",
            r"(?i)failed (?:the )?load balancer health check",
            r"(?i)Target\.(?:ResponseCodeMismatch|Timeout|FailedHealthChecks)",
        ],
        extracts: &["load_balancer"],
        explanation: "The target group's health check did not pass within the grace period: wrong port or path, \
                      a slow start longer than `healthCheckGracePeriodSeconds`, or a security group that blocks the \
                      load balancer.",
        fix: "Check the target group's health check path/port/matcher, raise the service's health check grace \
              period, and allow the load balancer's security group to the container port.",
        generic: false,
        apply: elb_health,
    },
    Rule {
        id: "runtime.container-health-check",
        family: "runtime",
        title: "The container's own health check failed",
        cause: Cause::HealthCheckFailed,
        yields: &[],
        patterns: &[
            r"(?i)failed container health checks",
            r"(?i)container health ?check[^\n]{0,40}(?:failed|unhealthy)",
        ],
        extracts: &["container"],
        explanation: "The `healthCheck` command of an essential container returned non-zero `retries` times after \
                      `startPeriod`.",
        fix: "Run the health check command inside the image by hand; make sure its binary (curl, wget) exists and \
              raise `startPeriod` for slow starts.",
        generic: false,
        apply: container_health,
    },
    Rule {
        id: "runtime.spot-interruption",
        family: "runtime",
        title: "Fargate Spot (or the Spot instance) was reclaimed",
        cause: Cause::SpotInterruption,
        yields: &[],
        patterns: &[r"(?i)Spot Task was interrupted", r"(?i)spot interruption", r"(?i)SpotInterruption"],
        extracts: &[],
        explanation: "AWS reclaimed the Spot capacity with a two-minute warning (SIGTERM, then SIGKILL after \
                      `stopTimeout`).",
        fix: "Handle SIGTERM, keep a FARGATE (on-demand) base in the capacity provider strategy, and retry the task.",
        generic: false,
        apply: spot,
    },
    Rule {
        id: "runtime.scaling-or-deployment",
        family: "runtime",
        title: "The service stopped the task on purpose (scale-in, deployment, user)",
        cause: Cause::ScalingOrDeployment,
        yields: &[],
        patterns: &[
            r"(?i)Scaling activity initiated by",
            r"(?i)Task stopped by user",
            r"(?i)ServiceSchedulerInitiated",
            r"(?i)UserInitiated",
            r"(?i)deployment [\w/-]+ (?:has )?(?:been )?(?:replaced|stopped|rolled back)",
        ],
        extracts: &["deployment"],
        explanation: "Tasks stopped by a scale-in, a new deployment or a user's StopTask are not failures.",
        fix: "Nothing to fix; look at the deployment's other tasks if it is rolling back.",
        generic: false,
        apply: scaling,
    },
    Rule {
        id: "runtime.host-stopped",
        family: "runtime",
        title: "The container instance went away",
        cause: Cause::HostFailure,
        yields: &[],
        patterns: &[
            r"(?i)Host EC2 \(?instance",
            r"(?i)Container instance deregistration",
            r"(?i)instance[^\n]{0,30}(?:stopped|terminated)",
            r"(?i)scheduled (?:for )?retirement",
            r"(?i)Task is being retired",
        ],
        extracts: &["instance_id"],
        explanation: "The EC2 instance was stopped, terminated, force-deregistered or retired (Fargate task \
                      retirement for patching) with the task on it.",
        fix: "Run enough tasks across AZs to tolerate it; for ASG scale-in enable managed termination protection / \
              instance draining.",
        generic: false,
        apply: host_stopped,
    },
    Rule {
        id: "runtime.host-disk-full",
        family: "runtime",
        title: "The container instance ran out of disk space",
        cause: Cause::HostFailure,
        yields: &[],
        patterns: &[r"(?i)no space left on device", r"(?i)Thin Pool has \d+ free data blocks", r"(?i)devmapper"],
        extracts: &[],
        explanation: "Docker's storage (root volume or thin pool) is full: old images and json-file logs without \
                      `max-size` fill it.",
        fix: "Free space (prune images, cap json-file logs with `max-size`), enlarge the volume, or tune \
              ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION / automated image cleanup.",
        generic: false,
        apply: disk_full,
    },
    Rule {
        id: "runtime.agent-timeout",
        family: "runtime",
        title: "The container runtime or agent timed out",
        cause: Cause::HostFailure,
        yields: &[],
        patterns: &[
            r"(?i)ContainerRuntimeTimeoutError",
            r"(?i)DockerTimeoutError",
            r"(?i)CannotInspectContainerError",
            r"(?i)CannotStopContainerError",
            r"(?i)CannotCreateContainerError",
            r"(?i)network interface provisioning",
            r"(?i)Could not transition to",
            r"(?i)ContainerRuntimeError",
        ],
        extracts: &[],
        explanation: "The agent gave up waiting on the container runtime (Docker / containerd): usually an \
                      overloaded or unhealthy host (disk I/O, too many containers), or an ENI that was not attached \
                      in time.",
        fix: "Replace or right-size the container instance; for ENI provisioning timeouts check the instance's ENI \
              limits (awsvpc trunking) and the subnet's free IP addresses.",
        generic: false,
        apply: agent_timeout,
    },
    Rule {
        id: "runtime.no-capacity",
        family: "runtime",
        title: "No container instance had the resources the task asks for",
        cause: Cause::HostFailure,
        yields: &[],
        patterns: &[
            r"(?i)RESOURCE:(?:CPU|MEMORY|PORTS|ENI|GPU)",
            r"(?i)no container instance met all of its requirements",
            r"(?i)unable to place a task",
        ],
        extracts: &[],
        explanation: "The scheduler found no registered instance with enough free CPU, memory, ports or ENIs for the \
                      task.",
        fix: "Add capacity (capacity provider / ASG), or lower the task's cpu/memory reservations.",
        generic: false,
        apply: no_capacity,
    },
    Rule {
        id: "runtime.essential-container-exited",
        family: "runtime",
        title: "An essential container exited",
        cause: Cause::EssentialContainerExited,
        yields: &[],
        patterns: &[r"(?i)Essential container in task exited", r"(?i)essential container[^\n]{0,40}exited"],
        extracts: &["container", "exit_code"],
        explanation: "A container marked essential stopped, so ECS stopped the task. The container's own exit code \
                      and reason (and its logs) say why: 1 an application error, 137 SIGKILL (often OOM), 139 a \
                      segfault, 143 SIGTERM.",
        fix: "Read the container's logs and exit code; the container reason usually names the real cause.",
        generic: false,
        apply: essential_exited,
    },
];

pub(super) static GENERIC: &[Rule] = &[Rule {
    id: "runtime.cannot-start",
    family: "runtime",
    title: "A container could not be started (the text does not say why)",
    cause: Cause::HostFailure,
    yields: &[],
    patterns: &[r"(?i)CannotStartContainerError", r"(?i)TaskFailedToStart", r"(?i)\bInternalError\b"],
    extracts: &[],
    explanation: "The runtime failed to start the container. The reason after the prefix decides: a missing \
                  executable, an architecture mismatch, memory, or a host problem.",
    fix: "Read the reason after the prefix; check the image's entry point and the task's memory.",
    generic: true,
    apply: cannot_start,
}];

fn container(scan: &Scan) -> String {
    scan.fact("container").map(|c| format!("container `{c}`")).unwrap_or("a container".into())
}

fn out_of_memory(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::ContainerOutOfMemory,
        Confidence::High,
        format!("{} was killed for using more memory than its limit", container(scan)),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn elb_health(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let lb = scan.fact("load_balancer").map(|l| format!(" of `{l}`")).unwrap_or_default();
    let mut f = scan.finding(
        rule,
        Cause::HealthCheckFailed,
        Confidence::High,
        format!("the task failed the load balancer health checks{lb}"),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn container_health(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::HealthCheckFailed,
        Confidence::High,
        format!("{} failed its health check", container(scan)),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn spot(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f =
        scan.finding(rule, Cause::SpotInterruption, Confidence::High, "the Spot capacity was reclaimed by AWS".into());
    f.severity = Severity::Warning;
    f.role_kind = RoleKind::Unknown;
    f.alternatives.push(alternative(Cause::HostFailure, Confidence::Low, "the host went away"));
    Some(f)
}

fn scaling(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let summary = if scan.mentions(&["stopped by user", "UserInitiated"]) {
        "someone stopped the task (StopTask)".to_string()
    } else {
        "the service stopped the task on purpose (scale-in or deployment)".to_string()
    };
    let mut f = scan.finding(rule, Cause::ScalingOrDeployment, Confidence::High, summary);
    f.severity = Severity::Info;
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn host_stopped(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::HostFailure,
        Confidence::High,
        "the task's host was stopped, terminated or deregistered".into(),
    );
    f.severity = Severity::Warning;
    f.role_kind = RoleKind::Unknown;
    if scan.mentions(&["deregistration forced by user"]) {
        f.alternatives.push(alternative(
            Cause::ScalingOrDeployment,
            Confidence::Medium,
            "a user or automation drained the instance",
        ));
    }
    Some(f)
}

fn disk_full(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::HostFailure,
        Confidence::High,
        "the container instance's Docker storage is full".into(),
    );
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn agent_timeout(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let eni = scan.mentions(&["network interface provisioning"]);
    let summary = if eni {
        "the task's network interface was not attached in time".to_string()
    } else {
        "the container runtime on the host did not respond in time".to_string()
    };
    let mut f = scan.finding(rule, Cause::HostFailure, Confidence::Medium, summary);
    f.role_kind = RoleKind::Unknown;
    if eni {
        f.alternatives.push(alternative(
            Cause::NetworkUnreachable,
            Confidence::Low,
            "the subnet may be out of free IP addresses",
        ));
    }
    Some(f)
}

fn no_capacity(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f = scan.finding(
        rule,
        Cause::HostFailure,
        Confidence::Medium,
        "no container instance has the CPU, memory, ports or ENIs the task needs".into(),
    );
    f.role_kind = RoleKind::Unknown;
    f.alternatives.push(alternative(
        Cause::InvalidTaskDefinition,
        Confidence::Low,
        "the task may reserve more than any instance type offers",
    ));
    Some(f)
}

fn essential_exited(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let code = scan.fact("exit_code");
    let with = code.map(|c| format!(" with exit code {c}")).unwrap_or_default();
    let mut f = scan.finding(
        rule,
        Cause::EssentialContainerExited,
        Confidence::High,
        format!("an essential container exited{with}; its own reason and logs say why"),
    );
    f.role_kind = RoleKind::Unknown;
    if code == Some("137") {
        f.alternatives.push(alternative(
            Cause::ContainerOutOfMemory,
            Confidence::Medium,
            "exit code 137 is SIGKILL, most often the OOM killer",
        ));
    }
    Some(f)
}

fn cannot_start(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let mut f =
        scan.finding(rule, Cause::HostFailure, Confidence::Low, format!("{} could not be started", container(scan)));
    f.role_kind = RoleKind::Unknown;
    f.alternatives.push(alternative(
        Cause::ContainerOutOfMemory,
        Confidence::Low,
        "the container may need more memory",
    ));
    f.alternatives.push(alternative(
        Cause::InvalidTaskDefinition,
        Confidence::Low,
        "the command or entry point may be wrong",
    ));
    Some(f)
}
