//! why-task-failed: says why an ECS task failed or why an AWS call was denied, and prints the exact fix.
//!
//! Data flows one way: `cli` → `diagnose` → `rules` / `source` / `fix` / `policy` / `render` → `model` / `iamdata`.

pub mod cli;
pub mod diagnose;
pub mod fix;
pub mod iamdata;
pub mod model;
pub mod policy;
pub mod render;
pub mod rules;
pub mod source;
