//! Edits to a JSON file that keep every byte they do not change.
//!
//! Harness settings are the user's files: re-serialising them would reorder keys and reflow
//! whitespace, and `setup --remove` could not give back the original bytes. So the text is
//! parsed into spans (where each value starts and ends), and an edit inserts or deletes one
//! element's text. Removing an element is the exact inverse of inserting it.

use serde_json::Value;

/// A JSON value's place in the text: `text[start..end]` is the value.
#[derive(Debug)]
pub struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    /// Members in file order: the key (decoded), where the key starts, and the value.
    Object(Vec<(String, usize, Node)>),
    Array(Vec<Node>),
    Scalar,
}

impl Node {
    pub fn member(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Object(members) => members.iter().find(|m| m.0 == key).map(|m| &m.2),
            _ => None,
        }
    }

    pub fn elements(&self) -> &[Node] {
        match &self.kind {
            Kind::Array(elements) => elements,
            _ => &[],
        }
    }

    /// The value itself, decoded (for comparing a scalar or a small object).
    pub fn value(&self, text: &str) -> Option<Value> {
        serde_json::from_str(text.get(self.start..self.end)?).ok()
    }

    /// How many elements or members it holds.
    pub fn len(&self) -> usize {
        match &self.kind {
            Kind::Object(members) => members.len(),
            Kind::Array(elements) => elements.len(),
            Kind::Scalar => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where its `index`-th element (or member, from its key) starts and ends.
    fn item_span(&self, index: usize) -> Option<(usize, usize)> {
        match &self.kind {
            Kind::Object(members) => members.get(index).map(|m| (m.1, m.2.end)),
            Kind::Array(elements) => elements.get(index).map(|e| (e.start, e.end)),
            Kind::Scalar => None,
        }
    }
}

/// Parse `text`, which must be valid JSON (checked with serde_json first, so its error says
/// where the file is wrong).
pub fn parse(text: &str) -> Result<Node, String> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        return Err(format!("not valid JSON ({e})"));
    }
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        at: 0,
    };
    parser.skip_space();
    let node = parser.value(0).ok_or("not valid JSON")?;
    Ok(node)
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

/// serde_json refuses deeper documents, so a valid one never reaches this.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.at;
        let kind = match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b'}' => break,
                        b',' => self.at += 1,
                        b'"' => {
                            let key_start = self.at;
                            self.string()?;
                            let key =
                                serde_json::from_str(self.text.get(key_start..self.at)?).ok()?;
                            self.skip_space();
                            (self.peek()? == b':').then_some(())?;
                            self.at += 1;
                            self.skip_space();
                            let value = self.value(depth + 1)?;
                            members.push((key, key_start, value));
                        }
                        _ => return None,
                    }
                }
                self.at += 1;
                Kind::Object(members)
            }
            b'[' => {
                self.at += 1;
                let mut elements = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b']' => break,
                        b',' => self.at += 1,
                        _ => elements.push(self.value(depth + 1)?),
                    }
                }
                self.at += 1;
                Kind::Array(elements)
            }
            b'"' => {
                self.string()?;
                Kind::Scalar
            }
            _ => {
                // A number, true, false or null: up to the next delimiter.
                while self.peek().is_some_and(|b| {
                    !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.at += 1;
                }
                Kind::Scalar
            }
        };
        Some(Node {
            start,
            end: self.at,
            kind,
        })
    }

    /// Past a string, quotes included.
    fn string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                _ => self.at += 1,
            }
        }
    }
}

