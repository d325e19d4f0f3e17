//! The host's checks on what a plugin hands back. A plugin is untrusted code:
//! it may not change an event's identity or tenant, inflate it past the
//! limits, or answer with the wrong number of outcomes.

use super::bindings::{Alert, Attribute, BatchResult, Event, Value};
use super::limits::{MAX_ALERTS_PER_CALL, MAX_EVENT_ATTRIBUTES, MAX_EVENT_BYTES};

/// Check the shape of a whole batch result: one outcome per input.
pub fn check_batch(result: &BatchResult, inputs: usize) -> Result<(), String> {
    if result.outcomes.len() != inputs {
        return Err(format!(
            "{} outcomes for {inputs} events",
            result.outcomes.len()
        ));
    }
    Ok(())
}

/// Check one changed event against the event it replaces.
pub fn check_event(original: &Event, changed: &Event) -> Result<(), String> {
    if changed.id != original.id {
        return Err(format!(
            "changed the event id from {:?} to {:?}",
            original.id, changed.id
        ));
    }
    if changed.tenant != original.tenant {
        return Err("changed the event's tenant".to_owned());
    }
    if changed.attributes.len() > MAX_EVENT_ATTRIBUTES {
        return Err(format!(
            "{} attributes, more than the limit of {MAX_EVENT_ATTRIBUTES}",
            changed.attributes.len()
        ));
    }
    let size = event_size(changed);
    if size > MAX_EVENT_BYTES {
        return Err(format!(
            "event of {size} bytes, more than the limit of {MAX_EVENT_BYTES}"
        ));
    }
    Ok(())
}

/// Keep at most [`MAX_ALERTS_PER_CALL`] alerts; returns how many were cut.
pub fn cap_alerts(alerts: &mut Vec<Alert>) -> usize {
    let excess = alerts.len().saturating_sub(MAX_ALERTS_PER_CALL);
    alerts.truncate(MAX_ALERTS_PER_CALL);
    excess
}

/// Approximate encoded size of an event: the sum of its text.
pub fn event_size(event: &Event) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    event.id.len()
        + event.tenant.len()
        + opt(&event.project)
        + opt(&event.service)
        + event.message.len()
        + opt(&event.raw)
        + opt(&event.template)
        + event.attributes.iter().map(attribute_size).sum::<usize>()
        + 64
}

fn attribute_size(attribute: &Attribute) -> usize {
    attribute.key.len()
        + match &attribute.value {
            Value::Text(s) | Value::Json(s) => s.len(),
            _ => 8,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, message: &str) -> Event {
        Event {
            id: id.into(),
            tenant: "acme".into(),
            project: None,
            received_ns: 0,
            timestamp_ns: None,
            service: None,
            level: None,
            message: message.into(),
            attributes: vec![],
            raw: None,
            fingerprint: None,
            template: None,
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
