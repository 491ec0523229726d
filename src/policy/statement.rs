//! Does one statement apply to the request? Action, resource, principal and conditions, each explained.

use super::condition;
use super::parse::{PatternList, PrincipalEntry, PrincipalSpec, Statement};
use super::pattern::{self, Unresolved};
use super::request::Request;

/// How a `Principal` element names the caller, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PrincipalMatch {
    /// The caller itself, `"*"`, its service principal, or (for `NotPrincipal`) anyone not listed.
    Match,
    /// The IAM user behind a federated-user session (`arn:aws:sts::…:federated-user/alice` ← `user/alice`).
    SessionUserMatch,
    /// The role behind an assumed-role session (`assumed-role/app/task` ← `role/app`).
    SessionRoleMatch,
    /// The caller's account (`123456789012` or `arn:aws:iam::123456789012:root`): the account then decides
    /// through its own IAM policies.
    AccountLevelMatch,
    NoMatch,
}

impl PrincipalMatch {
    /// The caller is named directly (not only through its account).
    pub fn is_direct(self) -> bool {
        matches!(self, PrincipalMatch::Match | PrincipalMatch::SessionUserMatch | PrincipalMatch::SessionRoleMatch)
    }
}

/// Which kind of policy a statement sits in; short ARNs in `Resource` are read differently per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementContext {
    /// Identity, session and boundary policies, SCPs: no `Principal`; a short ARN (`arn:aws:s3`) is padded
    /// with `*` fields.
    Identity,
    /// Resource-side policies: the `Principal` element is tested; a short ARN without a wildcard matches nothing.
    Resource { caller_has_boundary: bool },
}

/// The analysis of one statement against the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementMatch {
    pub action: bool,
    pub resource: bool,
    pub principal: PrincipalMatch,
    pub conditions: bool,
    /// Context keys the statement needed (in conditions or variables) that the request lacks.
    pub unresolved: Vec<String>,
}

impl StatementMatch {
    /// Action, resource and principal all fit (conditions aside).
    pub fn targets_request(&self) -> bool {
        self.action && self.resource && self.principal != PrincipalMatch::NoMatch
    }

    pub fn applies(&self) -> bool {
        self.targets_request() && self.conditions
    }
}

pub fn analyze(stmt: &Statement, req: &Request, context: StatementContext) -> StatementMatch {
    let mut unresolved = Vec::new();
    let action = action_matches(&stmt.action, &req.action);
    let resource = match &stmt.resource {
        None => true,
        Some(list) => resource_matches(list, req, context, &mut unresolved),
    };
    let principal = match (context, &stmt.principal) {
        (StatementContext::Identity, _) | (_, None) => PrincipalMatch::Match,
        (StatementContext::Resource { caller_has_boundary }, Some(spec)) => {
            // AWS: a Deny with NotPrincipal in a resource policy always applies to a caller whose permissions
            // boundary is in play (reference_policies_elements_notprincipal.html, "NotPrincipal with Deny").
            if spec.negated && caller_has_boundary && stmt.effect == super::parse::Effect::Deny {
                PrincipalMatch::Match
            } else {
                principal_matches(spec, req)
            }
        }
    };
    // A variable the request cannot fill only matters when the rest of the statement targets the request.
    if !action || principal == PrincipalMatch::NoMatch {
        unresolved.clear();
    }
    let mut conditions = true;
    // Conditions only matter (and only report missing keys) once the statement targets the request.
    if action && resource && principal != PrincipalMatch::NoMatch {
        for cond in &stmt.conditions {
            let outcome = condition::evaluate(cond, &req.context);
            unresolved.extend(outcome.unresolved);
            conditions &= outcome.matched;
        }
    }
    StatementMatch { action, resource, principal, conditions, unresolved }
}

/// `Action`/`NotAction`: `service:pattern` with `*`/`?`, case-insensitive; `*` alone matches every action.
pub fn action_matches(list: &PatternList, action: &str) -> bool {
    let (svc, name) = action.split_once(':').unwrap_or((action, ""));
    let hit = list.patterns.iter().any(|p| {
        if p == "*" {
            return true;
        }
        match p.split_once(':') {
            Some((psvc, pname)) => {
                psvc.eq_ignore_ascii_case(svc)
                    && !pname.chars().any(char::is_whitespace)
                    && crate::iamdata::wildcard_matches(pname, name, true)
            }
            None => false,
        }
    });
    hit != list.negated
}

