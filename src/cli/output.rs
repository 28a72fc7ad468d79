//! The one place that prints: text for people, or the `--json` envelope for scripts.

pub use git_ledger::ledger::Instructions;
use git_ledger::ledger::{self, Ledger, Loaded};
use serde::Serialize;
use serde_json::{Value, json};
use std::ops::Deref;

/// What a command produced: data for `--json`, text for people, and what to do next.
pub struct Reply {
    pub data: Value,
    pub text: String,
    pub instructions: Instructions,
    /// A command that reports and still fails (an audit that found problems): printed after
    /// the report, and the exit status is non-zero.
    pub failure: Option<Failure>,
}

/// What a command runs with: the opened ledger, and whether its reply is printed as JSON
/// (`--json`). It derefs to the ledger, so a command calls the library through it.
pub struct Cx<'a> {
    ledger: &'a Ledger,
    pub json: bool,
}

impl<'a> Cx<'a> {
    pub fn new(ledger: &'a Ledger, json: bool) -> Cx<'a> {
        Cx { ledger, json }
    }
}

impl Deref for Cx<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        self.ledger
    }
}

impl Reply {
    /// A reply with instructions computed from the ledger's state after the command.
    pub fn new(cx: &Cx, loaded: &Loaded, data: impl Serialize, text: String) -> Reply {
        // Text output shows neither the data nor the instructions: skip working them out.
        let json = cx.json;
        let ledger = cx.ledger;
        Reply {
            data: if json { to_value(data) } else { Value::Null },
            text,
            instructions: if json {
                ledger.instructions(loaded)
            } else {
                Instructions::default()
            },
            failure: None,
        }
    }
}

pub fn to_value(data: impl Serialize) -> Value {
    serde_json::to_value(data).unwrap_or(Value::Null)
}

/// A failed command: a one-line message, a stable code and a hint.
#[derive(Debug)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

impl From<ledger::Error> for Failure {
    fn from(e: ledger::Error) -> Self {
        Failure {
            code: git_ledger::explain::code(&e).to_string(),
            message: one_line(&e.to_string()),
            hint: git_ledger::explain::hint(&e),
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn print_reply(reply: &Reply, json: bool) {
    if json {
        let mut envelope = json!({
            "ok": reply.failure.is_none(),
            "data": reply.data,
            "instructions": reply.instructions,
        });
        if let Some(failure) = &reply.failure {
            envelope["error"] = error_json(failure);
        }
        stdout(&format!("{envelope}\n"));
    } else if !reply.text.is_empty() {
        let newline = if reply.text.ends_with('\n') { "" } else { "\n" };
        stdout(&format!(
            "{}{newline}",
            git_ledger::terminal::safe(&reply.text)
        ));
    }
    if let (Some(failure), false) = (&reply.failure, json) {
        print_failure(failure, false);
    }
}

fn error_json(failure: &Failure) -> Value {
    let mut error = json!({ "code": failure.code, "message": failure.message });
    if let Some(hint) = &failure.hint {
        error["hint"] = hint.as_str().into();
    }
    error
}

/// Write to stdout; a closed pipe (`git ledger log | head`) is not an error worth a panic.
fn stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub fn print_failure(failure: &Failure, json: bool) {
    if json {
        let envelope = json!({ "ok": false, "error": error_json(failure) });
        stdout(&format!("{envelope}\n"));
    } else {
        git_ledger::eprintln_safe!("error: {}", failure.message);
        if let Some(hint) = &failure.hint {
            git_ledger::eprintln_safe!("hint: {hint}");
        }
    }
}
