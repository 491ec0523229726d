//! The seam between the ECS rules and the AccessDenied grammar (`rules::access_denied`): the grammar reads the IAM
//! part of a message; this adapter only makes the texts people paste readable to it.

use super::access_denied;
use crate::model::{AccessDenied, Cause, Confidence};
use regex::Regex;
use std::sync::LazyLock;

/// Placeholders with spaces (`<account id>`) split an ARN in two for any grammar that reads ARNs as words.
static SPACED_PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<[^<>\n]*\s[^<>\n]*>").unwrap_or_else(|e| panic!("bad built-in pattern: {e}")));

/// The AccessDenied message inside `text` (which may be a longer stopped reason), if there is one.
pub fn parse(text: &str) -> Option<AccessDenied> {
    if SPACED_PLACEHOLDER.is_match(text) {
        let joined = SPACED_PLACEHOLDER.replace_all(text, |c: &regex::Captures| c[0].replace(char::is_whitespace, "_"));
        return access_denied::parse(&joined);
    }
    access_denied::parse(text)
}

/// The cause an AccessDenied message states, and how sure the wording makes it.
pub fn classify(ad: &AccessDenied) -> (Cause, Confidence) {
    access_denied::classify(ad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PolicyType;

    #[test]
    fn reads_the_reasoned_form_inside_a_stopped_reason_with_placeholders() {
        let ad = parse(
            "unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: User: \
             arn:aws:sts::<account id>:assumed-role/exec/f83b93a4dc3442a18eaaf8c2a235cd37 is not authorized to perform: \
             ssm:GetParameters on resource: arn:aws:ssm:eu-west-2:<account id>:parameter/X because no identity-based \
             policy allows the ssm:GetParameters action status code: 400",
        )
        .expect("parsed");
        assert_eq!(ad.role_name.as_deref(), Some("exec"));
        assert_eq!(ad.role_session.as_deref(), Some("f83b93a4dc3442a18eaaf8c2a235cd37"));
        assert_eq!(ad.action.as_deref(), Some("ssm:GetParameters"));
        assert_eq!(ad.resource.as_deref(), Some("arn:aws:ssm:eu-west-2:<account_id>:parameter/X"));
        assert_eq!(ad.policy_type, Some(PolicyType::Identity));
        assert_eq!(classify(&ad), (Cause::IdentityPolicyDenied, Confidence::High));
    }
}
