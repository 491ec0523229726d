//! The seam between the ECS rules and the AccessDenied grammar.
//!
//! The grammar proper (`rules::access_denied`, owned by the CloudTrail work) is not on `main` yet. Until it is,
//! this file reads the few shapes a stopped reason embeds; when it lands, `parse` and `classify` become one-line
//! delegations and the ECS rules do not change.

use crate::model::{AccessDenied, Cause, Confidence, PolicyType};
use regex::Regex;
use std::sync::OnceLock;

fn grammar() -> &'static [Regex; 4] {
    static CELL: OnceLock<[Regex; 4]> = OnceLock::new();
    CELL.get_or_init(|| {
        let compile = |p: &str| Regex::new(p).unwrap_or_else(|e| panic!("bad built-in pattern `{p}`: {e}"));
        [
            // principal + action (+ resource), the reasoned and the bare forms
            compile(
                r"(?is)(?:User|Principal)?:?\s*((?:arn:(?:[^\s<]|<[^>\n]*>)+|<[^>]+>))\s+is not authorized to perform:?\s+([A-Za-z0-9<>_:-]+(?::[A-Za-z0-9*]+)?)(?:\s+on resource:?\s+((?:[^\s<]|<[^>\n]*>)+))?",
            ),
            // "User doesn't have permission to call ssm:GetParameters"
            compile(r"(?i)(?:don't|doesn't|does not|do not) have permission to (?:call|perform)\s+([a-z0-9-]+:[A-Za-z0-9*]+)"),
            // the layer: explicit deny in …, or because no … policy allows
            compile(
                r"(?i)(with an explicit deny in an? |because no )(service control policy|resource control policy|identity-based policy|resource-based policy|permissions boundary|session policy|vpc endpoint policy|role trust policy)(?: allows[^:]*)?(?::\s*(arn:[^\s]+))?",
            ),
            compile(r"(?i)with an explicit deny"),
        ]
    })
}

/// The AccessDenied message inside `text` (which may be a longer stopped reason), if there is one.
pub fn parse(text: &str) -> Option<AccessDenied> {
    let [main, bare, layer, explicit] = grammar();
    let mut ad = AccessDenied::default();
    if let Some(c) = main.captures(text) {
        let principal = c[1].to_string();
        if let Some(rest) = principal.split(":assumed-role/").nth(1) {
            let mut parts = rest.splitn(2, '/');
            ad.role_name = parts.next().map(str::to_string);
            ad.role_session = parts.next().map(str::to_string);
        }
        ad.principal = Some(principal);
        ad.action = Some(c[2].to_string());
        ad.resource = c.get(3).map(|m| m.as_str().trim_end_matches(['.', ',']).to_string());
    } else if let Some(c) = bare.captures(text) {
        ad.action = Some(c[1].to_string());
    } else {
        return None;
    }
    if let Some(c) = layer.captures(text) {
        ad.explicit_deny = Some(c[1].to_ascii_lowercase().starts_with("with"));
        ad.policy_type = match c[2].to_ascii_lowercase().as_str() {
            "service control policy" => Some(PolicyType::Scp),
            "resource control policy" => Some(PolicyType::Rcp),
            "identity-based policy" => Some(PolicyType::Identity),
            "resource-based policy" => Some(PolicyType::Resource),
            "permissions boundary" => Some(PolicyType::PermissionsBoundary),
            "session policy" => Some(PolicyType::Session),
            "vpc endpoint policy" => Some(PolicyType::VpcEndpoint),
            "role trust policy" => Some(PolicyType::Trust),
            _ => None,
        };
        ad.policy_arn = c.get(3).map(|m| m.as_str().trim_end_matches(['.', ',']).to_string());
    } else if explicit.is_match(text) {
        ad.explicit_deny = Some(true);
    }
    Some(ad)
}

/// The cause an AccessDenied message states, and how sure the wording makes it.
pub fn classify(ad: &AccessDenied) -> (Cause, Confidence) {
    if ad.action.as_deref() == Some("iam:PassRole") {
        return (Cause::PassroleDenied, Confidence::High);
    }
    let by_layer = match ad.policy_type {
        Some(PolicyType::Identity) => Some(Cause::IdentityPolicyDenied),
        Some(PolicyType::Resource) => Some(Cause::ResourcePolicyDenied),
        Some(PolicyType::PermissionsBoundary) => Some(Cause::PermissionsBoundaryDenied),
        Some(PolicyType::Session) => Some(Cause::SessionPolicyDenied),
        Some(PolicyType::Scp) => Some(Cause::ScpDenied),
        Some(PolicyType::Rcp) => Some(Cause::RcpDenied),
        Some(PolicyType::VpcEndpoint) => Some(Cause::VpcEndpointPolicyDenied),
        Some(PolicyType::Trust) => Some(Cause::TrustPolicyDenied),
        Some(PolicyType::Key) => Some(Cause::KmsKeyUnusable),
        None => None,
    };
    match (by_layer, ad.explicit_deny) {
        (Some(cause), _) => (cause, Confidence::High),
        (None, Some(true)) => (Cause::ExplicitDenyUnattributed, Confidence::High),
        (None, _) => (Cause::AccessDeniedUnattributed, Confidence::Medium),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reasoned_form_inside_a_stopped_reason() {
        let ad = parse(
            "unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: User: \
             arn:aws:sts::111122223333:assumed-role/exec/f83b93a4dc3442a18eaaf8c2a235cd37 is not authorized to perform: \
             ssm:GetParameters on resource: arn:aws:ssm:eu-west-2:111122223333:parameter/X because no identity-based \
             policy allows the ssm:GetParameters action status code: 400",
        )
        .expect("parsed");
        assert_eq!(ad.role_name.as_deref(), Some("exec"));
        assert_eq!(ad.role_session.as_deref(), Some("f83b93a4dc3442a18eaaf8c2a235cd37"));
        assert_eq!(ad.action.as_deref(), Some("ssm:GetParameters"));
        assert_eq!(ad.resource.as_deref(), Some("arn:aws:ssm:eu-west-2:111122223333:parameter/X"));
        assert_eq!(classify(&ad), (Cause::IdentityPolicyDenied, Confidence::High));
    }

    #[test]
    fn names_the_scp() {
        let ad = parse(
            "User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: \
             arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: \
             arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd",
        )
        .expect("parsed");
        assert_eq!(ad.policy_type, Some(PolicyType::Scp));
        assert!(ad.policy_arn.as_deref().is_some_and(|p| p.ends_with("p-2kgnabcd")));
        assert_eq!(classify(&ad).0, Cause::ScpDenied);
    }
}
