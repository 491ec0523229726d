//! The one step that joins evidence, rules, the policy evaluator and fixes into a `Report`.

pub mod live;
pub mod reason;
pub mod trail;
