use super::output::{Cx, Failure, Reply};
use git_ledger::report;
use std::path::PathBuf;

/// Write the ledger as a static HTML site, to open in a browser with no server.
///
/// Open DIR/index.html. Pages: an overview, a timeline of sessions and agents in parallel lanes, a page per
/// objective and per task with its history, the decisions with their rationale, the knowledge
/// base and the audit verdict (the audit checkpoint is left alone). The pages need no
/// script and load nothing from outside; long lists are cut to the newest items, with a note
/// of how many were left out. Existing pages in DIR are overwritten, nothing else is touched.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The directory to write the site into (created if missing).
    #[arg(long, value_name = "DIR", required = true)]
    html: PathBuf,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load_full()?;
    for problem in &loaded.problems {
        git_ledger::eprintln_safe!("warning: {}: {}", problem.reference, problem.message);
    }
    let audit = ledger.verify(&loaded)?;
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(&loaded, session.as_deref());
    let site = report::write(&args.html, &loaded.state, &scope, &audit).map_err(|e| Failure {
        code: "report_write".into(),
        message: e.to_string(),
        hint: Some("choose a directory you can write to: git ledger report --html <DIR>".into()),
    })?;
    let largest = site.pages.iter().max_by_key(|p| p.bytes);
    let text = format!(
        "wrote {} page(s), {} KiB in all{}, to {}\nopen {}\n",
        site.pages.len(),
        site.total_bytes.div_ceil(1024),
        largest
            .map(|p| format!(" (largest {} KiB: {})", p.bytes.div_ceil(1024), p.path))
            .unwrap_or_default(),
        site.dir.display(),
        site.dir.join("index.html").display()
    );
    Ok(Reply::new(ledger, &loaded, &site, text))
}
