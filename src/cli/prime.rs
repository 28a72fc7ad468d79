use super::input::{Hook, hook_session_key};
use super::output::{Cx, Failure, Reply};
use git_ledger::view::prime::{DEFAULT_MAX_BYTES, Reader};

/// A compact markdown brief to start an agent's context with.
///
/// Who the agent is (GIT_LEDGER_AGENT) with its mission and task, working memory, ready tasks,
/// open decisions, knowledge about its area and the commands it needs. Lower-priority sections
/// are trimmed (saying how many items they left out) to stay within --max-bytes.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The most bytes the brief may take.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
    max_bytes: usize,
    /// Run as the harness's session-start hook: read its JSON from standard input and open
    /// (or resume) the ledger session of its session first.
    #[arg(long, value_enum, value_name = "HARNESS")]
    hook: Option<Hook>,
}

pub fn run(ledger: &Cx, args: Args) -> Result<Reply, Failure> {
    // As a hook, the state after opening the session is the one to brief from.
    let loaded = match args.hook {
        Some(hook) => {
            let (loaded, context) = ledger.session_for_harness(&hook_session_key(hook)?)?;
            for notice in &context.notices {
                git_ledger::eprintln_safe!("{notice}");
            }
            loaded
        }
        None => ledger.load()?,
    };
    let session = ledger.current_session(&loaded.state)?;
    let scope = ledger.scope(&loaded, session.as_deref());
    let reader = Reader {
        actor: ledger.actor(),
        agent: ledger.agent_name(),
    };
    let brief = ledger.prime(&loaded, &scope, reader, args.max_bytes);
    let text = brief.markdown.clone();
    Ok(Reply::new(ledger, &loaded, &brief, text))
}
