//! Classification rules: pure functions over fetched evidence, one file per cause family.

pub mod access_denied;
pub mod policy_lints;
