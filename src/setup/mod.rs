//! `git ledger setup`: wire the ledger into an agent harness through the harness's own files,
//! so that every agent session starts primed and the ledger's tools are at hand.
//!
//! A setup is planned first (each file's text before and after), then written. Edits merge:
//! JSON files are edited in place ([`json`]), keeping every byte that is not ours, and text
//! files get one section between markers ([`markers`]); removing takes out exactly what was
//! added, so `setup` then `setup --remove` gives back the original file.

pub mod claude;
pub mod json;
pub mod markers;

use markers::Markers;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The harnesses `setup` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Harness {
    /// Claude Code: SessionStart/SessionEnd hooks and the MCP server.
    Claude,
    /// Codex: the MCP server in config.toml and an AGENTS.md section.
    Codex,
    /// Any harness that reads AGENTS.md (or CLAUDE.md with --file).
    AgentsMd,
}

/// Where a setup writes.
pub struct Target {
    /// The work tree's top directory (project files are relative to it).
    pub root: PathBuf,
    /// The user's home (for `--user`).
    pub home: Option<PathBuf>,
    /// Codex's home (`CODEX_HOME`), when set.
    pub codex_home: Option<PathBuf>,
    /// Write the user's files rather than the project's.
    pub user: bool,
    /// The agents file (default `AGENTS.md`), relative to the root.
    pub agents_file: Option<PathBuf>,
}

/// What happens to one file.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub path: PathBuf,
    /// What of ours it holds ("hooks", "MCP server", "agent instructions").
    pub what: &'static str,
    pub action: Action,
    #[serde(skip)]
    pub before: Option<String>,
    #[serde(skip)]
    pub after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Deleted,
    Unchanged,
}

impl Change {
    fn new(
        path: PathBuf,
        what: &'static str,
        before: Option<String>,
        after: Option<String>,
    ) -> Self {
        let action = match (&before, &after) {
            (None, Some(_)) => Action::Created,
            (Some(_), None) => Action::Deleted,
            (Some(b), Some(a)) if b != a => Action::Updated,
            _ => Action::Unchanged,
        };
        Change {
            path,
            what,
            action,
            before,
            after,
        }
    }

    /// A unified diff of the change (empty when unchanged).
    pub fn diff(&self, label: &str) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        if before == after {
            return String::new();
        }
        similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .header(&format!("a/{label}"), &format!("b/{label}"))
            .to_string()
    }
}

/// A planned setup: the file changes, and what the user does by hand (files that are not
/// ours to write).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub harness: Harness,
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("cannot find the home directory (HOME is not set) for --user")]
    NoHome,
    #[error("--{0} only applies to {1}")]
    NotFor(&'static str, &'static str),
    #[error("{} is not in a git repository (setup writes the files at the top of its work tree)", .0.display())]
    NoRepository(PathBuf),
    #[error(
        "setup writes a project's files, and {0} has no work tree (use --user, or run it in a clone)"
    )]
    NoWorkTree(PathBuf),
    #[error("the hook's input on standard input {0}")]
    HookInput(String),
}

/// The top of the work tree `dir` is in.
pub fn project_root(dir: &Path) -> Result<PathBuf, Error> {
    let repo =
        git2::Repository::discover(dir).map_err(|_| Error::NoRepository(dir.to_path_buf()))?;
    match repo.workdir() {
        Some(root) => Ok(root.to_path_buf()),
        None => Err(Error::NoWorkTree(repo.path().to_path_buf())),
    }
}

