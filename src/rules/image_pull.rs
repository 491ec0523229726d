//! Image pull: the image does not exist, may not be pulled, or has no variant for the task's platform.

use super::{Rule, Scan, alternative, text};
use crate::model::{Cause, Confidence, Finding, RoleKind};

pub(super) static SPECIFIC: &[Rule] = &[
    Rule {
        id: "image.platform-mismatch",
        family: "image",
        title: "The image has no variant for the task's CPU architecture / OS",
        cause: Cause::ImagePlatformMismatch,
        yields: &[],
        patterns: &[
            r"(?i)exec format error",
            r"(?i)no matching manifest for",
            r"(?i)descriptor (?:for|matching) platform",
            r"(?i)no match for platform",
            r"(?i)image Manifest does not contain descriptor matching platform",
        ],
        extracts: &["image"],
        explanation: "The task runs on linux/amd64 unless `runtimePlatform.cpuArchitecture` says ARM64; an image built \
                      on an Apple-silicon laptop is arm64 only. `exec format error` is the same mismatch found at \
                      start instead of pull.",
        fix: "Build for the task's platform (`docker buildx build --platform linux/amd64,linux/arm64`) or set the task \
              definition's `runtimePlatform.cpuArchitecture` to the image's architecture.",
        generic: false,
        apply: platform_mismatch,
    },
    Rule {
        id: "image.not-found",
        family: "image",
        title: "The image, tag or digest does not exist",
        cause: Cause::ImageNotFound,
        yields: &[Cause::ImagePullDenied],
        patterns: &[
            r"(?i)manifest unknown",
            r"(?i)manifest for \S+ not found",
            r"(?i)repository \S+ not found",
            r"(?i)digest: not found",
            r"(?i)failed to resolve ref[^\n]*: not found",
            r"(?i)does not exist or no pull access",
            r"(?i)name unknown",
            r"(?i)ImageNotFoundException",
            r"(?i)RepositoryNotFoundException",
            r"(?i)repository does not exist",
            r"(?i)pull access denied for",
        ],
        extracts: &["image", "registry", "repository", "tag", "digest"],
        explanation: "The registry has no manifest for the reference: a tag that was never pushed (or was expired \
                      by a lifecycle policy), a digest whose tag was overwritten, a repository name without the \
                      registry (which resolves to Docker Hub), or a repository that does not exist. Registries \
                      answer `pull access denied` / `no pull access` both for missing and for private repositories.",
        fix: "Push the tag (or point the task definition at an existing one / the full ECR URI); for digests, \
              redeploy so ECS resolves the tag again.",
        generic: false,
        apply: not_found,
    },
    Rule {
        id: "image.pull-forbidden",
        family: "image",
        title: "The registry refused the pull (403 / denied)",
        cause: Cause::ImagePullDenied,
        yields: &[],
        patterns: &[
            r"(?i)403 Forbidden",
            r"(?i)\bdenied: ",
            r"(?i)unexpected status code 403",
            r"(?i)status code:? 403",
        ],
        extracts: &["image", "registry", "repository", "tag", "digest"],
        explanation: "The registry authenticated the caller but refused the pull. For ECR: the execution role lacks \
                      ecr:BatchGetImage / ecr:GetDownloadUrlForLayer, the repository is in another account and its \
                      repository policy does not allow the role, or an ECR VPC endpoint / S3 gateway endpoint policy \
                      blocks the layer download.",
        fix: "Allow the ECR pull actions on the repository ARN to the execution role; for another account's \
              repository, add a repository policy statement for the role.",
        generic: false,
        apply: forbidden,
    },
];

pub(super) static GENERIC: &[Rule] = &[Rule {
    id: "image.pull-failed",
    family: "image",
    title: "The image could not be pulled (the text does not say why)",
    cause: Cause::ImagePullDenied,
    yields: &[Cause::ImageNotFound, Cause::RegistryRateLimited],
    patterns: &[
        r"(?i)CannotPull\w*ContainerError",
        r"(?i)httpRead(?:er)?Seeker: failed open",
        r"(?i)API error \(40[0-9]\)",
        r"(?i)failed to (?:copy|resolve ref)",
    ],
    extracts: &["image", "registry"],
    explanation: "CannotPullContainerError wraps every pull failure. Without the inner error, the usual causes are \
                  a missing image, a missing pull permission and no network path to the registry.",
    fix: "Check that the image exists, that the execution role may pull it, and that the subnet reaches the registry.",
    generic: true,
    apply: pull_failed,
}];

fn image_name(scan: &Scan) -> String {
    scan.fact("image").map(|i| format!("image `{i}`")).unwrap_or("the image".into())
}

