//! Events: the immutable facts the ledger is made of, their canonical encoding and their ids.
//!
//! An [`Event`] is an envelope (format version, kind, time, clock, writer, session, actor,
//! subject) around a [`Body`], typed by its kind. Its id is the blake3 hash of its canonical bytes,
//! so the same event always has the same id on every clone, and a re-imported event is
//! recognised instead of duplicated. `ledger-format.md` is the reference for all of this.

pub mod body;
pub mod kind;
pub mod money;

pub use body::Body;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// The envelope format this binary writes. Readers accept any version they can parse and
/// keep what they do not understand.
pub const FORMAT_VERSION: u32 = 1;

/// One immutable ledger event.
///
/// Read with a hand-written [`Deserialize`] (below): deriving it with the flattened `extra`
/// made serde buffer every field of every event before reading it (measured in
/// docs/performance.md), and the body can only be read once the kind is known, which comes
/// after it in the canonical key order. Serialised as its stored JSON form.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Envelope format version.
    pub v: u32,
    /// blake3 of the canonical bytes of every other field (hex, 64 chars).
    pub id: String,
    /// What happened, e.g. `task.created`. Unknown kinds are kept and shown.
    pub kind: String,
    /// Wall-clock time of the writer, RFC 3339 UTC.
    pub time: String,
    /// Hybrid logical clock in milliseconds: `max(wall clock, highest clock seen + 1)`.
    pub hlc: u64,
    /// Id of the clone that wrote the event.
    pub writer: String,
    /// Session the event belongs to, if any.
    pub session: Option<String>,
    /// Who did it: `human:<name>`, `agent:<id>` or `hook:<name>`.
    pub actor: String,
    /// The entity the event is about (task, objective, ...), if any.
    pub subject: Option<String>,
    /// Kind-specific payload.
    pub body: Body,
    /// Body fields a newer version added to a known kind: kept, hashed and written back as read.
    pub body_extra: Map<String, Value>,
    /// Envelope fields added by a newer format version: kept, hashed and written back as read.
    pub extra: Map<String, Value>,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

/// The envelope's fields; any other key is kept in `extra`.
enum Field {
    V,
    Id,
    Kind,
    Time,
    Hlc,
    Writer,
    Session,
    Actor,
    Subject,
    Body,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl serde::de::Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Field, E> {
                Ok(match key {
                    "v" => Field::V,
                    "id" => Field::Id,
                    "kind" => Field::Kind,
                    "time" => Field::Time,
                    "hlc" => Field::Hlc,
                    "writer" => Field::Writer,
                    "session" => Field::Session,
                    "actor" => Field::Actor,
                    "subject" => Field::Subject,
                    "body" => Field::Body,
                    other => Field::Other(other.to_string()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a ledger event (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        use serde::de::Error;
        fn once<T, E: Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
            match slot.replace(value) {
                Some(_) => Err(E::duplicate_field(name)),
                None => Ok(()),
            }
        }
        let (mut v, mut id, mut kind, mut time, mut hlc) = (None, None, None, None, None);
        let (mut writer, mut actor, mut body) = (None, None, None);
        let (mut session, mut subject): (Option<Option<String>>, Option<Option<String>>) =
            (None, None);
        let mut extra = Map::new();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::V => once(&mut v, map.next_value()?, "v")?,
                Field::Id => once(&mut id, map.next_value()?, "id")?,
                Field::Kind => once(&mut kind, map.next_value()?, "kind")?,
                Field::Time => once(&mut time, map.next_value()?, "time")?,
                Field::Hlc => once(&mut hlc, map.next_value()?, "hlc")?,
                Field::Writer => once(&mut writer, map.next_value()?, "writer")?,
                Field::Session => once(&mut session, map.next_value()?, "session")?,
                Field::Actor => once(&mut actor, map.next_value()?, "actor")?,
                Field::Subject => once(&mut subject, map.next_value()?, "subject")?,
                Field::Body => once(
                    &mut body,
                    map.next_value::<Box<serde_json::value::RawValue>>()?,
                    "body",
                )?,
                Field::Other(key) => {
                    let value = map.next_value()?;
                    if extra.insert(key, value).is_some() {
                        return Err(A::Error::custom("duplicate field"));
                    }
                }
            }
        }
        let kind: String = kind.ok_or_else(|| A::Error::missing_field("kind"))?;
        let (body, body_extra) = match body {
            Some(raw) => Body::read(&kind, raw.get()).map_err(A::Error::custom)?,
            None => (Body::Unknown(Value::Null), Map::new()),
        };
        Ok(Event {
            v: v.ok_or_else(|| A::Error::missing_field("v"))?,
            id: id.ok_or_else(|| A::Error::missing_field("id"))?,
            kind,
            time: time.ok_or_else(|| A::Error::missing_field("time"))?,
            hlc: hlc.ok_or_else(|| A::Error::missing_field("hlc"))?,
            writer: writer.ok_or_else(|| A::Error::missing_field("writer"))?,
            session: session.flatten(),
            actor: actor.ok_or_else(|| A::Error::missing_field("actor"))?,
            subject: subject.flatten(),
            body,
            body_extra,
            extra,
        })
    }
}

/// Everything needed to make an event, before it gets its id.
#[derive(Debug, Clone)]
pub struct Draft {
    pub subject: Option<String>,
    pub body: Body,
}

impl Draft {
    pub fn new(subject: Option<String>, body: impl Into<Body>) -> Self {
        Draft {
            subject,
            body: body.into(),
        }
    }

