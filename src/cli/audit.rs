use super::output::{Cx, Failure, Reply};

/// Verify the ledger: event ids, append-only refs, schema, references, cycles, sessions.
///
/// Exits 0 only when the ledger is intact. An intact audit records the writer tips in
/// .git/ledger/audit-checkpoint, so the next audit detects a ledger ref that was rewritten or
/// force-pushed in between.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

pub fn run(ledger: &Cx, _args: Args) -> Result<Reply, Failure> {
    let report = ledger.audit()?;
    let loaded = ledger.load()?;
    let mut text = format!(
        "{} event(s) from {} writer(s): {}\n\n",
        report.events,
        report.writers,
        if report.intact {
            "intact"
        } else {
            "NOT intact"
        }
    );
    for check in &report.checks {
        let mark = if check.passed { "ok  " } else { "FAIL" };
        text.push_str(&format!("{mark} {}\n", check.name));
        for finding in &check.findings {
            text.push_str(&format!("       {finding}\n"));
        }
    }
    let notices = &report.notices;
    let mut notice = |title: &str, items: &[String]| {
        if !items.is_empty() {
            text.push_str(&format!("\n{title}\n"));
            for item in items {
                text.push_str(&format!("  {item}\n"));
            }
        }
    };
    notice("Forced completions", &notices.forced_completions);
    notice("Gate overrides", &notices.gate_overrides);
    notice("Open sessions", &notices.open_sessions);
    notice(
        "Concurrent edits (the later one in the order won)",
        &notices.conflicts,
    );
    let unknown: Vec<String> = notices
        .unknown_kinds
        .iter()
        .map(|(k, n)| format!("{k}: {n} event(s), kept"))
        .collect();
    notice("Kinds unknown to this version", &unknown);
    if notices.first_checkpoint && report.intact {
        text.push_str(
            "\nFirst audit of this clone: the ref tips are now the checkpoint for the next one.\n",
        );
    }
    let mut reply = Reply::new(ledger, &loaded, &report, text);
    if !report.intact {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name)
            .collect();
        reply.failure = Some(Failure {
            code: "audit_failed".into(),
            message: format!("the ledger is not intact: {}", failed.join(", ")),
            hint: Some("see the findings above; a rewritten ref must be restored from a clone that has the old history".into()),
        });
    }
    Ok(reply)
}
