//! Static IAM knowledge: CloudTrail event names ↔ IAM actions, and (from another module) the IAM dataset.

pub mod event_names;
