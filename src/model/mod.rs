//! The project's own data model: everything the sources produce and everything the renderers consume.
//! Nothing in here knows where data came from (SDK, file) or how it is shown.

pub mod access_denied;
pub mod event;
pub mod finding;
pub mod task;

pub use access_denied::AccessDenied;
pub use finding::*;
