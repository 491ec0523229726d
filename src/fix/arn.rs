//! ARN shapes for least-privilege statements: each action gets the resource ARN form IAM matches it against.

use crate::rules::text::{is_account_id, is_region, split_arn};

/// Where the fix applies: partition, account and Region, from the context, the finding's ARNs, or placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub partition: String,
    pub account: String,
    pub region: String,
    /// `false` when the account or Region is a placeholder the user must fill in.
    pub complete: bool,
}

pub const ACCOUNT_PLACEHOLDER: &str = "ACCOUNT_ID";
pub const REGION_PLACEHOLDER: &str = "REGION";

impl Env {
    /// The first real value wins: explicit context first, then ARNs in the order given.
    pub fn resolve<'a>(
        partition: Option<&str>,
        account: Option<&str>,
        region: Option<&str>,
        arns: impl IntoIterator<Item = &'a str>,
    ) -> Env {
        let mut partition = partition.map(str::to_string);
        let mut account = account.filter(|a| is_account_id(a)).map(str::to_string);
        let mut region = region.filter(|r| is_region(r)).map(str::to_string);
        for arn in arns {
            let Some((p, _, r, a, _)) = split_arn(arn) else { continue };
            if partition.is_none() && p.starts_with("aws") {
                partition = Some(p.to_string());
            }
            if account.is_none() && is_account_id(a) {
                account = Some(a.to_string());
            }
            if region.is_none() && is_region(r) {
                region = Some(r.to_string());
            }
        }
        let complete = account.is_some() && region.is_some();
        Env {
            partition: partition.unwrap_or_else(|| "aws".into()),
            account: account.unwrap_or_else(|| ACCOUNT_PLACEHOLDER.into()),
            region: region.unwrap_or_else(|| REGION_PLACEHOLDER.into()),
            complete,
        }
    }

    /// The DNS suffix of the partition's service endpoints (`com.amazonaws.<region>.<service>` is the same everywhere
    /// except China, whose endpoint service names start with `cn.com.amazonaws`).
    pub fn endpoint_service(&self, service: &str) -> String {
        if self.partition == "aws-cn" {
            format!("cn.com.amazonaws.{}.{service}", self.region)
        } else {
            format!("com.amazonaws.{}.{service}", self.region)
        }
    }
}

/// Replaces an ARN's placeholder account / Region (`<account id>`, `xxxx`, `*`) with the resolved ones, so the
/// statement is concrete. A `*` Region or account written on purpose in a resource is kept only when nothing better
/// is known.
pub fn concrete(arn: &str, env: &Env) -> String {
    let Some((p, service, r, a, resource)) = split_arn(arn) else { return arn.to_string() };
    let region = if r.is_empty() || is_region(r) { r.to_string() } else { env.region.clone() };
    let account = if a.is_empty() || is_account_id(a) || a == "aws" { a.to_string() } else { env.account.clone() };
    let partition = if p.starts_with("aws") { p } else { env.partition.as_str() };
    format!("arn:{partition}:{service}:{region}:{account}:{resource}")
}

/// A Secrets Manager secret ARN that matches every version of the secret: the 6-character random suffix replaced
/// by `-??????` (a reference without the suffix gets it added), and a task definition's `:json-key:stage:version`
/// tail dropped.
pub fn secret_arn(arn: &str, env: &Env) -> String {
    let arn = concrete(arn, env);
    let parts: Vec<&str> = arn.splitn(8, ':').collect();
    if parts.len() < 7 {
        return arn;
    }
    let name = parts[6];
    let base = match name.rsplit_once('-') {
        Some((base, suffix)) if suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) => base,
        _ => name.trim_end_matches('*'),
    };
    let base = base.trim_end_matches(['-', '*']);
    format!("{}:{}:{}:{}:{}:secret:{base}-??????", parts[0], parts[1], parts[2], parts[3], parts[4])
}

