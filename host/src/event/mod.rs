//! Events, alerts and dead letters as the rest of the host sees them. The
//! types themselves are the ones generated from the WIT contract
//! (`crate::runtime::bindings`); this module adds their public JSON shape and
//! the dead-letter record.

mod dead_letter;
pub mod json;

pub use dead_letter::DeadLetter;
pub use json::{EventJsonError, from_json, to_json};
