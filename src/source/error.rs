//! What can go wrong when a source asks AWS (or reads a saved file) for a fact.

use std::fmt;

/// Why a call failed, in the terms the diagnosis acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// The resource does not exist (a fact for the diagnosis, not a problem of the tool).
    NotFound,
    /// The tool's own credentials may not make this call: a warning naming the permission, the diagnosis goes on.
    AccessDenied,
    /// Still throttled after the SDK's adaptive retries.
    Throttled,
    /// No usable credentials, or the credentials were rejected.
    Credentials,
    /// The endpoint could not be reached (DNS, connection, timeout).
    Unreachable,
    /// Anything else (validation errors, unexpected responses).
    Other,
}

/// A failed call: the IAM action it needs (`ecs:DescribeTasks`), the resource, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The API as an IAM action (`service:Operation`): this is also the permission a denied call lacks.
    pub api: &'static str,
    pub resource: String,
    pub kind: SourceErrorKind,
    /// The service's error code (`AccessDeniedException`), where there was one.
    pub code: Option<String>,
    pub message: String,
}

impl SourceError {
    pub fn new(
        api: &'static str,
        resource: impl Into<String>,
        kind: SourceErrorKind,
        message: impl Into<String>,
    ) -> Self {
        SourceError { api, resource: resource.into(), kind, code: None, message: message.into() }
    }

    /// `api:ecs:DescribeTasks arn:…`: the `input` of the report's error entry.
    pub fn input(&self) -> String {
        if self.resource.is_empty() {
            format!("api:{}", self.api)
        } else {
            format!("api:{} {}", self.api, self.resource)
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SourceErrorKind::AccessDenied => write!(
                f,
                "the tool's credentials lack `{}` on `{}`; grant it (see `why-task-failed permissions`) for a fuller \
                 diagnosis: {}",
                self.api,
                if self.resource.is_empty() { "*" } else { &self.resource },
                self.message
            ),
            _ => {
                let code = self.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default();
                write!(f, "`{}` failed for `{}`: {code}{}", self.api, self.resource, self.message)
            }
        }
    }
}

impl std::error::Error for SourceError {}

/// Sorts an AWS error code into the kinds above.
pub fn kind_of_code(code: &str) -> SourceErrorKind {
    match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedException"
        | "AuthorizationError"
        | "NotAuthorized" => SourceErrorKind::AccessDenied,
        "ResourceNotFoundException"
        | "NoSuchEntity"
        | "NotFoundException"
        | "RepositoryNotFoundException"
        | "ImageNotFoundException"
        | "RepositoryPolicyNotFoundException"
        | "ParameterNotFound"
        | "ClusterNotFoundException"
        | "ServiceNotFoundException" => SourceErrorKind::NotFound,
        "Throttling"
        | "ThrottlingException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "ThrottledException"
        | "LimitExceededException" => SourceErrorKind::Throttled,
        "ExpiredToken"
        | "ExpiredTokenException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken" => SourceErrorKind::Credentials,
        _ => SourceErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_call_names_the_missing_permission() {
        let mut e = SourceError::new(
            "kms:GetKeyPolicy",
            "arn:aws:kms:us-east-1:123456789012:key/1234",
            kind_of_code("AccessDeniedException"),
            "User: arn:aws:sts::123456789012:assumed-role/oncall/alice is not authorized to perform: kms:GetKeyPolicy",
        );
        e.code = Some("AccessDeniedException".into());
        let text = e.to_string();
        assert!(text.contains("lack `kms:GetKeyPolicy` on `arn:aws:kms:us-east-1:123456789012:key/1234`"), "{text}");
        assert_eq!(e.input(), "api:kms:GetKeyPolicy arn:aws:kms:us-east-1:123456789012:key/1234");
    }

    #[test]
    fn codes_sort_into_kinds() {
        assert_eq!(kind_of_code("NoSuchEntity"), SourceErrorKind::NotFound);
        assert_eq!(kind_of_code("ThrottlingException"), SourceErrorKind::Throttled);
        assert_eq!(kind_of_code("ExpiredToken"), SourceErrorKind::Credentials);
        assert_eq!(kind_of_code("ValidationException"), SourceErrorKind::Other);
    }
}
