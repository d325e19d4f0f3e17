//! Packing a batch for the boundary (see `packed-events` in the WIT
//! contract): all text in one buffer, the events' fixed-size parts in
//! another, so lowering a batch is two copies instead of a call into the
//! plugin's allocator per string. The tenant, shared by the whole batch, is
//! written once.

use super::bindings::sluice::plugin::types::PackedEvents;
use super::bindings::{Event, Level, Value};

/// Span start that marks an absent optional string.
pub const NONE: u32 = u32::MAX;

/// Pack `events` for one `process` call.
pub fn pack(events: &[Event]) -> PackedEvents {
    let text_len: usize = events.iter().map(text_size).sum();
    let mut p = Packer {
        text: String::with_capacity(text_len + 64),
        bytes: Vec::with_capacity(events.len() * 96),
    };
    let mut tenant: Option<(&str, u32, u32)> = None;
    for event in events {
        p.string(&event.id);
        match tenant {
            Some((name, start, len)) if name == event.tenant => p.span(start, len),
            _ => {
                let start = p.text.len() as u32;
                p.string(&event.tenant);
                tenant = Some((&event.tenant, start, event.tenant.len() as u32));
            }
        }
        p.string(&event.message);
        p.optional(event.project.as_deref());
        p.optional(event.service.as_deref());
        p.optional(event.raw.as_deref());
        p.optional(event.template.as_deref());
        p.bytes.extend_from_slice(&event.received_ns.to_le_bytes());
        p.bytes.push(u8::from(event.timestamp_ns.is_some()));
        p.bytes
            .extend_from_slice(&event.timestamp_ns.unwrap_or(0).to_le_bytes());
        p.bytes.push(event.level.map_or(255, level_code));
        p.bytes.push(u8::from(event.fingerprint.is_some()));
        p.bytes
            .extend_from_slice(&event.fingerprint.unwrap_or(0).to_le_bytes());
        p.bytes
            .extend_from_slice(&(event.attributes.len() as u32).to_le_bytes());
        for attribute in &event.attributes {
            p.string(&attribute.key);
            match &attribute.value {
                Value::Null => p.bytes.push(0),
                Value::Boolean(b) => p.bytes.extend_from_slice(&[1, u8::from(*b)]),
                Value::Integer(n) => {
                    p.bytes.push(2);
                    p.bytes.extend_from_slice(&n.to_le_bytes());
                }
                Value::Float(f) => {
                    p.bytes.push(3);
                    p.bytes.extend_from_slice(&f.to_bits().to_le_bytes());
                }
                Value::Text(s) => {
                    p.bytes.push(4);
                    p.string(s);
                }
                Value::Json(s) => {
                    p.bytes.push(5);
                    p.string(s);
                }
            }
        }
    }
    PackedEvents {
        text: p.text,
        events: p.bytes,
        count: events.len() as u32,
    }
}

fn level_code(level: Level) -> u8 {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
        Level::Fatal => 5,
    }
}

struct Packer {
    text: String,
    bytes: Vec<u8>,
}

impl Packer {
    fn span(&mut self, start: u32, len: u32) {
        self.bytes.extend_from_slice(&start.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
    }

    fn string(&mut self, s: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.span(start, s.len() as u32);
    }

    fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.span(NONE, 0),
        }
    }
}

fn text_size(event: &Event) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    event.id.len()
        + event.message.len()
        + opt(&event.project)
        + opt(&event.service)
        + opt(&event.raw)
        + opt(&event.template)
        + event
            .attributes
            .iter()
            .map(|a| {
                a.key.len()
                    + match &a.value {
                        Value::Text(s) | Value::Json(s) => s.len(),
                        _ => 0,
                    }
            })
            .sum::<usize>()
}