/// The ARN of an SSM parameter: `/a/b` is `parameter/a/b`, `a` is `parameter/a`; an ARN is kept (made concrete).
pub fn parameter_arn(name_or_arn: &str, env: &Env) -> String {
    if name_or_arn.starts_with("arn:") {
        return concrete(name_or_arn, env);
    }
    let name = name_or_arn.strip_prefix('/').unwrap_or(name_or_arn);
    format!("arn:{}:ssm:{}:{}:parameter/{name}", env.partition, env.region, env.account)
}

/// The log group and all its streams: `arn:…:log-group:NAME:*`.
pub fn log_group_arn(group: &str, env: &Env) -> String {
    format!("arn:{}:logs:{}:{}:log-group:{group}:*", env.partition, env.region, env.account)
}

/// Every stream of a log group: `arn:…:log-group:NAME:log-stream:*` (what logs:CreateLogStream and
/// logs:PutLogEvents are authorized against).
pub fn log_streams_arn(group: &str, env: &Env) -> String {
    format!("arn:{}:logs:{}:{}:log-group:{group}:log-stream:*", env.partition, env.region, env.account)
}

/// The ECR repository ARN for a registry host (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`) and repository name.
pub fn ecr_repository_arn(registry: Option<&str>, repository: &str, env: &Env) -> String {
    let (account, region) = registry
        .and_then(|host| {
            let mut parts = host.split('.');
            let account = parts.next()?;
            let _dkr = parts.next()?;
            let _ecr = parts.next()?;
            let region = parts.next()?;
            Some((account.to_string(), region.to_string()))
        })
        .filter(|(a, r)| is_account_id(a) && is_region(r))
        .unwrap_or_else(|| (env.account.clone(), env.region.clone()));
    format!("arn:{}:ecr:{region}:{account}:repository/{repository}", env.partition)
}

/// The account part of an ARN, when it is a real account id.
pub fn account_of(arn: &str) -> Option<&str> {
    split_arn(arn).map(|(_, _, _, a, _)| a).filter(|a| is_account_id(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::resolve(None, Some("111122223333"), Some("eu-west-1"), [])
    }

    #[test]
    fn secret_suffix_is_wildcarded() {
        let e = env();
        assert_eq!(
            secret_arn("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pass-AbC123", &e),
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pass-??????"
        );
        assert_eq!(
            secret_arn("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pass-AbC123:username::", &e),
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db/pass-??????"
        );
        assert_eq!(
            secret_arn("arn:aws:secretsmanager:eu-west-1:111122223333:secret:plain", &e),
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:plain-??????"
        );
        assert_eq!(
            secret_arn("arn:aws:secretsmanager:us-west-2:*:secret:DBPasswordSecret-*", &e),
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:DBPasswordSecret-??????"
        );
    }

    #[test]
    fn parameter_arns_with_and_without_slash() {
        let e = env();
        assert_eq!(parameter_arn("/app/db", &e), "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db");
        assert_eq!(parameter_arn("DB", &e), "arn:aws:ssm:eu-west-1:111122223333:parameter/DB");
    }

    #[test]
    fn placeholders_become_the_resolved_account() {
        let e = env();
        assert_eq!(
            concrete("arn:aws:ssm:eu-west-2:<account id>:parameter/X", &e),
            "arn:aws:ssm:eu-west-2:111122223333:parameter/X"
        );
        let unknown = Env::resolve(None, None, None, []);
        assert!(!unknown.complete);
        assert_eq!(log_group_arn("/ecs/app", &unknown), "arn:aws:logs:REGION:ACCOUNT_ID:log-group:/ecs/app:*");
    }

    #[test]
    fn repository_arn_from_registry_host() {
        assert_eq!(
            ecr_repository_arn(Some("476593617425.dkr.ecr.eu-west-1.amazonaws.com"), "baker", &env()),
            "arn:aws:ecr:eu-west-1:476593617425:repository/baker"
        );
    }
}