    /// The kind of event the draft makes (writers only make known kinds).
    pub fn kind(&self) -> &'static str {
        self.body.kind().unwrap_or("unknown")
    }
}

/// Why stored bytes are not a valid event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a JSON event: {0}")]
    Json(#[from] serde_json::Error),
    #[error("event id {stored} does not match its content (expected {computed})")]
    IdMismatch { stored: String, computed: String },
}

impl Event {
    /// Seal an event: compute its id from the canonical encoding of the other fields.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        kind: &str,
        time: String,
        hlc: u64,
        writer: &str,
        session: Option<String>,
        actor: &str,
        subject: Option<String>,
        body: Body,
    ) -> Event {
        let mut event = Event {
            v: FORMAT_VERSION,
            id: String::new(),
            kind: kind.to_string(),
            time,
            hlc,
            writer: writer.to_string(),
            session,
            actor: actor.to_string(),
            subject,
            body,
            body_extra: Map::new(),
            extra: Map::new(),
        };
        event.id = event.compute_id();
        event
    }

    /// The canonical bytes: the event as JSON without its `id`, keys sorted, no whitespace.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut value = self.to_value();
        if let Value::Object(map) = &mut value {
            map.remove("id");
        }
        value.to_string().into_bytes()
    }

    /// blake3 of the canonical bytes, lowercase hex.
    pub fn compute_id(&self) -> String {
        blake3::hash(&self.canonical_bytes()).to_hex().to_string()
    }

    /// The event as one line of canonical JSON, id included (the stored form).
    pub fn to_line(&self) -> String {
        self.to_value().to_string()
    }

    /// Parse one stored line and check its id.
    pub fn from_line(line: &str) -> Result<Event, DecodeError> {
        let event: Event = serde_json::from_str(line)?;
        // Fast path: a stored line is the canonical bytes with `"id":"…",` inserted, so hashing
        // the line without that segment proves the id without re-encoding the event. Anything
        // else (a line not in canonical form) takes the slow path and gets the same verdict.
        let segment = format!("\"id\":\"{}\",", event.id);
        if let Some(at) = memchr::memmem::rfind(line.as_bytes(), segment.as_bytes()) {
            let mut hasher = blake3::Hasher::new();
            hasher.update(&line.as_bytes()[..at]);
            hasher.update(&line.as_bytes()[at + segment.len()..]);
            if hasher.finalize().to_hex().as_str() == event.id {
                return Ok(event);
            }
        }
        let computed = event.compute_id();
        if computed != event.id {
            return Err(DecodeError::IdMismatch {
                stored: event.id,
                computed,
            });
        }
        Ok(event)
    }

    fn to_value(&self) -> Value {
        // serde_json's Map is ordered by key (no `preserve_order`), which makes this canonical.
        let mut map = self.extra.clone();
        map.insert("v".into(), self.v.into());
        map.insert("id".into(), self.id.clone().into());
        map.insert("kind".into(), self.kind.clone().into());
        map.insert("time".into(), self.time.clone().into());
        map.insert("hlc".into(), self.hlc.into());
        map.insert("writer".into(), self.writer.clone().into());
        if let Some(session) = &self.session {
            map.insert("session".into(), session.clone().into());
        }
        map.insert("actor".into(), self.actor.clone().into());
        if let Some(subject) = &self.subject {
            map.insert("subject".into(), subject.clone().into());
        }
        let mut body = self.body.to_value();
        if let Value::Object(fields) = &mut body {
            fields.extend(self.body_extra.clone());
        }
        map.insert("body".into(), body);
        Value::Object(map)
    }

    /// The total order every clone computes identically: clock, then writer, then id.
    pub fn order(&self, other: &Event) -> Ordering {
        (self.hlc, &self.writer, &self.id).cmp(&(other.hlc, &other.writer, &other.id))
    }

    /// The wall-clock time as a timestamp; unparseable times fall back to the clock.
    pub fn timestamp(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(&self.time)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_else(|_| {
                chrono::DateTime::from_timestamp_millis(self.hlc as i64).unwrap_or_default()
            })
    }
}

