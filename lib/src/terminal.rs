//! Text bound for a terminal. Ledger text is anyone's text (imported, synced, typed by an
//! agent), so before it is printed every control character is shown escaped (`\u{1b}`): an
//! escape sequence cannot retitle the window, clear the screen or fake a prompt, and a bidi
//! override cannot make `txt.exe` read as `exe.txt`. Newlines and tabs are kept. `--json`
//! output is not passed through here: scripts get the exact text.

use std::borrow::Cow;

/// `text` with every control character and bidi control escaped as `\u{…}`.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// The characters that reorder the text around them (Unicode's bidi embeddings, overrides,
/// isolates and marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `eprintln!` for messages that may quote ledger text.
#[macro_export]
macro_rules! eprintln_safe {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::terminal::safe(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_controls_and_bidi_and_keeps_layout() {
        assert_eq!(safe("a\tb\nc"), "a\tb\nc");
        assert_eq!(safe("x\u{1b}[2Jy"), "x\\u{1b}[2Jy");
        assert_eq!(safe("\u{9b}\u{7f}\r"), "\\u{9b}\\u{7f}\\u{d}");
        assert_eq!(safe("txt\u{202e}exe"), "txt\\u{202e}exe");
        assert_eq!(safe("héllo ✓"), "héllo ✓");
    }
}
