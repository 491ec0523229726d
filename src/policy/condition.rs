//! Condition operators, `...IfExists`, `ForAnyValue:` / `ForAllValues:` and `Null`, per
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html> and
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>.
//!
//! Several values for one key are OR'd (for negated operators: none may match); several keys and operators in
//! one block are AND'd by the caller. A missing key fails a positive operator and satisfies a negated one, as
//! the docs' "negated matching" section says; `IfExists` makes a missing key match.

use super::parse::{Condition, Operator, SetOperator};
use super::pattern::{self, Unresolved};
use super::request::Context;
use std::net::IpAddr;

/// The outcome of one condition test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionOutcome {
    pub matched: bool,
    /// Context keys the test needed and the request lacks (the key itself, or a policy variable).
    pub unresolved: Vec<String>,
}

/// Evaluates one condition against the request context.
pub fn evaluate(cond: &Condition, ctx: &Context) -> ConditionOutcome {
    let mut unresolved = Vec::new();
    let present = ctx.get(&cond.key);
    if present.is_none() {
        unresolved.push(cond.key.clone());
    }
    let matched = match (cond.operator, present) {
        (Operator::Null, _) => {
            let wanted = if present.is_some() { "false" } else { "true" };
            // Only the key's presence is tested, so it is not "unresolved".
            unresolved.clear();
            cond.values.iter().any(|v| v.eq_ignore_ascii_case(wanted))
        }
        (_, None) => match cond.set {
            Some(SetOperator::ForAllValues) => true,
            Some(SetOperator::ForAnyValue) => cond.if_exists,
            None => cond.if_exists || cond.operator.is_negated(),
        },
        (_, Some(value)) => match cond.set {
            None if value.multi => false,
            None => value.values.first().is_some_and(|v| values_match(cond, v, ctx, &mut unresolved)),
            Some(SetOperator::ForAnyValue) => value.values.iter().any(|v| values_match(cond, v, ctx, &mut unresolved)),
            Some(SetOperator::ForAllValues) => value.values.iter().all(|v| values_match(cond, v, ctx, &mut unresolved)),
        },
    };
    ConditionOutcome { matched, unresolved }
}

/// Does one request value satisfy the operator against the policy values?
fn values_match(cond: &Condition, request_value: &str, ctx: &Context, unresolved: &mut Vec<String>) -> bool {
    let mut test = |policy_value: &str| -> Option<bool> {
        match single(cond.operator, policy_value, request_value, ctx) {
            Ok(result) => result,
            Err(Unresolved { key }) => {
                unresolved.push(key);
                None
            }
        }
    };
    if cond.operator.is_negated() {
        // A value that cannot be resolved or parsed never "differs": the negated test fails.
        cond.values.iter().all(|p| test(p) == Some(true))
    } else {
        cond.values.iter().any(|p| test(p) == Some(true))
    }
}

