//! CloudTrail Lake query results (`aws cloudtrail get-query-results`): each row is a list of one-key objects,
//! `[{"eventID": "…"}, {"eventTime": "2024-05-01 10:00:00.000"}, …]`, every value a string. Nested columns such
//! as `userIdentity` come back in Trino's struct notation (`{type=AssumedRole, arn=arn:…, …}`) or as JSON.

use crate::model::event::{SessionContext, SessionIssuer, TrailEvent, UserIdentity};
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

static STRUCT_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[{,]\s*)(?P<k>[a-zA-Z]+)=(?P<v>[^,{}]*)").expect("static regex"));
static ISSUER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"sessionissuer=\{(?P<body>[^{}]*)\}").expect("static regex"));

/// Lake returns `2024-05-01 10:00:00.000` (UTC); the rest of the tool speaks RFC 3339.
fn rfc3339(time: &str) -> String {
    let t = time.trim();
    if t.len() >= 19 && t.as_bytes()[10] == b' ' && !t.contains('T') {
        let (date, rest) = t.split_at(10);
        let rest = rest.trim_start();
        let zoned = rest.ends_with('Z') || rest.get(8..).is_some_and(|r| r.contains(['+', '-']));
        return format!("{date}T{rest}{}", if zoned { "" } else { "Z" });
    }
    t.to_string()
}

/// `k=v` pairs of a flat struct body (`type=Role, arn=arn:…, username=x`); `null` means absent.
fn struct_fields(body: &str) -> Vec<(String, String)> {
    STRUCT_FIELD
        .captures_iter(body)
        .map(|c| (c["k"].to_ascii_lowercase(), c["v"].trim().to_string()))
        .filter(|(_, v)| !v.is_empty() && v != "null")
        .collect()
}

fn user_identity_from_struct(text: &str) -> UserIdentity {
    let mut identity = UserIdentity::default();
    // Top-level fields come before `sessioncontext={…}`; take the first occurrence of each.
    let top = text.split("sessioncontext=").next().unwrap_or(text);
    for (k, v) in struct_fields(top) {
        let slot = match k.as_str() {
            "type" => &mut identity.identity_type,
            "principalid" => &mut identity.principal_id,
            "arn" => &mut identity.arn,
            "accountid" => &mut identity.account_id,
            "username" => &mut identity.user_name,
            "invokedby" => &mut identity.invoked_by,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(v);
        }
    }
    if let Some(caps) = ISSUER.captures(text) {
        let mut issuer = SessionIssuer::default();
        for (k, v) in struct_fields(&caps["body"]) {
            match k.as_str() {
                "type" => issuer.issuer_type = Some(v),
                "arn" => issuer.arn = Some(v),
                "accountid" => issuer.account_id = Some(v),
                "username" => issuer.user_name = Some(v),
                _ => {}
            }
        }
        identity.session_context = Some(SessionContext { session_issuer: Some(issuer) });
    }
    identity
}

fn user_identity(value: &str) -> UserIdentity {
    let trimmed = value.trim();
    if trimmed.starts_with("{\"")
        && let Ok(identity) = serde_json::from_str(trimmed)
    {
        return identity;
    }
    user_identity_from_struct(trimmed)
}

/// Builds an event from one Lake row. Column names are matched case-insensitively; `SELECT userIdentity.arn`
/// yields a column named `arn`.
pub fn event_from_row(row: &[Map<String, Value>]) -> TrailEvent {
    let mut event = TrailEvent::default();
    let mut identity: Option<UserIdentity> = None;
    for (name, value) in row.iter().flat_map(|m| m.iter()) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        if text.is_empty() || text == "null" {
            continue;
        }
        let column = name.to_ascii_lowercase();
        let column = column.strip_prefix("useridentity.").map(|c| format!("ui.{c}")).unwrap_or(column);
        match column.as_str() {
            "eventid" => event.event_id = Some(text),
            "eventtime" => event.event_time = Some(rfc3339(&text)),
            "eventsource" => event.event_source = Some(text),
            "eventname" => event.event_name = Some(text),
            "awsregion" => event.aws_region = Some(text),
            "recipientaccountid" => event.recipient_account_id = Some(text),
            "errorcode" => event.error_code = Some(text),
            "errormessage" => event.error_message = Some(text),
            "sourceipaddress" => event.source_ip_address = Some(text),
            "useragent" => event.user_agent = Some(text),
            "vpcendpointid" => event.vpc_endpoint_id = Some(text),
            "requestparameters" => event.request_parameters = serde_json::from_str(&text).ok(),
            "useridentity" => identity = Some(user_identity(&text)),
            "arn" | "ui.arn" => identity.get_or_insert_with(Default::default).arn = Some(text),
            "ui.type" => identity.get_or_insert_with(Default::default).identity_type = Some(text),
            "principalid" | "ui.principalid" => identity.get_or_insert_with(Default::default).principal_id = Some(text),
            "ui.accountid" => identity.get_or_insert_with(Default::default).account_id = Some(text),
            "invokedby" | "ui.invokedby" => identity.get_or_insert_with(Default::default).invoked_by = Some(text),
            _ => {}
        }
    }
    event.user_identity = identity;
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_with_struct_notation_user_identity() {
        let row: Vec<Map<String, Value>> = serde_json::from_str(r#"[
            {"eventID":"9a1c"},{"eventTime":"2024-05-01 10:00:02.000"},{"eventSource":"ecr.amazonaws.com"},
            {"eventName":"GetAuthorizationToken"},{"errorCode":"AccessDenied"},
            {"userIdentity":"{type=AssumedRole, principalid=AROAEXAMPLE:4d2f, arn=arn:aws:sts::111122223333:assumed-role/exec/4d2f, accountid=111122223333, accesskeyid=ASIAEXAMPLE, username=null, sessioncontext={attributes={creationdate=2024-05-01 10:00:00.000, mfaauthenticated=false}, sessionissuer={type=Role, principalid=AROAEXAMPLE, arn=arn:aws:iam::111122223333:role/exec, accountid=111122223333, username=exec}, webidfederationdata=null, sourceidentity=null, ec2roledelivery=null, ec2issuedinvpc=null}, invokedby=null, identityprovider=null}"}
        ]"#).unwrap();
        let e = event_from_row(&row);
        assert_eq!(e.event_time.as_deref(), Some("2024-05-01T10:00:02.000Z"));
        assert_eq!(e.caller_arn(), Some("arn:aws:sts::111122223333:assumed-role/exec/4d2f"));
        assert_eq!(e.issuer_role_arn(), Some("arn:aws:iam::111122223333:role/exec"));
        assert_eq!(e.session_name(), Some("4d2f"));
        assert_eq!(e.user_identity_type(), Some("AssumedRole"));
        assert_eq!(e.invoked_by(), None);
    }

    #[test]
    fn odd_time_texts_do_not_panic() {
        assert_eq!(rfc3339("2024-05-01        1"), "2024-05-01T1Z");
        assert_eq!(rfc3339("2024-05-01 10:00:00+02:00"), "2024-05-01T10:00:00+02:00");
        assert_eq!(rfc3339("2024-05-01 é10:00:00é"), "2024-05-01Té10:00:00éZ");
        assert_eq!(rfc3339("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00Z");
    }
}
