use super::output::{Failure, Instructions, Reply, to_value};
use git_ledger::setup::{self, Action, Harness, Target};
use git_ledger::store::Store;
use git_ledger::view::memory::ContextReminder;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Wire the ledger into an agent harness (Claude Code, Codex, AGENTS.md).
///
/// Its agents then start primed and have the ledger's tools.
///
/// claude: hooks in .claude/settings.json that run `git ledger prime` when a Claude Code
/// session starts, resumes, is cleared or compacted (its output becomes the agent's context;
/// the Claude session id opens or resumes the matching ledger session) and end the ledger
/// session when it ends; and the MCP server in .mcp.json. codex: the MCP server in
/// .codex/config.toml and a section in AGENTS.md. agents-md: a short section in AGENTS.md
/// telling any agent to run `git ledger prime` first and which commands to use.
///
/// Files are merged, never overwritten: every key and line that is not ours stays as it is,
/// running it again changes nothing, and --remove takes out exactly what was added.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    harness: Harness,
    /// Take out what setup added.
    #[arg(long)]
    remove: bool,
    /// Show the changes as a diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The user's files (~/.claude/settings.json) rather than the project's; for files the
    /// harness manages itself, print what to run or add.
    #[arg(long)]
    user: bool,
    /// agents-md: the file to write (default AGENTS.md; CLAUDE.md for Claude Code alone).
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

pub fn failure(e: setup::Error) -> Failure {
    let hint = match &e {
        setup::Error::File { .. } => {
            Some("nothing was written; fix the file or move it aside, then run setup again")
        }
        setup::Error::NoHome => Some("set HOME, or leave out --user"),
        _ => None,
    };
    Failure {
        code: "setup".into(),
        message: e.to_string(),
        hint: hint.map(String::from),
    }
}

pub fn run(dir: &Path, args: Args) -> Result<Reply, Failure> {
    let root = match setup::project_root(dir) {
        Ok(root) => root,
        Err(_) if args.user && args.harness != Harness::AgentsMd => dir.to_path_buf(),
        Err(e) => return Err(failure(e)),
    };
    let env_dir = |name| {
        std::env::var_os(name)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    };
    let target = Target {
        root: root.clone(),
        home: env_dir("HOME"),
        codex_home: env_dir("CODEX_HOME"),
        user: args.user,
        agents_file: args.file,
    };
    let mut plan = setup::plan(args.harness, &target, args.remove).map_err(failure)?;
    if !args.dry_run {
        setup::apply(&plan).map_err(failure)?;
    }
    // Asked of the store: opening the ledger would also record the commits noted since.
    let initialised = Store::discover(dir).is_ok_and(|store| store.writer().is_ok());
    if !args.remove && !initialised {
        plan.notes
            .push("this clone has no ledger yet: run `git ledger init`".into());
    }

    let name = to_value(args.harness);
    let name = name.as_str().unwrap_or("harness");
    let label = |path: &Path| {
        path.strip_prefix(&root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    };
    let mut text = match (args.remove, args.dry_run) {
        (false, false) => format!("Set up {name}:\n"),
        (true, false) => format!("Removed {name}:\n"),
        (false, true) => format!("Setting up {name} would change (dry run, nothing written):\n"),
        (true, true) => format!("Removing {name} would change (dry run, nothing written):\n"),
    };
    let mut changes = Vec::new();
    for change in &plan.changes {
        let path = label(&change.path);
        let action = match (change.action, args.dry_run) {
            (Action::Created, false) => "created",
            (Action::Updated, false) => "updated",
            (Action::Deleted, false) => "deleted",
            (Action::Created, true) => "would create",
            (Action::Updated, true) => "would update",
            (Action::Deleted, true) => "would delete",
            (Action::Unchanged, _) => "unchanged",
        };
        text.push_str(&format!("  {action:<13} {path} ({})\n", change.what));
        let mut entry = json!({ "path": path, "what": change.what, "action": change.action });
        if args.dry_run {
            let diff = change.diff(&path);
            text.push_str(&diff);
            entry["diff"] = json!(diff);
        }
        changes.push(entry);
    }
    for note in &plan.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    let changed = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .count();
    Ok(Reply {
        data: json!({
            "harness": args.harness,
            "remove": args.remove,
            "dry_run": args.dry_run,
            "changes": changes,
            "notes": plan.notes,
        }),
        text,
        instructions: Instructions {
            context_reminder: ContextReminder::note(format!("{name}: {changed} file(s) changed")),
            ..Instructions::default()
        },
        failure: None,
    })
}
