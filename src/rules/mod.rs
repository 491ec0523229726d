//! Classification rules: pure functions over fetched evidence, one file per cause family.

pub mod policy_match;
pub mod task_facts;
