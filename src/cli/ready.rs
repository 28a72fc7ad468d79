use super::output::{Cx, Failure, Reply};
use git_ledger::view::memory::task_line;

pub type Args = git_ledger::request::Ready;

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    let loaded = ledger.load()?;
    let state = &loaded.state;
    let role = args.role.as_deref().map(str::trim);
    let limit = (args.limit > 0).then_some(args.limit);
    let split = state.ready_split(role, ledger.actor(), ledger.writer(), loaded.now, limit);
    let (ready, claimed) = (split.ready, split.claimed);
    let mut text: String = ready
        .iter()
        .map(|t| task_line(state, t, loaded.now) + "\n")
        .collect();
    if text.is_empty() {
        text = "No task is ready\n".into();
    }
    if split.more > 0 {
        text.push_str(&format!(
            "… and {} more (--limit 0 shows all)\n",
            split.more
        ));
    }
    if !claimed.is_empty() {
        text.push_str("\nClaimed by others\n");
        for task in &claimed {
            text.push_str(&format!("  {}\n", task_line(state, task, loaded.now)));
        }
    }
    Ok(Reply::new(ledger, &loaded, &ready, text))
}
