//! The packed batch encoding of the plugin contract (`packed-events` and
//! `packed-result` in `plugin-sdk/wit/sluice.wit`), written once for both
//! sides of the boundary.
//!
//! The host and the plugins each have their own generated types for the
//! same WIT records, so the field-by-field part is a macro,
//! [`batch_codec!`], expanded next to each side's bindings; the byte-level
//! part ([`Writer`], [`Reader`]) is ordinary code.

/// Span start that marks an absent optional string.
pub const NONE: u32 = u32::MAX;

/// Outcome tags of `packed-result.outcomes`.
pub mod tag {
    /// Keep the event as it was sent.
    pub const PASS: u8 = 0;
    /// Keep the next event of `kept` in its place.
    pub const KEEP: u8 = 1;
    /// Drop the event.
    pub const DROP: u8 = 2;
    /// Fail the event with the next reason of `failures`.
    pub const FAIL: u8 = 3;
}

/// What a plugin may hand back across the boundary: the host refuses (and
/// dead-letters) anything beyond these, whatever the plugin's language or
/// SDK version. Plugin authors can check against them before the host does.
pub mod limits {
    /// Largest event a plugin may hand back. Bounds a plugin that inflates
    /// events (by bug or on purpose) before they reach queues and stores.
    pub const MAX_EVENT_BYTES: usize = 1 << 20;

    /// Most attributes an event may carry out of a plugin. Bounds column and
    /// index blow-up in the stores.
    pub const MAX_EVENT_ATTRIBUTES: usize = 512;

    /// Most alerts one call may emit. Bounds alert storms from a broken rule.
    pub const MAX_ALERTS_PER_CALL: usize = 1_000;
}

/// Keep at most [`limits::MAX_ALERTS_PER_CALL`] alerts; returns how many
/// were cut.
pub fn cap_alerts<T>(alerts: &mut Vec<T>) -> usize {
    let excess = alerts.len().saturating_sub(limits::MAX_ALERTS_PER_CALL);
    alerts.truncate(limits::MAX_ALERTS_PER_CALL);
    excess
}

/// Appends strings to one text buffer and fixed-size fields to one byte
/// buffer.
#[derive(Debug, Default)]
pub struct Writer {
    /// Every string, back to back.
    pub text: String,
    /// Fixed-size fields and spans into `text`.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// A writer with room for about `text` bytes of strings and `events` events.
    pub fn with_capacity(text: usize, events: usize) -> Self {
        Self {
            text: String::with_capacity(text),
            bytes: Vec::with_capacity(events * 96),
        }
    }

    /// A span (start, length) into the text.
    pub fn span(&mut self, start: u32, len: u32) {
        self.bytes.extend_from_slice(&start.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
    }

    /// A string: appended to the text, its span to the bytes. Returns the span.
    pub fn string(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.span(start, s.len() as u32);
        (start, s.len() as u32)
    }

    /// An optional string.
    pub fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.string(s);
            }
            None => self.span(NONE, 0),
        }
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    /// A little-endian u32.
    pub fn u32(&mut self, value: u32) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// A little-endian u64.
    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }

    /// A presence byte and the value (zero when absent).
    pub fn optional_u64(&mut self, value: Option<u64>) {
        self.u8(u8::from(value.is_some()));
        self.u64(value.unwrap_or(0));
    }
}

