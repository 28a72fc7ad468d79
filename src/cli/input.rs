//! Input helpers shared by subcommands: long text from standard input (the kernel caps one
//! argument at 128 KiB), and the JSON a harness's hook gets on standard input.

use super::output::Failure;
use git_ledger::ledger::MAX_TEXT_BYTES;
use std::io::Read;

/// The argument itself, or standard input when it is `-`.
pub fn text_arg(value: String) -> Result<String, Failure> {
    if value != "-" {
        return Ok(value);
    }
    read_text(std::io::stdin(), "standard input")
}

/// The text of a file, or of standard input when the path is `-`.
pub fn file_arg(path: &str) -> Result<String, Failure> {
    if path == "-" {
        return read_text(std::io::stdin(), "standard input");
    }
    let file = std::fs::File::open(path).map_err(|e| Failure {
        code: "io".into(),
        message: format!("cannot read {path}: {e}"),
        hint: None,
    })?;
    read_text(file, path)
}

/// At most [`MAX_TEXT_BYTES`] of UTF-8 text from `source`, named `what` in errors.
fn read_text(source: impl Read, what: &str) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    // Read one byte past the limit: enough to refuse, without holding an unbounded input.
    source
        .take(MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure {
            code: "io".into(),
            message: format!("cannot read {what}: {e}"),
            hint: None,
        })?;
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(Failure {
            code: "too_large".into(),
            message: format!("{what} holds more than the limit of {MAX_TEXT_BYTES} bytes"),
            hint: Some("commit large content to the repository and refer to its path".into()),
        });
    }
    String::from_utf8(bytes).map_err(|e| Failure {
        code: "not_utf8".into(),
        message: format!(
            "{what} is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ),
        hint: Some("the ledger stores text; convert the input to UTF-8".into()),
    })
}

/// The harnesses whose hooks run ledger commands (`setup` installs them).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Hook {
    /// Claude Code: its hook JSON on standard input names the session.
    Claude,
}

/// The ledger's key for the harness session a hook runs for, read from the JSON the harness
/// writes on the hook's standard input.
pub fn hook_session_key(hook: Hook) -> Result<String, Failure> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return Err(Failure {
            code: "usage".into(),
            message: "--hook reads the harness's JSON from standard input, and it is a terminal"
                .into(),
            hint: Some("the harness runs this command; `git ledger setup` installs it".into()),
        });
    }
    let text = read_text(std::io::stdin(), "standard input")?;
    match hook {
        Hook::Claude => git_ledger::setup::claude::hook_session_key(text.as_bytes())
            .map_err(super::setup::failure),
    }
}
