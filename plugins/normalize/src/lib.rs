//! `normalize`: any payload in, one structured event out.
//!
//! Ingest hands every event over with the payload in `raw` (a JSON object as
//! text, or one text line). This step tries the configured formats in order
//! — tenant patterns, JSON, syslog, access log, logfmt, plain text by
//! default — and fills `timestamp_ns`, `service`, `level`, `message`,
//! `project` and `attributes` from the first that recognises the payload.
//! Each built-in format rejects a payload by its first bytes, so trying them
//! in turn costs little; everything configurable is compiled once in `new`.
//!
//! Events without `raw` are already structured: they pass untouched, except
//! that a missing timestamp becomes the received time and static fields are
//! added, so that every event leaving this step has a time.

mod access;
mod config;
mod grok;
mod json;
mod level;
mod logfmt;
mod patterns;
mod record;
mod roles;
mod syslog;
mod text;
mod time;

use regex::CaptureLocations;
use sluice_plugin_sdk::{
    Attribute, ConfigError, Event, InitContext, Output, Plugin, PluginError, Value, Verdict,
    export_plugin,
};

pub use config::{Config, FieldType, Format, OnUnparsed};
pub use level::parse_level;

use config::{Role, Settings};
use record::{Ctx, Message, PARSE_ERROR, Record};
use time::TimeCtx;

/// The plugin: compiled settings plus scratch space reused across events.
pub struct Normalize {
    settings: Settings,
    /// Capture storage, one per tenant pattern.
    locations: Vec<CaptureLocations>,
    record: Record,
    json: json::Scratch,
}

/// Why no format took a payload.
enum Unparsed {
    /// A format recognised the payload's shape but not its content.
    Malformed(String),
    /// No enabled format recognised it.
    NoMatch,
}

impl Plugin for Normalize {
    type Config = Config;

    fn new(config: Config, _context: &InitContext) -> Result<Self, ConfigError> {
        let settings = Settings::compile(config)?;
        let locations = settings.patterns.iter().map(|p| p.locations()).collect();
        Ok(Self {
            settings,
            locations,
            record: Record::default(),
            json: json::Scratch::default(),
        })
    }

    fn process(&mut self, event: &mut Event, _out: &mut Output) -> Result<Verdict, PluginError> {
        let Some(mut raw) = event.raw.take() else {
            return Ok(self.structured(event));
        };
        let line = raw.trim_end_matches(['\n', '\r']);
        let ctx = Ctx {
            settings: &self.settings,
            time: TimeCtx {
                received_ns: event.received_ns,
                default_offset_s: self.settings.default_offset_s,
            },
            timestamp_format: None,
            line,
        };
        let rec = &mut self.record;
        rec.clear();
        let parsed = parse(line, rec, &ctx, &mut self.locations, &mut self.json);
        if let Err(why) = parsed {
            let reason = match why {
                Unparsed::Malformed(reason) => reason,
                Unparsed::NoMatch => no_match_reason(&self.settings),
            };
            if self.settings.on_unparsed == OnUnparsed::DeadLetter {
                return Err(PluginError::msg(format!("normalize: {reason}")));
            }
            rec.clear();
            rec.message = Message::tail(line, 0);
            rec.attributes.push(Attribute {
                key: PARSE_ERROR.to_owned(),
                value: Value::Text(reason),
            });
        }
        match std::mem::take(&mut rec.message) {
            Message::None => event.message.clear(),
            Message::Owned(text) => event.message = text,
            Message::Span(start, end) if self.settings.keep_raw => {
                event.message.clear();
                event.message.push_str(&raw[start..end]);
            }
            Message::Span(start, end) => {
                // Reuse the payload's buffer for the message: no allocation.
                raw.truncate(end);
                raw.drain(..start);
                event.message = std::mem::take(&mut raw);
            }
        }
        event.level = rec.level.or(event.level);
        event.timestamp_ns = rec
            .timestamp_ns
            .or(event.timestamp_ns)
            .or(Some(event.received_ns));
        if let Some(service) = rec.service.take() {
            event.service = Some(service);
        }
        if let Some(project) = rec.project.take() {
            event.project = Some(project);
        }
        event.attributes.append(&mut rec.attributes);
        self.add_statics(event);
        if self.settings.keep_raw {
            event.raw = Some(raw);
        }
        Ok(Verdict::Changed)
    }
}

impl Normalize {
    /// An event that arrived structured: fill a missing time and the static
    /// fields, and pass it without copying when there is nothing to do.
    fn structured(&self, event: &mut Event) -> Verdict {
        let needs_time = event.timestamp_ns.is_none();
        let s = &self.settings;
        if !needs_time && s.static_attrs.is_empty() && s.static_roles.is_empty() {
            return Verdict::Unchanged;
        }
        if needs_time {
            event.timestamp_ns = Some(event.received_ns);
        }
        self.add_statics(event);
        Verdict::Changed
    }

    /// Static fields, never overriding what the payload said.
    fn add_statics(&self, event: &mut Event) {
        for (key, value) in &self.settings.static_attrs {
            if !event.attributes.iter().any(|a| &a.key == key) {
                event.attributes.push(Attribute {
                    key: key.clone(),
                    value: value.clone(),
                });
            }
        }
        for (role, text) in &self.settings.static_roles {
            match role {
                Role::Service if event.service.is_none() => event.service = Some(text.clone()),
                Role::Project if event.project.is_none() => event.project = Some(text.clone()),
                Role::Level if event.level.is_none() => event.level = parse_level(text),
                _ => {}
            }
        }
    }
}

/// Try the formats in order.
fn parse(
    line: &str,
    rec: &mut Record,
    ctx: &Ctx<'_>,
    locations: &mut [CaptureLocations],
    scratch: &mut json::Scratch,
) -> Result<(), Unparsed> {
    for format in &ctx.settings.formats {
        let ok = match format {
            Format::Patterns => ctx
                .settings
                .patterns
                .iter()
                .zip(locations.iter_mut())
                .any(|(pattern, locs)| pattern.apply(line, locs, rec, ctx)),
            Format::Json => match json::parse(line, rec, ctx, scratch) {
                json::JsonOutcome::NotJson => false,
                json::JsonOutcome::Parsed => true,
                // A payload shaped like JSON is JSON: report the error
                // rather than let the text format swallow it.
                json::JsonOutcome::Malformed(reason) => return Err(Unparsed::Malformed(reason)),
            },
            Format::Syslog => syslog::parse(line, rec, ctx),
            Format::Access => access::parse(line, rec, ctx),
            Format::Logfmt => logfmt::parse(line, rec, ctx),
            Format::Text => {
                text::parse(line, rec, ctx);
                true
            }
        };
        if ok {
            return Ok(());
        }
        rec.clear();
    }
    Err(Unparsed::NoMatch)
}

fn no_match_reason(settings: &Settings) -> String {
    let tried: Vec<&str> = settings.formats.iter().map(|f| f.name()).collect();
    format!("no format matched (tried {})", tried.join(", "))
}

export_plugin!(Normalize);

#[cfg(test)]
mod tests;
