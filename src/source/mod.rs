//! Data sources: one trait per source; `live` talks to AWS, `offline` reads files.
pub mod iam_snapshot;
