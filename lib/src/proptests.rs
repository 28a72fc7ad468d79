//! Property tests of the code that reads bytes the ledger does not control: stored event
//! lines, raw commit objects, and what people type as estimates and priorities. Each must
//! refuse bad input with an error, never panic, and accept exactly what it documents.
//!
//! 256 cases per property by default; `PROPTEST_CASES` raises it for a longer run.

use crate::event::Event;
use crate::ledger::{parse_estimate, parse_priority};
use crate::store::{commit_message, parse_commit};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        // Failures are reported with their minimal case; no files are written into the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text with what breaks naive encoders: quotes, backslashes, control characters, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        "[\"\\\\\\n\\r\\t\\u{0}\\u{1f}\\u{7f}é😀/<>$`;]{0,12}",
        any::<String>(),
    ]
}

/// JSON bodies as writers produce them: objects of strings, integers, booleans, null, lists
/// and nested objects. (Writers of v1 never store floating-point numbers.)
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

prop_compose! {
    fn event()(
        kind in prop_oneof![
            "[a-z]{1,8}\\.[a-z_]{1,10}",
            prop::sample::select(crate::event::body::KINDS).prop_map(str::to_string),
        ],
        time in text(),
        hlc in any::<u64>(),
        writer in "[0-9a-f]{4,40}",
        session in proptest::option::of(text()),
        actor in text(),
        subject in proptest::option::of(text()),
        body in prop::collection::btree_map(text(), json(), 0..5),
        extra in prop::collection::btree_map("x_[a-z]{1,6}", json(), 0..2),
    ) -> Event {
        let mut event = Event::seal(
            &kind,
            time,
            hlc,
            &writer,
            session,
            &actor,
            subject,
            crate::event::Body::Unknown(Value::Object(body.into_iter().collect())),
        );
        // Envelope fields of a newer version: kept, hashed and written back as read.
        event.extra = extra.into_iter().collect::<Map<String, Value>>();
        event.id = event.compute_id();
        // As a reader has it: a body of a known kind typed, if it is one.
        Event::from_line(&event.to_line()).unwrap_or(event)
    }
}

