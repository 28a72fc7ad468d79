//! A section of a text file between two marker lines, owned by git ledger: written again in
//! place by `setup`, taken out by `setup --remove`, every other line left as it was.

/// The marker lines of one kind of file (their first words: the rest of the start line is a
/// note for the reader).
pub struct Markers {
    pub start: &'static str,
    pub end: &'static str,
}

/// Where the section is: the byte range of its lines, marker lines and their newlines
/// included.
fn find(text: &str, markers: &Markers) -> Result<Option<(usize, usize)>, String> {
    let mut start = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(markers.start) {
            if start.is_some() {
                return Err(format!("has `{}` twice", markers.start));
            }
            start = Some(at);
        } else if trimmed.starts_with(markers.end) {
            return match start {
                Some(start) => Ok(Some((start, at + line.len()))),
                None => Err(format!(
                    "has `{}` without `{}` before it",
                    markers.end, markers.start
                )),
            };
        }
        at += line.len();
    }
    match start {
        Some(_) => Err(format!(
            "has `{}` without `{}` after it",
            markers.start, markers.end
        )),
        None => Ok(None),
    }
}

/// Whether `text` holds the section.
pub fn contains(text: &str, markers: &Markers) -> Result<bool, String> {
    Ok(find(text, markers)?.is_some())
}

/// `text` with `section` (its marker lines included, ending with a newline) in place of the
/// old one, or appended after a blank line.
pub fn upsert(text: &str, markers: &Markers, section: &str) -> Result<String, String> {
    Ok(match find(text, markers)? {
        Some((start, end)) => format!("{}{section}{}", &text[..start], &text[end..]),
        None if text.is_empty() => section.to_string(),
        None if text.ends_with('\n') => format!("{text}\n{section}"),
        None => format!("{text}\n\n{section}"),
    })
}

/// `text` without the section, and without the blank line [`upsert`] put before it.
pub fn remove(text: &str, markers: &Markers) -> Result<String, String> {
    let Some((start, end)) = find(text, markers)? else {
        return Ok(text.to_string());
    };
    let (before, after) = (&text[..start], &text[end..]);
    let before = if after.is_empty() && before.ends_with("\n\n") {
        &before[..before.len() - 1]
    } else {
        before
    };
    Ok(format!("{before}{after}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Markers = Markers {
        start: "<!-- x:start",
        end: "<!-- x:end",
    };
    const SECTION: &str = "<!-- x:start (managed) -->\nhello\n<!-- x:end -->\n";

    #[test]
    fn a_section_is_added_replaced_and_removed_exactly() {
        for original in ["", "# Notes\n", "# Notes\n\nmore\n"] {
            let added = upsert(original, &M, SECTION).unwrap();
            assert!(added.ends_with(SECTION));
            assert_eq!(upsert(&added, &M, SECTION).unwrap(), added);
            let changed = upsert(&added, &M, &SECTION.replace("hello", "bye")).unwrap();
            assert_eq!(changed, added.replace("hello", "bye"));
            assert_eq!(remove(&added, &M).unwrap(), original);
        }
    }

    #[test]
    fn a_section_in_the_middle_keeps_its_place() {
        let text = format!("a\n{SECTION}b\n");
        let changed = upsert(&text, &M, &SECTION.replace("hello", "bye")).unwrap();
        assert_eq!(
            changed,
            "a\n<!-- x:start (managed) -->\nbye\n<!-- x:end -->\nb\n"
        );
        assert_eq!(remove(&text, &M).unwrap(), "a\nb\n");
    }

    #[test]
    fn broken_markers_are_refused() {
        assert!(
            upsert("<!-- x:start -->\n", &M, SECTION)
                .unwrap_err()
                .contains("after it")
        );
        assert!(
            remove("<!-- x:end -->\n", &M)
                .unwrap_err()
                .contains("before it")
        );
        let twice = format!("<!-- x:start\n{SECTION}");
        assert!(upsert(&twice, &M, SECTION).unwrap_err().contains("twice"));
    }
}
