use super::output::{Cx, Failure, Reply};
use git_ledger::view::reply;

pub type Args = git_ledger::request::Search;

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let (loaded, hits) = ledger.search(&args.text(), args.kind.as_deref(), args.limit)?;
    let text = reply::search_hits(&loaded.state, &hits) + "\n";
    Ok(Reply::new(ledger, &loaded, &hits, text))
}
