use super::output::{Cx, Failure, Reply, to_value};
use git_ledger::ledger::{self, ImportFormat};
use std::io::Read;
use std::path::PathBuf;

/// Import events: a `git ledger export`, an orchestrator_context.json, or beads issues.
///
/// The whole input is checked before anything is written; a bad line refuses it. Events are
/// appended in commits of at most 1000. Importing the same input again adds nothing: exported
/// events keep their ids, and entries of other tools get ids derived from their source ids.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The file to read; `-` reads standard input.
    file: PathBuf,
    /// What the file is; auto tells from its content.
    #[arg(long, value_enum, default_value = "auto")]
    format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Auto,
    /// Events from `git ledger export`, one a line.
    Jsonl,
    /// An orchestrator's orchestrator_context.json.
    Orchestrator,
    /// beads issues, one JSON object a line.
    Beads,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let from_stdin = args.file.as_os_str() == "-";
    let source = if from_stdin {
        "standard input".to_string()
    } else {
        args.file.display().to_string()
    };
    let bytes = read(&args.file, from_stdin).map_err(|e| {
        Failure::from(ledger::Error::File(ledger::FileError {
            line: None,
            message: format!("cannot read {source}: {e}"),
            fix: ledger::Fix::Path,
        }))
    })?;
    let format = match args.format {
        Format::Auto => ImportFormat::Auto,
        Format::Jsonl => ImportFormat::Jsonl,
        Format::Orchestrator => ImportFormat::Orchestrator,
        Format::Beads => ImportFormat::Beads,
    };
    let (loaded, report) = ledger.import(&bytes, format)?;
    let mut text = format!(
        "Imported {source} ({}): {} event(s) read, {} added, {} skipped as already present",
        report.format.name(),
        report.read,
        report.added,
        report.skipped
    );
    if report.commits > 0 {
        text.push_str(&format!(" ({} commit(s))", report.commits));
    }
    text.push('\n');
    if report.format == ImportFormat::Orchestrator {
        text.push_str(
            "Metrics are not imported: they are recomputed from the events (`git ledger memory long`)\n",
        );
    }
    let mut data = to_value(&report);
    data["source"] = source.into();
    Ok(Reply::new(ledger, &loaded, data, text))
}

fn read(path: &PathBuf, from_stdin: bool) -> std::io::Result<Vec<u8>> {
    if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}
