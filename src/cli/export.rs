use super::output::{Cx, Failure, Reply};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Write every event, in the ledger's order, one canonical JSON line each.
///
/// The output is what `git ledger import` reads back, here or in another repository: events
/// keep their ids, writers and clocks, so importing the same export twice adds nothing.
/// Without --output the events go to standard output and a summary to standard error.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Write to this file instead of standard output (required with --json).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Option<Reply>, Failure> {
    let json = ledger.json;
    if json && args.output.is_none() {
        return Err(Failure {
            code: "usage".into(),
            message:
                "--json needs --output: the events and the JSON reply cannot share standard output"
                    .into(),
            hint: Some("use --output FILE with --json".into()),
        });
    }
    let loaded = ledger.load_full()?;
    for problem in &loaded.problems {
        git_ledger::eprintln_safe!(
            "warning: {}: {} (not exported)",
            problem.reference,
            problem.message
        );
    }
    let events = &loaded.state.events;
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        for event in events {
            out.write_all(event.to_line().as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()
    };
    let Some(path) = args.output else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        match write(&mut out) {
            Ok(()) => git_ledger::eprintln_safe!("Exported {} event(s)", events.len()),
            // `git ledger export | head`: the reader left; not worth an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(io_failure("standard output", &e)),
        }
        return Ok(None);
    };
    let file = std::fs::File::create(&path).map_err(|e| io_failure(path.display(), &e))?;
    write(&mut std::io::BufWriter::new(file)).map_err(|e| io_failure(path.display(), &e))?;
    let shown = path.display().to_string();
    let text = format!("Exported {} event(s) to {shown}\n", events.len());
    let data = json!({ "events": events.len(), "output": shown });
    Ok(Some(Reply::new(ledger, &loaded, data, text)))
}

fn io_failure(target: impl std::fmt::Display, e: &std::io::Error) -> Failure {
    Failure {
        code: "io".into(),
        message: format!("cannot write {target}: {e}"),
        hint: Some("check the path and its permissions".into()),
    }
}