/// The first `n` characters of `text`: never cut inside a character, whatever an event
/// stored (text from events is data, and slicing it by bytes can panic).
pub fn prefix(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The first 10 characters of a hash (a commit or event id), for display.
pub fn short_hex(hex: &str) -> &str {
    prefix(hex, 10)
}

/// Entity kinds and their id prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityKind {
    Objective,
    Task,
    Insight,
    Decision,
    Session,
    Agent,
}

impl EntityKind {
    pub fn prefix(self) -> &'static str {
        match self {
            EntityKind::Objective => "o",
            EntityKind::Task => "t",
            EntityKind::Insight => "i",
            EntityKind::Decision => "d",
            EntityKind::Session => "s",
            EntityKind::Agent => "a",
        }
    }

    /// The noun with its article: "a task", "an insight".
    pub fn with_article(self) -> &'static str {
        match self {
            EntityKind::Objective => "an objective",
            EntityKind::Task => "a task",
            EntityKind::Insight => "an insight",
            EntityKind::Decision => "a decision",
            EntityKind::Session => "a session",
            EntityKind::Agent => "an agent",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::Objective => "objective",
            EntityKind::Task => "task",
            EntityKind::Insight => "insight",
            EntityKind::Decision => "decision",
            EntityKind::Session => "session",
            EntityKind::Agent => "agent",
        }
    }
}

/// Number of hex digits stored in an entity id (64 bits: collision-free in practice across
/// clones). Display abbreviates to the shortest unique prefix of at least [`MIN_ABBREV`].
pub const ID_HEX_LEN: usize = 16;
pub const MIN_ABBREV: usize = 6;

/// Derive a new entity id from what makes its creation unique: the writer, its clock value
/// and the creating event's kind and body.
pub fn entity_id(kind: EntityKind, writer: &str, hlc: u64, seed: &str) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(writer.as_bytes());
    hasher.update(&hlc.to_le_bytes());
    hasher.update(kind.prefix().as_bytes());
    hasher.update(seed.as_bytes());
    let hex = hasher.finalize().to_hex();
    format!("{}-{}", kind.prefix(), &hex[..ID_HEX_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event::seal(
            "task.created",
            "2026-01-01T00:00:00.000Z".into(),
            1,
            "w1",
            None,
            "human:ann",
            Some("t-0123456789abcdef".into()),
            Body::TaskCreated(body::TaskCreated {
                title: "x".into(),
                priority: 2,
                ..Default::default()
            }),
        )
    }

    #[test]
    fn id_is_stable_and_checked() {
        let event = sample();
        let line = event.to_line();
        let back = Event::from_line(&line).expect("valid line");
        assert_eq!(back, event);
        let tampered = line.replace("\"x\"", "\"y\"");
        assert!(matches!(
            Event::from_line(&tampered),
            Err(DecodeError::IdMismatch { .. })
        ));
    }

    #[test]
    fn canonical_bytes_sort_keys() {
        let bytes = String::from_utf8(sample().canonical_bytes()).expect("utf8");
        assert!(
            bytes.starts_with(
                "{\"actor\":\"human:ann\",\"body\":{\"depends_on\":[],\"priority\":2,"
            )
        );
        assert!(!bytes.contains("\"id\""));
    }

    #[test]
    fn control_characters_stay_on_one_line() {
        let event = Event::seal(
            "task.noted",
            "t".into(),
            1,
            "w",
            None,
            "a",
            None,
            Body::TaskNoted(body::TaskNoted {
                text: "a\nb\u{0}c".into(),
            }),
        );
        assert!(!event.to_line().contains('\n'));
        assert_eq!(Event::from_line(&event.to_line()).expect("ok"), event);
    }
}