/// `text` with `item` added as the last element of the array (or, with `key`, the last member
/// of the object) `container`, laid out like its neighbours.
pub fn append(text: &str, container: &Node, key: Option<&str>, item: &Value) -> String {
    let unit = indent_unit(text);
    let with_key = |value: String| match key {
        Some(key) => format!("{}: {value}", Value::from(key)),
        None => value,
    };
    // An empty container has no first item.
    let last = container.len().saturating_sub(1);
    if let (Some((first_start, _)), Some((_, last_end))) =
        (container.item_span(0), container.item_span(last))
    {
        let item = if text[container.start + 1..first_start].contains('\n') {
            // One item a line: at the first item's indentation.
            let indent = line_indent(text, first_start);
            let value = pretty(item, &unit).replace('\n', &format!("\n{indent}"));
            format!("\n{indent}{}", with_key(value))
        } else {
            format!(" {}", with_key(item.to_string()))
        };
        return format!("{},{item}{}", &text[..last_end], &text[last_end..]);
    }
    let outer = line_indent(text, container.start);
    let inner = format!("{outer}{unit}");
    let value = pretty(item, &unit).replace('\n', &format!("\n{inner}"));
    format!(
        "{}\n{inner}{}\n{outer}{}",
        &text[..container.start + 1],
        with_key(value),
        &text[container.end - 1..]
    )
}

/// `text` without the `index`-th element (or member) of `container`: the inverse of
/// [`append`].
pub fn remove(text: &str, container: &Node, index: usize) -> String {
    let Some((start, end)) = container.item_span(index) else {
        return text.to_string();
    };
    let (from, to) = if container.len() == 1 {
        (container.start + 1, container.end - 1)
    } else if index > 0 {
        let (_, previous_end) = container.item_span(index - 1).unwrap_or((start, start));
        (previous_end, end)
    } else {
        let (next_start, _) = container.item_span(1).unwrap_or((end, end));
        (start, next_start)
    };
    format!("{}{}", &text[..from], &text[to..])
}

/// A whole new document: `value` pretty-printed, with a final newline.
pub fn document(value: &Value) -> String {
    pretty(value, "  ") + "\n"
}

fn pretty(value: &Value, unit: &str) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(unit.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => value.to_string(),
    }
}

/// The whitespace a line of `text` starts with, for the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// The file's indentation step: the first indented line's, else two spaces.
fn indent_unit(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect::<String>()
        })
        .find(|indent| !indent.is_empty())
        .unwrap_or_else(|| "  ".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str, path: &[&str]) {
        let root = parse(text).unwrap();
        let mut node = &root;
        for key in path {
            node = node.member(key).unwrap();
        }
        let added = append(text, node, None, &json!({"a": [1, 2]}));
        let parsed: Value = serde_json::from_str(&added).unwrap();
        let root2 = parse(&added).unwrap();
        let mut node2 = &root2;
        for key in path {
            node2 = node2.member(key).unwrap();
        }
        let last = node2.elements().len() - 1;
        assert_eq!(
            node2.elements()[last].value(&added),
            Some(json!({"a": [1, 2]})),
            "{parsed}"
        );
        assert_eq!(remove(&added, node2, last), text);
    }

    #[test]
    fn appending_then_removing_gives_back_the_same_bytes() {
        round_trip("{\"x\": []}", &["x"]);
        round_trip("{\n  \"x\": [\n    1,\n    2\n  ]\n}\n", &["x"]);
        round_trip("{\"x\": [1, 2]}", &["x"]);
        round_trip("{\n\t\"x\": [\n\t\t\"é\"\n\t]\n}", &["x"]);
    }

    #[test]
    fn members_are_added_with_their_key() {
        let text = "{\n  \"a\": 1\n}\n";
        let root = parse(text).unwrap();
        let added = append(text, &root, Some("b"), &json!({"c": true}));
        assert_eq!(
            added,
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": true\n  }\n}\n"
        );
        let root2 = parse(&added).unwrap();
        assert_eq!(remove(&added, &root2, 1), text);
        assert_eq!(
            remove(&added, &root2, 0),
            "{\n  \"b\": {\n    \"c\": true\n  }\n}\n"
        );
    }

    #[test]
    fn invalid_json_is_refused_with_where() {
        let e = parse("{\"a\": }").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }
}