/// One edit of a line: replace, insert or delete a character, or cut the line short.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let c = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('{'),
        Just('}'),
        Just(','),
        Just(':'),
        Just('0'),
        any::<char>()
    ];
    prop_oneof![
        (any::<usize>(), c.clone()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        (any::<usize>(), c).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(line: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = line.chars().collect();
    for m in mutations {
        let len = chars.len();
        match *m {
            Mutation::Replace(at, c) if len > 0 => chars[at % len] = c,
            Mutation::Insert(at, c) => chars.insert(at % (len + 1), c),
            Mutation::Delete(at) if len > 0 => {
                chars.remove(at % len);
            }
            Mutation::Truncate(at) => chars.truncate(at % (len + 1)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// What `parse_priority` documents: `0`…`4` or `p0`…`p4` (any case), spaces around ignored.
fn documented_priority(input: &str) -> Option<u8> {
    let t = input.trim();
    let rest = t
        .strip_prefix('p')
        .or_else(|| t.strip_prefix('P'))
        .unwrap_or(t);
    ["0", "1", "2", "3", "4"]
        .iter()
        .position(|d| *d == rest)
        .map(|p| p as u8)
}

/// What `parse_estimate` documents: `<n>` minutes, `<n>h`, `<n>m` or `<n>h<n>m`, decimal
/// digits, any case, spaces around ignored, more than zero in total.
fn documented_estimate(input: &str) -> Option<u64> {
    let t = input.trim().to_ascii_lowercase();
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let total = if let Some(minutes) = number(&t) {
        minutes
    } else {
        let (hours, rest) = match t.split_once('h') {
            Some((h, rest)) => (Some(number(h)?), rest),
            None => (None, t.as_str()),
        };
        let minutes = match rest {
            "" => None,
            rest => Some(number(rest.strip_suffix('m')?)?),
        };
        if hours.is_none() && minutes.is_none() {
            return None;
        }
        hours
            .unwrap_or(0)
            .checked_mul(60)?
            .checked_add(minutes.unwrap_or(0))?
    };
    (total > 0 && total <= crate::ledger::MAX_ESTIMATE_MINUTES).then_some(total)
}

/// The commit parser as first written (byte windows instead of memchr): the reference the
/// faster one must agree with on every input.
fn parse_commit_reference(data: &[u8]) -> (Option<git2::Oid>, Vec<&[u8]>) {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (header, message) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &data[data.len()..]),
    };
    let parent = header
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"parent "))
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .and_then(|hex| git2::Oid::from_str(hex.trim()).ok());
    let body = match message.windows(2).position(|w| w == b"\n\n") {
        Some(at) => &message[at + 2..],
        None => &message[message.len()..],
    };
    let lines = body
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    (parent, lines)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn from_line_never_panics_on_arbitrary_text(line in any::<String>()) {
        let _ = Event::from_line(&line);
    }

    #[test]
    fn from_line_never_panics_on_json_shaped_text(line in "[{}\\[\\]\":,0-9a-z\\\\ ]{0,80}") {
        let _ = Event::from_line(&line);
    }

    #[test]
    fn a_stored_event_reads_back_with_its_id(event in event()) {
        let line = event.to_line();
        let read = Event::from_line(&line);
        prop_assert!(read.is_ok(), "{:?} for {line}", read.err());
        let read = read.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(&read.id, &event.id);
        prop_assert_eq!(read.to_line(), line, "the stored form is canonical");
        prop_assert_eq!(read, event);
    }

    #[test]
    fn a_mutated_line_never_panics_and_never_reads_as_another_event(
        event in event(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let line = event.to_line();
        let mutated = mutate(&line, &mutations);
        if let Ok(read) = Event::from_line(&mutated) {
            // Whatever still parses carries an id that matches its content...
            prop_assert_eq!(read.compute_id(), read.id.clone());
            // ...so a change of content is never taken for the original event.
            if read.id == event.id {
                prop_assert_eq!(read, event);
            }
        }
    }

    #[test]
    fn priorities_are_exactly_the_documented_ones(
        input in prop_oneof!["[ pP+\\-0-9a]{0,4}", any::<String>()],
    ) {
        prop_assert_eq!(parse_priority(&input).ok(), documented_priority(&input));
    }

    #[test]
    fn estimates_are_exactly_the_documented_ones(
        input in prop_oneof!["[ hmHM+\\-.0-9x]{0,7}", "[0-9]{1,22}[hm]?", any::<String>()],
    ) {
        prop_assert_eq!(parse_estimate(&input).ok(), documented_estimate(&input));
    }

    #[test]
    fn parse_commit_never_panics_and_agrees_with_the_reference(
        data in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            prop::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), Just(b'p'), any::<u8>()], 0..64),
        ],
    ) {
        prop_assert_eq!(parse_commit(&data), parse_commit_reference(&data));
    }

    #[test]
    fn parse_commit_finds_the_parent_and_every_event(
        events in prop::collection::vec(event(), 1..4),
        parent in proptest::option::of(any::<[u8; 20]>()),
    ) {
        let parent = parent.and_then(|bytes| git2::Oid::from_bytes(&bytes).ok());
        let mut raw = String::from("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n");
        if let Some(parent) = parent {
            raw.push_str(&format!("parent {parent}\n"));
        }
        raw.push_str("author A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 +0000\n\n");
        raw.push_str(&commit_message(&events));
        let (found, lines) = parse_commit(raw.as_bytes());
        prop_assert_eq!(found, parent);
        let read: Vec<String> = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let written: Vec<String> = events.iter().map(Event::to_line).collect();
        prop_assert_eq!(read, written);
    }
}