fn is_ecr(scan: &Scan) -> bool {
    scan.fact("registry").is_some_and(text::is_ecr_host) || scan.mentions(&["CannotPullECRContainerError"])
}

fn platform_mismatch(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let platform =
        ["linux/amd64", "linux/arm64", "linux/arm64/v8", "windows/amd64"].into_iter().find(|p| scan.text.contains(p));
    let summary = match platform {
        Some(p) => format!("{} has no `{p}` variant, the platform the task runs on", image_name(scan)),
        None => format!("{} was built for another CPU architecture than the task's", image_name(scan)),
    };
    let mut f = scan.finding(rule, Cause::ImagePlatformMismatch, Confidence::High, summary);
    if let Some(p) = platform {
        f.details.insert("platform".into(), p.into());
    }
    f.role_kind = RoleKind::Unknown;
    Some(f)
}

fn not_found(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let ambiguous = scan.mentions(&["pull access denied", "no pull access", "may require 'docker login'"]);
    let name = image_name(scan);
    if ambiguous && is_ecr(scan) {
        // ECR answers "repository does not exist or may require docker login" for cross-account repositories too.
        let mut f = scan.finding(
            rule,
            Cause::ImagePullDenied,
            Confidence::Medium,
            format!("{name} could not be pulled: the repository is missing or the execution role may not pull from it"),
        );
        f.role_kind = RoleKind::Execution;
        f.alternatives.push(alternative(Cause::ImageNotFound, Confidence::Medium, "the repository may not exist"));
        return Some(f);
    }
    let hub_name = scan.fact("registry").is_none() && scan.fact("image").is_some();
    let summary = if ambiguous {
        format!("{name} does not exist or is private")
    } else if scan.fact("digest").is_some() && scan.mentions(&["digest: not found", "@sha256"]) {
        format!("{name} does not exist: the digest is gone (the tag was overwritten or the image expired)")
    } else {
        format!("{name} does not exist in the registry")
    };
    let confidence = if ambiguous { Confidence::Medium } else { Confidence::High };
    let mut f = scan.finding(rule, Cause::ImageNotFound, confidence, summary);
    f.role_kind = RoleKind::Unknown;
    if hub_name {
        f.details.insert(
            "note".into(),
            "the reference has no registry, so it resolves to Docker Hub; use the full ECR URI for an ECR image".into(),
        );
    }
    if ambiguous {
        f.alternatives.push(alternative(
            Cause::ImagePullDenied,
            Confidence::Medium,
            "the repository may be private and need credentials or a pull permission",
        ));
    }
    Some(f)
}

fn forbidden(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let name = image_name(scan);
    let mut f = scan.finding(
        rule,
        Cause::ImagePullDenied,
        Confidence::High,
        format!("the registry refused to serve {name} (403)"),
    );
    f.role_kind = if is_ecr(scan) { RoleKind::Execution } else { RoleKind::Unknown };
    if scan.fact("digest").is_some() {
        f.alternatives.push(alternative(
            Cause::ImageNotFound,
            Confidence::Low,
            "the pinned digest may have been overwritten or expired; ECR answers 403 for a deleted layer",
        ));
    }
    if scan.fact("registry").is_some_and(|r| r.starts_with("public.ecr.aws")) {
        f.alternatives.push(alternative(
            Cause::RegistryAuthFailed,
            Confidence::Low,
            "stale public.ecr.aws credentials in the Docker config make public pulls fail with 403",
        ));
    }
    Some(f)
}

fn pull_failed(scan: &Scan, rule: &'static Rule) -> Option<Finding> {
    let name = image_name(scan);
    let docker_hub = scan.mentions(&["registry-1.docker.io", "docker.io/", "index.docker.io"]);
    let (cause, summary) = if scan.mentions(&["API error (404)"]) {
        (Cause::ImageNotFound, format!("{name} was not found (404)"))
    } else if docker_hub {
        (Cause::RegistryRateLimited, format!("Docker Hub refused {name}; anonymous pulls are often rate-limited"))
    } else {
        (Cause::ImagePullDenied, format!("{name} could not be pulled"))
    };
    let mut f = scan.finding(rule, cause, Confidence::Low, summary);
    for (alt, why) in [
        (Cause::ImageNotFound, "the image, tag or digest may not exist"),
        (Cause::ImagePullDenied, "the execution role may lack the pull permission"),
        (Cause::NetworkUnreachable, "the subnet may have no route to the registry"),
    ] {
        if alt != cause {
            f.alternatives.push(alternative(alt, Confidence::Low, why));
        }
    }
    Some(f)
}
