//! IAM string patterns: `*`/`?` wildcards and policy variables (`${aws:username}`, `${aws:PrincipalTag/team,
//! 'none'}`, `${*}`, `${?}`, `${$}`), resolved against the request context and matched without regexes.
//!
//! Rules from <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>: a variable is
//! replaced by the key's value (its characters are literal, never wildcards); with no value and no default the
//! element never matches; a multi-valued key cannot be used as a variable.

use super::request::Context;
use crate::iamdata::{GlobToken as Token, glob_match};

/// A pattern after variable substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved(Vec<Token>);

/// Why a pattern could not be resolved: it names a context key the request does not carry (or carries with
/// several values), so the element never matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub key: String,
}

/// Resolves variables in `pattern`; `*` and `?` are wildcards only when `wildcards` is set (`StringLike`,
/// `ArnLike`, `Resource`), literal otherwise (`StringEquals`).
pub fn resolve(pattern: &str, ctx: &Context, wildcards: bool) -> Result<Resolved, Unresolved> {
    let bytes = pattern.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'$'
            && bytes.get(i + 1) == Some(&b'{')
            && let Some(close) = pattern[i + 2..].find('}')
        {
            let inner = &pattern[i + 2..i + 2 + close];
            i += close + 3;
            match inner {
                "*" => out.push(Token::Byte(b'*')),
                "?" => out.push(Token::Byte(b'?')),
                "$" => out.push(Token::Byte(b'$')),
                _ => {
                    let (name, default) = split_default(inner);
                    match ctx.single(name) {
                        Some(value) => out.extend(value.bytes().map(Token::Byte)),
                        None => match default {
                            Some(d) => out.extend(d.bytes().map(Token::Byte)),
                            None => return Err(Unresolved { key: name.to_string() }),
                        },
                    }
                }
            }
            continue;
        }
        out.push(match b {
            b'*' if wildcards => Token::AnyRun,
            b'?' if wildcards => Token::AnyOne,
            other => Token::Byte(other),
        });
        i += 1;
    }
    Ok(Resolved(out))
}

/// `aws:PrincipalTag/team, 'none'` → (`aws:PrincipalTag/team`, Some(`none`)).
fn split_default(inner: &str) -> (&str, Option<&str>) {
    match inner.split_once(',') {
        Some((name, rest)) => {
            let rest = rest.trim();
            let default = rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\''));
            (name.trim(), default)
        }
        None => (inner.trim(), None),
    }
}

impl Resolved {
    /// Does the whole `value` match?
    pub fn matches(&self, value: &str, ignore_case: bool) -> bool {
        glob_match(&self.0, value.as_bytes(), ignore_case)
    }

    /// The resolved text (wildcards shown as `*` / `?`), for explanations.
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self
            .0
            .iter()
            .map(|t| match t {
                Token::Byte(b) => *b,
                Token::AnyRun => b'*',
                Token::AnyOne => b'?',
            })
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Resolves and matches in one go; `Err` carries the unresolved key.
pub fn matches(
    pattern: &str,
    value: &str,
    ctx: &Context,
    wildcards: bool,
    ignore_case: bool,
) -> Result<bool, Unresolved> {
    Ok(resolve(pattern, ctx, wildcards)?.matches(value, ignore_case))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::default();
        for (k, v) in pairs {
            c.insert(k, vec![(*v).to_string()], false);
        }
        c
    }

    #[test]
    fn wildcards_and_variables() {
        let c = ctx(&[("aws:username", "alice")]);
        assert_eq!(matches("home/${aws:username}/*", "home/alice/x/y", &c, true, false), Ok(true));
        assert_eq!(matches("home/${aws:username}/*", "home/bob/x", &c, true, false), Ok(false));
        assert_eq!(matches("a?c", "abc", &c, true, false), Ok(true));
        assert_eq!(matches("a?c", "abc", &c, false, false), Ok(false));
        assert_eq!(matches("a*", "a*", &c, false, false), Ok(true));
        assert_eq!(matches("${*}x", "*x", &c, true, false), Ok(true));
        assert_eq!(matches("${aws:PrincipalTag/team, 'ops'}", "ops", &c, true, false), Ok(true));
        assert_eq!(
            matches("${aws:PrincipalTag/team}", "ops", &c, true, false),
            Err(Unresolved { key: "aws:PrincipalTag/team".into() })
        );
        // A value's own `*` is literal once substituted.
        let star = ctx(&[("aws:username", "*")]);
        assert_eq!(matches("${aws:username}", "bob", &star, true, false), Ok(false));
    }
}
