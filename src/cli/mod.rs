//! The command line: one module per subcommand, each turning arguments into a library call
//! and its result into a [`output::Reply`].

mod agent;
mod audit;
mod blame;
mod check;
mod dash;
mod decision;
mod diff;
mod export;
mod gate;
mod hooks;
mod import;
mod init;
mod input;
mod insight;
mod log;
mod man;
mod mcp;
mod memory;
mod objective;
mod output;
mod plan;
mod prime;
mod ready;
mod replay;
mod report;
mod review;
mod search;
mod session;
mod setup;
mod status;
mod supervisor;
mod sync;
mod task;

use clap::{Parser, Subcommand};
use git_ledger::ledger::Ledger;
use output::{Cx, Failure, Reply};
use std::cell::OnceCell;
use std::path::PathBuf;
use std::process::ExitCode;

/// Record objectives, tasks, insights, decisions and sessions as immutable events in git.
///
/// Every change is an event appended as a commit on this clone's ledger ref
/// (refs/ledger/v1/writers/<id>); views such as working memory are computed from the events.
/// Run `git ledger init` once per clone, then `git ledger session start`.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-ledger", bin_name = "git ledger", version)]
pub struct Cli {
    /// Print one JSON object: {"ok":true,"data":…,"instructions":…} or {"ok":false,"error":…}
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Subcommand)]
enum Command {
    Init(init::Args),
    #[command(subcommand)]
    Objective(objective::Command),
    #[command(subcommand)]
    Plan(plan::Command),
    #[command(subcommand)]
    Task(task::Command),
    Ready(ready::Args),
    #[command(subcommand)]
    Insight(insight::Command),
    #[command(subcommand)]
    Decision(decision::Command),
    #[command(subcommand)]
    Session(session::Command),
    #[command(subcommand)]
    Agent(agent::Command),
    #[command(subcommand)]
    Memory(memory::Command),
    Search(search::Args),
    Prime(prime::Args),
    Status(status::Args),
    Dash(dash::Args),
    Log(log::Args),
    Replay(replay::Args),
    Report(report::Args),
    Diff(diff::Args),
    Audit(audit::Args),
    Blame(blame::Args),
    Export(export::Args),
    Import(import::Args),
    Sync(sync::Args),
    #[command(subcommand)]
    Hooks(hooks::Command),
    #[command(subcommand)]
    Review(review::Command),
    #[command(subcommand)]
    Gate(gate::Command),
    #[command(subcommand)]
    Check(check::Command),
    Mcp(mcp::Args),
    Setup(setup::Args),
    Man(man::Args),
    /// Run a git hook by name (what the installed hooks do).
    #[command(hide = true)]
    Hook {
        name: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

pub fn run() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Installed as a git hook (a link named after the hook): run it, nothing else.
    if let Some(program) = raw.first().map(std::path::Path::new)
        && let Some(name) = program.file_name().and_then(|n| n.to_str())
        && git_ledger::hooks::is_hook_name(name)
    {
        let args: Vec<String> = raw[1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let dir = program
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let code = git_ledger::hooks::run(name, &args, &dir);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let json = raw.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(&raw) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if json => {
            output::print_failure(&usage_failure(&e.to_string()), true);
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let json = cli.json;
    let short_lived = !matches!(cli.command, Command::Mcp(_) | Command::Dash(_));
    let opened = OnceCell::new();
    // Kept to run the command again should the local index turn out damaged.
    let again = cli.command.clone();
    let mut result = dispatch(cli.command, json, &opened, short_lived);
    if let Some(ledger) = opened.get().filter(|l| l.damage_seen()) {
        // An entity read from the cache failed its check, so the answer may lack it: remove
        // the cache. A command that wrote nothing and printed nothing yet runs again, from
        // the refs; any other says so.
        let appended = ledger.appended();
        ledger.discard_damaged_index();
        if !appended && !matches!(result, Ok(None)) {
            result = dispatch(again, json, &OnceCell::new(), short_lived);
        } else {
            git_ledger::eprintln_safe!(
                "warning: the local index was damaged and is rebuilt on the next \
                 command; this output may be incomplete"
            );
        }
    }
    match result {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(reply)) => {
            output::print_reply(&reply, json);
            if reply.failure.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(failure) => {
            output::print_failure(&failure, json);
            ExitCode::FAILURE
        }
    }
}

/// Run a command; `None` when it printed its output itself (streaming commands). The ledger
/// it opens is left in `opened`, for the caller to ask whether it appended.
fn dispatch(
    command: Command,
    json: bool,
    opened: &OnceCell<Ledger>,
    short_lived: bool,
) -> Result<Option<Reply>, Failure> {
    let dir = current_dir()?;
    let keep = |ledger: Ledger| {
        let ledger = if short_lived {
            ledger.short_lived()
        } else {
            ledger
        };
        opened.get_or_init(|| ledger)
    };
    let cx = |ledger| Cx::new(ledger, json);
    let open = || Ledger::open(&dir).map(keep).map(cx).map_err(Failure::from);
    // Commands that only read also work in a bare repository (a server's).
    let read = || {
        Ledger::open_to_read(&dir)
            .map(keep)
            .map(cx)
            .map_err(Failure::from)
    };
    let reply = match command {
        Command::Init(a) => init::run(&dir, a),
        Command::Objective(c) => objective::run(&open()?, c),
        Command::Plan(c) => plan::run(&open()?, c),
        Command::Task(c) => task::run(&open()?, c),
        Command::Ready(a) => ready::run(&read()?, a),
        Command::Search(a) => search::run(&read()?, a),
        Command::Insight(c) => insight::run(&open()?, c),
        Command::Decision(c) => decision::run(&open()?, c),
        Command::Session(c) => session::run(&open()?, c),
        Command::Agent(c) => return agent::run(&open()?, &dir, c),
        Command::Memory(a) => memory::run(&read()?, a),
        Command::Prime(a) => prime::run(&open()?, a),
        Command::Status(a) => status::run(&read()?, a),
        Command::Dash(a) => return dash::run(&open()?, a),
        Command::Log(a) => log::run(&read()?, a),
        Command::Replay(a) => return replay::run(&read()?, a),
        Command::Report(a) => report::run(&read()?, a),
        Command::Diff(a) => diff::run(&read()?, a),
        Command::Audit(a) => audit::run(&read()?, a),
        Command::Blame(a) => blame::run(&read()?, a),
        Command::Export(a) => return export::run(&read()?, a),
        Command::Import(a) => import::run(&open()?, a),
        Command::Sync(a) => sync::run(&open()?, a),
        Command::Hooks(c) => hooks::run(&dir, c),
        Command::Review(c) => review::run(&open()?, c),
        Command::Gate(c) => gate::run(&read()?, c),
        Command::Check(c) => check::run(&open()?, c),
        Command::Mcp(a) => return mcp::run(&dir, a),
        Command::Setup(a) => setup::run(&dir, a),
        Command::Man(a) => return man::run(a).map(|()| None),
        Command::Hook { name, args } => {
            let hooks_dir = git_ledger::hooks::hooks_dir(&dir).unwrap_or_else(|_| dir.clone());
            std::process::exit(git_ledger::hooks::run(&name, &args, &hooks_dir));
        }
    };
    reply.map(Some)
}

fn current_dir() -> Result<PathBuf, Failure> {
    std::env::current_dir().map_err(|e| Failure {
        code: "io".into(),
        message: format!("cannot read the current directory: {e}"),
        hint: None,
    })
}

/// A usage error as one JSON failure, keeping what clap says: the message with its details
/// (the missing argument's name), and its tip (a similar subcommand) or the usage line as
/// the hint.
fn usage_failure(text: &str) -> Failure {
    let paragraphs: Vec<Vec<&str>> = text
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .filter(|p: &Vec<&str>| !p.is_empty())
        .collect();
    let message = paragraphs
        .first()
        .map(|p| p.join(" "))
        .unwrap_or_else(|| "invalid arguments".into());
    let message = message.trim_start_matches("error: ").to_string();
    let line_of = |prefix: &str| {
        paragraphs
            .iter()
            .flatten()
            .find_map(|l| l.strip_prefix(prefix).map(str::trim))
    };
    let hint = match (line_of("tip:"), line_of("Usage:")) {
        (Some(tip), _) => tip.to_string(),
        (None, Some(usage)) => format!("usage: {usage} (see --help)"),
        (None, None) => "see `git ledger --help`".into(),
    };
    Failure {
        code: "usage".into(),
        message,
        hint: Some(hint),
    }
}