/// `Resource`: any entry matches. `NotResource`: no entry matches, and every entry could be resolved (an entry
/// with a variable the request cannot fill never matches, so it cannot make the statement apply either).
fn resource_matches(
    list: &PatternList,
    req: &Request,
    context: StatementContext,
    unresolved: &mut Vec<String>,
) -> bool {
    let mut hit = false;
    let mut any_unresolved = false;
    for p in &list.patterns {
        match single_resource(p, req, context) {
            Ok(m) => hit |= m,
            Err(Unresolved { key }) => {
                unresolved.push(key);
                any_unresolved = true;
            }
        }
    }
    if list.negated { !hit && !any_unresolved } else { hit }
}

/// One `Resource` entry against the request's resource: the ARN's partition, service, region and account are
/// matched case-insensitively, the resource part case-sensitively; `*` spans `/` and `:` inside the resource part.
fn single_resource(policy: &str, req: &Request, context: StatementContext) -> Result<bool, Unresolved> {
    if policy == "*" {
        return Ok(true);
    }
    // An action that supports no resource-level scoping is requested on `*`; only `"Resource": "*"` covers it.
    if req.resource == "*" {
        return Ok(false);
    }
    let mut fields: Vec<&str> = policy.splitn(6, ':').collect();
    if fields.len() < 6 {
        let padded = match context {
            StatementContext::Identity => true,
            StatementContext::Resource { .. } => policy.contains('*'),
        };
        if !padded || fields.first() != Some(&"arn") {
            return Ok(false);
        }
        fields.resize(6, "*");
    }
    let request: Vec<&str> = req.resource.splitn(6, ':').collect();
    if request.len() != 6 {
        return pattern::matches(policy, &req.resource, &req.context, true, false);
    }
    for (i, (p, r)) in fields.iter().zip(request.iter()).enumerate() {
        let ignore_case = i < 5;
        if !pattern::matches(p, r, &req.context, true, ignore_case)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn principal_matches(spec: &PrincipalSpec, req: &Request) -> PrincipalMatch {
    let best = spec.entries.iter().map(|e| entry_matches(e, req)).min().unwrap_or(PrincipalMatch::NoMatch);
    if spec.negated {
        // NotPrincipal: applies to everyone not listed; listing the account, role or user excludes its sessions.
        if best == PrincipalMatch::NoMatch { PrincipalMatch::Match } else { PrincipalMatch::NoMatch }
    } else {
        best
    }
}

fn entry_matches(entry: &PrincipalEntry, req: &Request) -> PrincipalMatch {
    let caller = req.principal.as_str();
    let yes = |b: bool| if b { PrincipalMatch::Match } else { PrincipalMatch::NoMatch };
    match entry {
        PrincipalEntry::Wildcard => PrincipalMatch::Match,
        PrincipalEntry::Service(s) | PrincipalEntry::Federated(s) | PrincipalEntry::CanonicalUser(s) => {
            yes(s == caller)
        }
        PrincipalEntry::Account(account) => {
            if req.principal_account() == Some(account.as_str()) {
                PrincipalMatch::AccountLevelMatch
            } else {
                PrincipalMatch::NoMatch
            }
        }
        PrincipalEntry::Arn(arn) => {
            if arn == caller {
                PrincipalMatch::Match
            } else if role_matches_session(arn, caller) {
                PrincipalMatch::SessionRoleMatch
            } else if federated_user_of(caller).is_some_and(|user| user == *arn) {
                PrincipalMatch::SessionUserMatch
            } else {
                PrincipalMatch::NoMatch
            }
        }
    }
}

/// `arn:aws:iam::111:role/path/app` names the sessions `arn:aws:sts::111:assumed-role/app/<session>`.
fn role_matches_session(role_arn: &str, session_arn: &str) -> bool {
    let role: Vec<&str> = role_arn.splitn(6, ':').collect();
    let session: Vec<&str> = session_arn.splitn(6, ':').collect();
    let (["arn", rp, "iam", _, ra, rres], ["arn", sp, "sts", _, sa, sres]) = (role.as_slice(), session.as_slice())
    else {
        return false;
    };
    let (Some(role_path), Some(session_path)) = (rres.strip_prefix("role/"), sres.strip_prefix("assumed-role/")) else {
        return false;
    };
    let role_name = role_path.rsplit('/').next().unwrap_or("");
    let session_role = session_path.split('/').next().unwrap_or("");
    rp == sp && ra == sa && !role_name.is_empty() && role_name.eq_ignore_ascii_case(session_role)
}

/// `arn:aws:sts::111:federated-user/alice` → `arn:aws:iam::111:user/alice`.
fn federated_user_of(caller: &str) -> Option<String> {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    let ["arn", partition, "sts", _, account, res] = parts.as_slice() else { return None };
    let name = res.strip_prefix("federated-user/")?;
    Some(format!("arn:{partition}:iam::{account}:user/{name}"))
}