/// Reads what a [`Writer`] wrote; every read is bounds-checked, so a
/// malformed batch is an error, never a panic.
#[derive(Debug)]
pub struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Read `bytes`, whose spans point into `text`.
    pub fn new(text: &'a str, bytes: &'a [u8]) -> Self {
        Self { text, bytes, at: 0 }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let chunk = self.bytes.get(self.at..self.at.checked_add(N)?)?;
        self.at += N;
        chunk.try_into().ok()
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Option<u32> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    /// A presence byte and a u64.
    pub fn optional_u64(&mut self) -> Option<Option<u64>> {
        let present = self.u8()? == 1;
        let value = self.u64()?;
        Some(present.then_some(value))
    }

    /// An optional string.
    pub fn optional(&mut self) -> Option<Option<String>> {
        Some(self.span_text()?.map(str::to_owned))
    }

    /// A string.
    pub fn string(&mut self) -> Option<String> {
        self.optional()?
    }

    /// The text of a span, borrowed; `None` inside for an absent optional.
    fn span_text(&mut self) -> Option<Option<&'a str>> {
        let (start, len) = (self.u32()?, self.u32()?);
        if start == NONE {
            return Some(None);
        }
        let start = start as usize;
        let end = start.checked_add(len as usize)?;
        Some(Some(self.text.get(start..end)?))
    }

    /// A string read into `into`, reusing its allocation.
    pub fn string_into(&mut self, into: &mut String) -> Option<()> {
        let text = self.span_text()??;
        into.clear();
        into.push_str(text);
        Some(())
    }

    /// An optional string read into `into`, reusing its allocation when both
    /// the old and the new value are present.
    pub fn optional_into(&mut self, into: &mut Option<String>) -> Option<()> {
        match (self.span_text()?, into.as_mut()) {
            (None, _) => *into = None,
            (Some(text), Some(existing)) => {
                existing.clear();
                existing.push_str(text);
            }
            (Some(text), None) => *into = Some(text.to_owned()),
        }
        Some(())
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Expand, where `Event`, `Attribute`, `Level`, `Value`, `Outcome`,
/// `BatchResult`, `Alert`, `FingerprintMerge`, `PackedEvents` and
/// `PackedResult` name one side's
/// generated types, into `pack`, `unpack`, `pack_result` and
/// `unpack_result` for those types.
#[macro_export]
macro_rules! batch_codec {
    () => {
        /// Pack events for the boundary (layout in `packed-events`).
        #[allow(dead_code)]
        pub fn pack(events: &[Event]) -> PackedEvents {
            let text_len: usize = events.iter().map(text_size).sum();
            let mut w = EventWriter {
                w: $crate::Writer::with_capacity(text_len + 64, events.len()),
                tenant: None,
                count: 0,
            };
            for event in events {
                w.write(event);
            }
            w.finish()
        }

        /// Packs events one at a time, writing a run of events of one
        /// tenant's name once.
        #[allow(dead_code)]
        #[derive(Default)]
        pub struct EventWriter {
            w: $crate::Writer,
            /// Span of the last tenant name written.
            tenant: ::std::option::Option<(u32, u32)>,
            count: u32,
        }

        #[allow(dead_code)]
        impl EventWriter {
            /// Append one event.
            pub fn write(&mut self, event: &Event) {
                let w = &mut self.w;
                w.string(&event.id);
                let written = self.tenant.filter(|&(start, len)| {
                    w.text.get(start as usize..(start + len) as usize)
                        == Some(event.tenant.as_str())
                });
                match written {
                    Some((start, len)) => w.span(start, len),
                    None => self.tenant = Some(w.string(&event.tenant)),
                }
                w.string(&event.message);
                w.optional(event.project.as_deref());
                w.optional(event.service.as_deref());
                w.optional(event.raw.as_deref());
                w.optional(event.template.as_deref());
                w.u64(event.received_ns as u64);
                w.optional_u64(event.timestamp_ns.map(|t| t as u64));
                w.u8(match event.level {
                    Some(Level::Trace) => 0,
                    Some(Level::Debug) => 1,
                    Some(Level::Info) => 2,
                    Some(Level::Warn) => 3,
                    Some(Level::Error) => 4,
                    Some(Level::Fatal) => 5,
                    None => 255,
                });
                w.optional_u64(event.fingerprint);
                w.u32(event.attributes.len() as u32);
                for attribute in &event.attributes {
                    w.string(&attribute.key);
                    match &attribute.value {
                        Value::Null => w.u8(0),
                        Value::Boolean(b) => {
                            w.u8(1);
                            w.u8(u8::from(*b));
                        }
                        Value::Integer(n) => {
                            w.u8(2);
                            w.u64(*n as u64);
                        }
                        Value::Float(f) => {
                            w.u8(3);
                            w.u64(f.to_bits());
                        }
                        Value::Text(s) => {
                            w.u8(4);
                            w.string(s);
                        }
                        Value::Json(s) => {
                            w.u8(5);
                            w.string(s);
                        }
                    }
                }
                self.count += 1;
            }

            /// The packed events written so far.
            pub fn finish(self) -> PackedEvents {
                PackedEvents {
                    text: self.w.text,
                    events: self.w.bytes,
                    count: self.count,
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

        /// Unpack events packed by [`pack`].
        #[allow(dead_code)]
        pub fn unpack(batch: &PackedEvents) -> Result<Vec<Event>, String> {
            unpack_with(batch, &mut blank_event)
        }

        /// Like [`unpack`], reading each event over one `fresh` hands out
        /// (a blank one, or a used one whose allocations are reused).
        #[allow(dead_code)]
        pub fn unpack_with(
            batch: &PackedEvents,
            fresh: &mut dyn FnMut() -> Event,
        ) -> Result<Vec<Event>, String> {
            let mut reader = $crate::Reader::new(&batch.text, &batch.events);
            let mut events = Vec::with_capacity((batch.count as usize).min(1 << 16));
            for _ in 0..batch.count {
                let mut event = fresh();
                read_event_into(&mut reader, &mut event).ok_or("malformed packed batch")?;
                events.push(event);
            }
            if !reader.is_done() {
                return Err("malformed packed batch: trailing bytes".to_owned());
            }
            Ok(events)
        }

        /// An event with every field empty, to read into.
        #[allow(dead_code)]
        pub fn blank_event() -> Event {
            Event {
                id: String::new(),
                tenant: String::new(),
                project: None,
                received_ns: 0,
                timestamp_ns: None,
                service: None,
                level: None,
                message: String::new(),
                attributes: Vec::new(),
                raw: None,
                fingerprint: None,
                template: None,
            }
        }

        /// Read the next event over `event`, reusing the allocations of its
        /// strings and attributes: a plugin handed one event after another
        /// this way allocates only when an event is larger than any before.
        #[allow(dead_code)]
        pub fn read_event_into(r: &mut $crate::Reader<'_>, event: &mut Event) -> Option<()> {
            r.string_into(&mut event.id)?;
            r.string_into(&mut event.tenant)?;
            r.string_into(&mut event.message)?;
            r.optional_into(&mut event.project)?;
            r.optional_into(&mut event.service)?;
            r.optional_into(&mut event.raw)?;
            r.optional_into(&mut event.template)?;
            event.received_ns = r.u64()? as i64;
            event.timestamp_ns = r.optional_u64()?.map(|t| t as i64);
            event.level = match r.u8()? {
                0 => Some(Level::Trace),
                1 => Some(Level::Debug),
                2 => Some(Level::Info),
                3 => Some(Level::Warn),
                4 => Some(Level::Error),
                5 => Some(Level::Fatal),
                _ => None,
            };
            event.fingerprint = r.optional_u64()?;
            let count = r.u32()? as usize;
            event.attributes.truncate(count);
            for index in 0..count {
                if index == event.attributes.len() {
                    event.attributes.push(Attribute {
                        key: String::new(),
                        value: Value::Null,
                    });
                }
                let attribute = &mut event.attributes[index];
                r.string_into(&mut attribute.key)?;
                let value = &mut attribute.value;
                match r.u8()? {
                    0 => *value = Value::Null,
                    1 => *value = Value::Boolean(r.u8()? == 1),
                    2 => *value = Value::Integer(r.u64()? as i64),
                    3 => *value = Value::Float(f64::from_bits(r.u64()?)),
                    4 => match value {
                        Value::Text(s) => r.string_into(s)?,
                        _ => *value = Value::Text(r.string()?),
                    },
                    5 => match value {
                        Value::Json(s) => r.string_into(s)?,
                        _ => *value = Value::Json(r.string()?),
                    },
                    _ => return None,
                }
            }
            Some(())
        }

        /// Pack a batch result (layout in `packed-result`): changed events
        /// travel packed, unchanged ones as one byte.
        #[allow(dead_code)]
        pub fn pack_result(result: BatchResult) -> PackedResult {
            let mut w = ResultWriter::with_capacity(result.outcomes.len());
            for outcome in result.outcomes {
                match outcome {
                    Outcome::Pass => w.pass(),
                    Outcome::Keep(event) => w.keep(&event),
                    Outcome::Drop => w.drop(),
                    Outcome::Fail(reason) => w.fail(reason),
                }
            }
            w.finish(result.alerts, result.merges)
        }

        /// Packs a batch result one outcome at a time, so that a changed
        /// event is packed where it is decided instead of collected first.
        #[allow(dead_code)]
        pub struct ResultWriter {
            outcomes: Vec<u8>,
            kept: EventWriter,
            failures: Vec<String>,
        }

        #[allow(dead_code)]
        impl ResultWriter {
            /// A writer for about `events` outcomes.
            pub fn with_capacity(events: usize) -> Self {
                Self {
                    outcomes: Vec::with_capacity(events),
                    kept: EventWriter::default(),
                    failures: Vec::new(),
                }
            }

            /// Keep the event as it was sent.
            pub fn pass(&mut self) {
                self.outcomes.push($crate::tag::PASS);
            }

            /// Keep this changed event in its place.
            pub fn keep(&mut self, event: &Event) {
                self.outcomes.push($crate::tag::KEEP);
                self.kept.write(event);
            }

            /// Drop the event.
            pub fn drop(&mut self) {
                self.outcomes.push($crate::tag::DROP);
            }

            /// Fail the event with `reason`.
            pub fn fail(&mut self, reason: String) {
                self.outcomes.push($crate::tag::FAIL);
                self.failures.push(reason);
            }

            /// The packed result, with what the batch raised.
            pub fn finish(self, alerts: Vec<Alert>, merges: Vec<FingerprintMerge>) -> PackedResult {
                PackedResult {
                    outcomes: self.outcomes,
                    kept: self.kept.finish(),
                    failures: self.failures,
                    alerts,
                    merges,
                }
            }
        }

        /// Unpack a result packed by [`pack_result`]; a tag without its
        /// event or reason, or one left over, is an error.
        #[allow(dead_code)]
        pub fn unpack_result(packed: PackedResult) -> Result<BatchResult, String> {
            unpack_result_with(packed, &mut blank_event)
        }

        /// Like [`unpack_result`], reading kept events over ones `fresh`
        /// hands out (see [`unpack_with`]).
        #[allow(dead_code)]
        pub fn unpack_result_with(
            packed: PackedResult,
            fresh: &mut dyn FnMut() -> Event,
        ) -> Result<BatchResult, String> {
            let mut kept = unpack_with(&packed.kept, fresh)?.into_iter();
            let mut failures = packed.failures.into_iter();
            let mut outcomes = Vec::with_capacity(packed.outcomes.len());
            for tag in packed.outcomes {
                outcomes.push(match tag {
                    $crate::tag::PASS => Outcome::Pass,
                    $crate::tag::KEEP => {
                        Outcome::Keep(kept.next().ok_or("a keep outcome without its event")?)
                    }
                    $crate::tag::DROP => Outcome::Drop,
                    $crate::tag::FAIL => {
                        Outcome::Fail(failures.next().ok_or("a fail outcome without its reason")?)
                    }
                    other => return Err(format!("unknown outcome tag {other}")),
                });
            }
            if kept.next().is_some() || failures.next().is_some() {
                return Err("more kept events or failure reasons than outcomes".to_owned());
            }
            Ok(BatchResult {
                outcomes,
                alerts: packed.alerts,
                merges: packed.merges,
            })
        }
        /// Check the shape of a whole batch result: one outcome per input.
        #[allow(dead_code)]
        pub fn check_batch(result: &BatchResult, inputs: usize) -> Result<(), String> {
            if result.outcomes.len() != inputs {
                return Err(format!(
                    "{} outcomes for {inputs} events",
                    result.outcomes.len()
                ));
            }
            Ok(())
        }

        /// Check one changed event against the event it replaces: a plugin
        /// may not change an event's identity or tenant, or inflate it past
        /// the limits.
        #[allow(dead_code)]
        pub fn check_event(original: &Event, changed: &Event) -> Result<(), String> {
            use $crate::limits::{MAX_EVENT_ATTRIBUTES, MAX_EVENT_BYTES};
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

        /// Approximate encoded size of an event: its text (tenant
        /// included), eight bytes per non-text attribute value, and a fixed
        /// overhead.
        #[allow(dead_code)]
        pub fn event_size(event: &Event) -> usize {
            let scalars = event
                .attributes
                .iter()
                .filter(|a| !matches!(a.value, Value::Text(_) | Value::Json(_)))
                .count();
            event.tenant.len() + text_size(event) + scalars * 8 + 64
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_truncated_and_out_of_range_input() {
        let mut w = Writer::default();
        w.string("hello");
        w.u64(7);
        let mut r = Reader::new(&w.text, &w.bytes);
        assert_eq!(r.string().as_deref(), Some("hello"));
        assert_eq!(r.u64(), Some(7));
        assert!(r.is_done());
        assert_eq!(r.u8(), None, "reading past the end is None");

        let mut bad = Writer::default();
        bad.span(3, 10);
        assert_eq!(
            Reader::new("abc", &bad.bytes).string(),
            None,
            "span past the text"
        );
        bad.bytes.clear();
        bad.span(u32::MAX - 1, 5);
        assert_eq!(
            Reader::new("abc", &bad.bytes).string(),
            None,
            "overflowing span"
        );
        let split = "é";
        let mut mid = Writer::default();
        mid.span(1, 1);
        assert_eq!(
            Reader::new(split, &mid.bytes).string(),
            None,
            "span inside a character"
        );
    }
}
