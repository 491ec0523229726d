//! The IAM policy evaluator: parses policy documents and decides a request the way AWS documents it, naming the
//! statements that decided. Pure: no AWS calls, no I/O.
//!
//! ```
//! use why_task_failed::policy::{self, Policy, PolicyKind, PolicySet, Request, Decision};
//! let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage",
//!   "Resource":"arn:aws:ecr:us-east-1:111122223333:repository/app"}]}"#;
//! let set = PolicySet {
//!     identity_policies: vec![Policy::parse_str("task-role-inline", doc, PolicyKind::Identity).unwrap()],
//!     ..PolicySet::default()
//! };
//! let req = Request::new(
//!     "arn:aws:sts::111122223333:assumed-role/app/task",
//!     "ecr:BatchGetImage",
//!     "arn:aws:ecr:us-east-1:111122223333:repository/app",
//!     None,
//!     &[],
//! );
//! let eval = policy::evaluate(&set, &req);
//! assert_eq!(eval.decision, Decision::Allowed);
//! assert_eq!(eval.deciding_statements[0].policy_id, "task-role-inline");
//! ```

pub mod case;
mod condition;
mod evaluate;
mod parse;
mod pattern;
mod request;
mod statement;

pub use case::{Case, CaseError, CaseOutcome};
pub use evaluate::{
    Decision, Evaluation, Layer, LayerDecision, LayerResult, OrgLevel, PolicySet, StatementRef, evaluate, layer_name,
};
pub use parse::{
    Condition, Effect, Operator, PatternList, Policy, PolicyError, PolicyKind, PrincipalEntry, PrincipalSpec,
    SetOperator, Statement,
};
pub use request::{Context, ContextValue, RawValue, Request, arn_account, is_service_principal};
pub use statement::PrincipalMatch;
