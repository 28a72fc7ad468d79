//! The newest events a state keeps (of the whole ledger, of each open session), held as
//! the index stored them until a view asks for them.
//!
//! Every command reads the state from the index, and most never show a recent event: `task
//! add` spent a quarter of its instructions parsing (and checking the ids of) the 64 lines
//! it read back. The index's sum already vouches for those bytes; a line is parsed the first
//! time it is asked for, and written back as it was read.

use crate::event::Event;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::OnceLock;

/// Events oldest first, each parsed when first asked for.
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    held: VecDeque<Held>,
}

#[derive(Debug, Clone)]
struct Held {
    /// The line the index stored (none for an event folded by this process).
    line: Option<Box<str>>,
    /// Parsed from the line when first asked for; `None` if it does not parse.
    event: OnceLock<Option<Event>>,
}

impl Held {
    fn event(&self) -> Option<&Event> {
        self.event
            .get_or_init(|| {
                let line = self.line.as_deref()?;
                Event::from_line(line).ok()
            })
            .as_ref()
    }
}

impl EventQueue {
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The events, oldest first. A stored line that no longer parses (the index's sum
    /// vouched for it, so only a bug could make one) is left out rather than failing a view.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> {
        self.held.iter().filter_map(Held::event)
    }

    pub fn push_back(&mut self, event: Event) {
        self.held.push_back(Held {
            line: None,
            event: OnceLock::from(Some(event)),
        });
    }

    pub fn pop_front(&mut self) {
        self.held.pop_front();
    }

    /// The lines to store: as read, or made from the event.
    fn lines(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        self.held.iter().filter_map(|held| match &held.line {
            Some(line) => Some(line.as_ref().into()),
            None => held.event().map(|event| event.to_line().into()),
        })
    }
}

impl FromIterator<Event> for EventQueue {
    fn from_iter<I: IntoIterator<Item = Event>>(events: I) -> Self {
        let mut queue = EventQueue::default();
        events.into_iter().for_each(|event| queue.push_back(event));
        queue
    }
}

impl Serialize for EventQueue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.lines())
    }
}

impl<'de> Deserialize<'de> for EventQueue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EventQueue, D::Error> {
        let lines: Vec<String> = Vec::deserialize(d)?;
        let held = lines.into_iter().map(|line| Held {
            line: Some(line.into_boxed_str()),
            event: OnceLock::new(),
        });
        Ok(EventQueue {
            held: held.collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u64) -> Event {
        let body = serde_json::json!({ "text": format!("insight {n}") });
        Event::seal(
            "insight.recorded",
            "2026-01-05T09:00:00Z".to_string(),
            n,
            "w",
            None,
            "orchestrator",
            Some(format!("i-{n:04}")),
            crate::event::Body::from_json("insight.recorded", body),
        )
    }

    #[test]
    fn lines_read_back_are_parsed_when_asked_for_and_written_as_read() {
        let queue: EventQueue = [event(1), event(2)].into_iter().collect();
        let bytes = rmp_serde::to_vec(&queue).expect("encode");
        let read: EventQueue = rmp_serde::from_slice(&bytes).expect("decode");
        assert!(read.held.iter().all(|held| held.event.get().is_none()));
        assert_eq!(rmp_serde::to_vec(&read).expect("encode"), bytes);
        let ids: Vec<&str> = read.iter().map(|e| e.id.as_str()).collect();
        let expected: Vec<&str> = queue.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_line_that_does_not_parse_is_left_out() {
        let bytes = rmp_serde::to_vec(&vec![event(3).to_line(), "{not an event".to_string()])
            .expect("encode");
        let read: EventQueue = rmp_serde::from_slice(&bytes).expect("decode");
        assert_eq!(read.len(), 2);
        assert_eq!(read.iter().count(), 1);
    }
}
