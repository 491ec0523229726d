//! The project's CloudTrail event: the fields a diagnosis needs, whatever produced the event (an S3 log file,
//! `lookup-events` output, a CloudTrail Lake row, or — later — the live LookupEvents API).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One CloudTrail event (record format as delivered to S3; unknown fields are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrailEvent {
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub aws_region: Option<String>,
    pub recipient_account_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub user_identity: Option<UserIdentity>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    /// Kept raw: its shape differs per API, and a few values (bucket, key, role ARN) fill gaps in the message.
    pub request_parameters: Option<Value>,
    #[serde(deserialize_with = "null_as_empty")]
    pub resources: Vec<TrailResource>,
}

/// `userIdentity`: who made the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserIdentity {
    /// `AssumedRole`, `IAMUser`, `AWSService`, `Root`, `FederatedUser`, …
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
    /// The service that made the call on the principal's behalf (`ecs-tasks.amazonaws.com`, …).
    pub invoked_by: Option<String>,
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionContext {
    pub session_issuer: Option<SessionIssuer>,
}

/// The role (or user) whose credentials were assumed. Unlike the assumed-role ARN, its ARN keeps the role's path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub issuer_type: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
}

/// An entry of `resources[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrailResource {
    #[serde(rename = "ARN")]
    pub arn: Option<String>,
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<TrailResource>, D::Error> {
    Ok(Option::<Vec<TrailResource>>::deserialize(d)?.unwrap_or_default())
}

impl TrailEvent {
    /// The caller's ARN as CloudTrail wrote it (`arn:aws:sts::A:assumed-role/R/S` for roles).
    pub fn caller_arn(&self) -> Option<&str> {
        self.user_identity.as_ref()?.arn.as_deref()
    }

    /// The IAM role ARN behind an assumed-role caller, with its path (from `sessionContext.sessionIssuer`).
    pub fn issuer_role_arn(&self) -> Option<&str> {
        let issuer = self.user_identity.as_ref()?.session_context.as_ref()?.session_issuer.as_ref()?;
        match issuer.issuer_type.as_deref() {
            Some("Role") | None => issuer.arn.as_deref().filter(|a| a.contains(":role/")),
            _ => None,
        }
    }

    /// The role name behind an assumed-role caller.
    pub fn role_name(&self) -> Option<&str> {
        let issuer = self.user_identity.as_ref()?.session_context.as_ref()?.session_issuer.as_ref();
        if let Some(name) = issuer.and_then(|i| i.user_name.as_deref()).filter(|_| self.issuer_role_arn().is_some()) {
            return Some(name);
        }
        assumed_role_parts(self.caller_arn()?).map(|(role, _)| role)
    }

    /// The role session name (for ECS task and execution roles: the task id).
    pub fn session_name(&self) -> Option<&str> {
        if let Some((_, session)) = self.caller_arn().and_then(assumed_role_parts) {
            return session;
        }
        // `principalId` of an assumed role is `AROA…:<session>`.
        let identity = self.user_identity.as_ref()?;
        if identity.identity_type.as_deref() == Some("AssumedRole") {
            return identity.principal_id.as_deref()?.split_once(':').map(|(_, s)| s);
        }
        None
    }

    pub fn user_identity_type(&self) -> Option<&str> {
        self.user_identity.as_ref()?.identity_type.as_deref()
    }

    pub fn invoked_by(&self) -> Option<&str> {
        self.user_identity.as_ref()?.invoked_by.as_deref()
    }

    /// The account the event belongs to: `recipientAccountId`, else the caller's account.
    pub fn account_id(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or_else(|| self.user_identity.as_ref()?.account_id.as_deref())
    }

    /// A string value of `requestParameters` (top level only).
    pub fn request_parameter(&self, name: &str) -> Option<&str> {
        self.request_parameters.as_ref()?.get(name)?.as_str()
    }
}

/// `arn:…:sts::A:assumed-role/Role/Session` → (`Role`, `Some(Session)`).
pub fn assumed_role_parts(arn: &str) -> Option<(&str, Option<&str>)> {
    let (_, rest) = arn.split_once(":assumed-role/")?;
    match rest.split_once('/') {
        Some((role, session)) => Some((role, Some(session))),
        None => Some((rest, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_assumed_role_record_and_extracts_identity_parts() {
        let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:0f9a","arn":"arn:aws:sts::111122223333:assumed-role/app-exec/0f9a","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/service/app-exec","accountId":"111122223333","userName":"app-exec"}}},"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","errorCode":"AccessDenied","errorMessage":"Access Denied","requestParameters":{"bucketName":"b","key":"k","errorCode":"trap"},"resources":null,"eventID":"e1","recipientAccountId":"111122223333"}"#;
        let event: TrailEvent = serde_json::from_str(record).expect("parse");
        assert_eq!(event.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(event.issuer_role_arn(), Some("arn:aws:iam::111122223333:role/service/app-exec"));
        assert_eq!(event.role_name(), Some("app-exec"));
        assert_eq!(event.session_name(), Some("0f9a"));
        assert_eq!(event.request_parameter("bucketName"), Some("b"));
        assert!(event.resources.is_empty());
    }

    #[test]
    fn session_from_principal_id_when_arn_is_missing() {
        let event: TrailEvent =
            serde_json::from_str(r#"{"userIdentity":{"type":"AssumedRole","principalId":"AROAX:task1"}}"#).unwrap();
        assert_eq!(event.session_name(), Some("task1"));
    }
}