/// The operator applied to one policy value and one request value. `Ok(None)`: a value is not of the operator's
/// type (never matches either way); `Err`: a policy variable has no value.
fn single(op: Operator, policy: &str, request: &str, ctx: &Context) -> Result<Option<bool>, Unresolved> {
    use Operator::*;
    Ok(match op {
        StringEquals => Some(pattern::matches(policy, request, ctx, false, false)?),
        StringNotEquals => Some(!pattern::matches(policy, request, ctx, false, false)?),
        StringEqualsIgnoreCase => Some(pattern::matches(policy, request, ctx, false, true)?),
        StringNotEqualsIgnoreCase => Some(!pattern::matches(policy, request, ctx, false, true)?),
        StringLike => Some(pattern::matches(policy, request, ctx, true, false)?),
        StringNotLike => Some(!pattern::matches(policy, request, ctx, true, false)?),
        NumericEquals => numeric(policy, request).map(|(p, r)| p == r),
        NumericNotEquals => numeric(policy, request).map(|(p, r)| p != r),
        NumericLessThan => numeric(policy, request).map(|(p, r)| r < p),
        NumericLessThanEquals => numeric(policy, request).map(|(p, r)| r <= p),
        NumericGreaterThan => numeric(policy, request).map(|(p, r)| r > p),
        NumericGreaterThanEquals => numeric(policy, request).map(|(p, r)| r >= p),
        DateEquals => dates(policy, request).map(|(p, r)| r == p),
        DateNotEquals => dates(policy, request).map(|(p, r)| r != p),
        DateLessThan => dates(policy, request).map(|(p, r)| r < p),
        DateLessThanEquals => dates(policy, request).map(|(p, r)| r <= p),
        DateGreaterThan => dates(policy, request).map(|(p, r)| r > p),
        DateGreaterThanEquals => dates(policy, request).map(|(p, r)| r >= p),
        Bool => {
            let resolved = pattern::resolve(policy, ctx, false)?.text();
            match (parse_bool(&resolved), parse_bool(request)) {
                (Some(p), Some(r)) => Some(p == r),
                _ => None,
            }
        }
        BinaryEquals => Some(pattern::resolve(policy, ctx, false)?.text() == request),
        IpAddress => ip_in(policy, request),
        NotIpAddress => ip_in(policy, request).map(|inside| !inside),
        ArnEquals | ArnLike => arn_like(policy, request, ctx)?,
        ArnNotEquals | ArnNotLike => arn_like(policy, request, ctx)?.map(|m| !m),
        Null => None,
    })
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn numeric(policy: &str, request: &str) -> Option<(f64, f64)> {
    let parse = |s: &str| s.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    Some((parse(policy)?, parse(request)?))
}

/// Dates as milliseconds since the epoch: ISO 8601 (`2026-01-31T12:00:00Z`, `2026-01-31`) or epoch seconds
/// (`aws:EpochTime`, `aws:TokenIssueTime` may be compared with either form).
fn dates(policy: &str, request: &str) -> Option<(i128, i128)> {
    Some((parse_date(policy)?, parse_date(request)?))
}

pub(crate) fn parse_date(text: &str) -> Option<i128> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i128>().ok().map(|secs| secs * 1000);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos() / 1_000_000);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(dt.unix_timestamp_nanos() / 1_000_000);
    }
    if let Ok(dt) = time::PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(dt.assume_utc().unix_timestamp_nanos() / 1_000_000);
    }
    let date = time::Date::parse(text, &Iso8601::DEFAULT).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000)
}

/// Is the request address inside the policy's address or CIDR block? Addresses of the other IP family are
/// outside; unparsable values never match.
fn ip_in(policy: &str, request: &str) -> Option<bool> {
    let (net, prefix) = match policy.trim().split_once('/') {
        Some((net, bits)) => (net.parse::<IpAddr>().ok()?, Some(bits.parse::<u32>().ok()?)),
        None => (policy.trim().parse::<IpAddr>().ok()?, None),
    };
    let addr = request.trim().parse::<IpAddr>().ok()?;
    Some(match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = prefix.unwrap_or(32);
            if bits > 32 {
                return None;
            }
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = prefix.unwrap_or(128);
            if bits > 128 {
                return None;
            }
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    })
}

/// `ArnLike`/`ArnEquals`: both ARNs split into their six fields, each field matched with wildcards and
/// variables, case-sensitively.
fn arn_like(policy: &str, request: &str, ctx: &Context) -> Result<Option<bool>, Unresolved> {
    let p: Vec<&str> = policy.splitn(6, ':').collect();
    let r: Vec<&str> = request.splitn(6, ':').collect();
    if p.len() != 6 || r.len() != 6 {
        return Ok(None);
    }
    for (pf, rf) in p.iter().zip(r.iter()) {
        if !pattern::matches(pf, rf, ctx, true, false)? {
            return Ok(Some(false));
        }
    }
    Ok(Some(true))
}