impl Error {
    fn file(path: &Path, message: impl Into<String>) -> Error {
        Error::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// The most a harness file we edit may hold: settings and instructions are small, and a
/// huge file is more likely a mistake than a configuration.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Plan the setup (or with `remove`, its removal) of `harness`.
pub fn plan(harness: Harness, target: &Target, remove: bool) -> Result<Plan, Error> {
    if target.agents_file.is_some() && harness != Harness::AgentsMd {
        return Err(Error::NotFor("file", "agents-md"));
    }
    if target.user && harness == Harness::AgentsMd {
        return Err(Error::NotFor("user", "claude and codex"));
    }
    let mut plan = Plan {
        harness,
        changes: Vec::new(),
        notes: Vec::new(),
    };
    match harness {
        Harness::Claude => claude_plan(&mut plan, target, remove)?,
        Harness::Codex => codex_plan(&mut plan, target, remove)?,
        Harness::AgentsMd => {
            let file = target
                .agents_file
                .clone()
                .unwrap_or_else(|| PathBuf::from("AGENTS.md"));
            plan.changes
                .push(agents_change(&target.root.join(file), remove)?);
        }
    }
    Ok(plan)
}

fn claude_plan(plan: &mut Plan, target: &Target, remove: bool) -> Result<(), Error> {
    let settings = match target.user {
        true => home(target)?.join(".claude/settings.json"),
        false => target.root.join(".claude/settings.json"),
    };
    let before = read(&settings)?;
    let after = match (&before, remove) {
        (None, true) => Ok(None),
        (Some(text), true) => claude::remove_hooks(text),
        (before, false) => claude::add_hooks(before.as_deref()).map(Some),
    }
    .map_err(|m| Error::file(&settings, m))?;
    plan.changes
        .push(Change::new(settings, "hooks", before, after));

    if target.user {
        // The user's MCP servers live in Claude Code's own state file (~/.claude.json),
        // which its `claude mcp` command manages.
        plan.notes.push(match remove {
            false => format!(
                "for the MCP server in every project, run: claude mcp add --scope user {} -- git ledger mcp",
                claude::SERVER
            ),
            true => format!(
                "if you added the MCP server for every project, run: claude mcp remove --scope user {}",
                claude::SERVER
            ),
        });
        return Ok(());
    }
    let mcp = target.root.join(".mcp.json");
    let before = read(&mcp)?;
    let after = match (&before, remove) {
        (None, true) => None,
        (Some(text), true) => claude::remove_server(text).map_err(|m| Error::file(&mcp, m))?,
        (before, false) => {
            match claude::add_server(before.as_deref()).map_err(|m| Error::file(&mcp, m))? {
                Ok(text) => Some(text),
                Err(kept) => {
                    plan.notes.push(format!("{}: {kept}", mcp.display()));
                    before.clone()
                }
            }
        }
    };
    plan.changes
        .push(Change::new(mcp, "MCP server", before, after));
    Ok(())
}

/// Codex's MCP server table, as `config.toml` spells it.
const CODEX_TABLE: &str = "[mcp_servers.git-ledger]";

const TOML_MARKERS: Markers = Markers {
    start: "# git-ledger:start",
    end: "# git-ledger:end",
};

fn codex_section() -> String {
    format!(
        "{} (written by `git ledger setup codex`; `--remove` takes it out)\n\
         {CODEX_TABLE}\ncommand = \"git\"\nargs = [\"ledger\", \"mcp\"]\n{}\n",
        TOML_MARKERS.start, TOML_MARKERS.end
    )
}

fn codex_plan(plan: &mut Plan, target: &Target, remove: bool) -> Result<(), Error> {
    if target.user {
        // The user's config.toml is theirs to edit: say what to put in it.
        let config = match &target.codex_home {
            Some(dir) => dir.join("config.toml"),
            None => home(target)?.join(".codex/config.toml"),
        };
        plan.notes.push(match remove {
            false => format!(
                "add to {}:\n{CODEX_TABLE}\ncommand = \"git\"\nargs = [\"ledger\", \"mcp\"]",
                config.display()
            ),
            true => format!("remove the {CODEX_TABLE} table from {}", config.display()),
        });
        return Ok(());
    }
    // A trusted project's own `.codex/config.toml`.
    let config = target.root.join(".codex/config.toml");
    let before = read(&config)?;
    let text = before.clone().unwrap_or_default();
    let has_section =
        markers::contains(&text, &TOML_MARKERS).map_err(|m| Error::file(&config, m))?;
    let after = if remove {
        let left = markers::remove(&text, &TOML_MARKERS).map_err(|m| Error::file(&config, m))?;
        (before.is_some() && !left.trim().is_empty()).then_some(left)
    } else if !has_section && defines_server(&text) {
        plan.notes.push(format!(
            "{}: already defines {CODEX_TABLE}; it is kept as it is",
            config.display()
        ));
        before.clone()
    } else {
        Some(
            markers::upsert(&text, &TOML_MARKERS, &codex_section())
                .map_err(|m| Error::file(&config, m))?,
        )
    };
    plan.changes
        .push(Change::new(config, "MCP server", before, after));
    plan.changes
        .push(agents_change(&target.root.join("AGENTS.md"), remove)?);
    Ok(())
}

/// Whether a `config.toml` already has our table (written by hand).
fn defines_server(text: &str) -> bool {
    text.lines().any(|line| {
        let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        line == CODEX_TABLE
            || line == "[mcp_servers.\"git-ledger\"]"
            || line == "[mcp_servers.'git-ledger']"
    })
}

const MARKDOWN_MARKERS: Markers = Markers {
    start: "<!-- git-ledger:start",
    end: "<!-- git-ledger:end",
};

/// The section of AGENTS.md: short, because every agent reads it every time.
pub fn agents_section() -> String {
    format!(
        "{} (written by `git ledger setup`; running it again replaces this section) -->
## Task ledger

This repository records its tasks, decisions and insights with git ledger.

- First run `git ledger prime`: who you are, your task, working memory and what is ready.
- `git ledger ready` lists the tasks you can take; `git ledger task claim <id>` takes one and
  `git ledger task start <id>` starts it.
- While working: `git ledger task note \"…\"` for progress, `git ledger insight add \"…\" --tag
  <area>` for what the next agent should know, `git ledger decision request \"…\"` when the
  choice is not yours to make.
- When done: `git ledger task done -m \"what changed\"`, then `git ledger review request`.
- Every command takes `--json`; `git ledger <command> --help` tells more.
{} -->
",
        MARKDOWN_MARKERS.start, MARKDOWN_MARKERS.end
    )
}

fn agents_change(path: &Path, remove: bool) -> Result<Change, Error> {
    let before = read(path)?;
    let text = before.clone().unwrap_or_default();
    let after = if remove {
        let left = markers::remove(&text, &MARKDOWN_MARKERS).map_err(|m| Error::file(path, m))?;
        (before.is_some() && !left.is_empty()).then_some(left)
    } else {
        Some(
            markers::upsert(&text, &MARKDOWN_MARKERS, &agents_section())
                .map_err(|m| Error::file(path, m))?,
        )
    };
    Ok(Change::new(
        path.to_path_buf(),
        "agent instructions",
        before,
        after,
    ))
}

fn home(target: &Target) -> Result<&Path, Error> {
    target.home.as_deref().ok_or(Error::NoHome)
}

/// A harness file's text; `None` if there is none. Refused: a directory, a huge file, bytes
/// that are not UTF-8.
fn read(path: &Path) -> Result<Option<String>, Error> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::file(path, e.to_string())),
    };
    if !metadata.is_file() {
        return Err(Error::file(path, "is not a regular file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(Error::file(
            path,
            format!(
                "is {} bytes; the most setup edits is {MAX_FILE_BYTES}",
                metadata.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e.to_string()))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::file(path, "is not UTF-8 text"))
}

/// Write the plan's changes. Each file is replaced whole (a temporary file beside it, then a
/// rename), so a harness never reads half a file; a symbolic link is followed, so the file
/// it points to is the one changed, and the file's permissions are kept.
pub fn apply(plan: &Plan) -> Result<(), Error> {
    for change in &plan.changes {
        let path = std::fs::canonicalize(&change.path).unwrap_or_else(|_| change.path.clone());
        match (&change.action, &change.after) {
            (Action::Unchanged, _) => {}
            (Action::Deleted, _) | (_, None) => {
                std::fs::remove_file(&path).map_err(|e| Error::file(&path, e.to_string()))?;
                // The folder made for it goes too when it is left empty (`.claude`, `.codex`).
                if let Some(dir) = path.parent()
                    && dir
                        .file_name()
                        .is_some_and(|n| n == ".claude" || n == ".codex")
                {
                    let _ = std::fs::remove_dir(dir);
                }
            }
            (_, Some(text)) => write(&path, text).map_err(|e| Error::file(&path, e.to_string()))?,
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.git-ledger-{}", std::process::id()));
    let result = (|| {
        std::fs::write(&temp, text)?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, metadata.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
