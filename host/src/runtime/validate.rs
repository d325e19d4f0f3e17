//! The host's checks on what a plugin hands back. A plugin is untrusted code:
//! it may not change an event's identity or tenant, inflate it past the
//! limits, or answer with the wrong number of outcomes.
//!
//! The checks are written once, in `sluice-batch-codec` next to the packed
//! encoding they guard (so the fuzz targets in `fuzz/` exercise the same
//! code), and expanded for the host's types in [`super::pack`].

pub use super::pack::{check_batch, check_event, event_size};
pub use sluice_batch_codec::cap_alerts;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::bindings::Event;
    use crate::runtime::limits::MAX_EVENT_BYTES;

    fn event(id: &str, message: &str) -> Event {
        Event {
            id: id.into(),
            tenant: "acme".into(),
            message: message.into(),
            ..crate::runtime::pack::blank_event()
        }
    }

    #[test]
    fn identity_and_tenant_are_immutable() {
        let original = event("a", "m");
        assert!(check_event(&original, &event("a", "changed")).is_ok());
        assert!(check_event(&original, &event("b", "m")).is_err());
        let mut other_tenant = event("a", "m");
        other_tenant.tenant = "globex".into();
        assert!(check_event(&original, &other_tenant).is_err());
    }

    #[test]
    fn size_limit_is_enforced_at_the_boundary() {
        let original = event("a", "");
        let overhead = event_size(&original);
        let at_cap = event("a", &"x".repeat(MAX_EVENT_BYTES - overhead));
        assert!(check_event(&original, &at_cap).is_ok());
        let over = event("a", &"x".repeat(MAX_EVENT_BYTES - overhead + 1));
        assert!(check_event(&original, &over).is_err());
    }
}
