use super::output::{Cx, Failure, Reply};
use git_ledger::store::RefUpdate;

/// Exchange events with a remote: take in other clones' ledger refs, push this clone's.
///
/// Fetches refs/ledger/v1/writers/* from the remote into a private namespace and checks each
/// ref before anything moves: refs of other clones are created or fast-forwarded, this
/// clone's own ref is never taken from the remote, and a copy whose history was rewritten
/// (force-pushed) is refused with nothing changed. Then pushes the writer refs, never forced.
/// Plain git moves the same refs without these checks:
/// git fetch origin 'refs/ledger/*:refs/ledger/*' and git push origin 'refs/ledger/*:refs/ledger/*'
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The remote: a name (see `git remote -v`), a URL or a path.
    #[arg(default_value = "origin")]
    remote: String,
    /// Only take in the remote's events; push nothing.
    #[arg(long)]
    no_push: bool,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let (loaded, outcome) = ledger.sync(&args.remote, !args.no_push)?;
    let refs = &outcome.refs;
    let mut text = format!(
        "Synced with {}: {} writer ref(s) there\n",
        refs.remote, refs.fetched
    );
    let line = |what: &str, update: &RefUpdate| {
        let new = short(&update.new);
        match &update.old {
            Some(old) => format!("  {what:<9} {} {}..{new}\n", update.reference, short(old)),
            None => format!("  {what:<9} {} at {new}\n", update.reference),
        }
    };
    for update in &refs.created {
        text.push_str(&line("new", update));
    }
    for update in &refs.updated {
        text.push_str(&line("updated", update));
    }
    for update in &refs.pushed {
        text.push_str(&line("pushed", update));
    }
    for ignored in &refs.ignored {
        text.push_str(&format!("  ignored   {ignored} (not a writer ref)\n"));
    }
    if refs.created.is_empty() && refs.updated.is_empty() {
        text.push_str("  nothing new from the remote\n");
    }
    if !refs.push {
        text.push_str("  nothing pushed (--no-push)\n");
    } else if refs.pushed.is_empty() {
        text.push_str("  nothing to push\n");
    }
    text.push_str(&format!(
        "  events    {} received, {} in the ledger\n",
        outcome.received, outcome.events
    ));
    if outcome.conflicts > 0 {
        text.push_str(&format!(
            "  conflicts {} concurrent status change(s); see `git ledger status`\n",
            outcome.conflicts
        ));
    }
    Ok(Reply::new(ledger, &loaded, &outcome, text))
}

/// A commit id as git shows it abbreviated.
fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}
