//! Installing git hooks, and what each hook does.
//!
//! A hook is installed as a symbolic link to the `git-ledger` binary, named after the hook:
//! the binary sees its name and runs the hook, with no shell in between (a `#!/bin/sh` shim
//! is a noticeable part of a `git commit`; see docs/performance.md). `prepare-commit-msg`, the one hook every
//! commit runs, links to `git-ledger-hook` instead when it is installed beside the binary: a
//! small program that does that hook's work and starts in half the time. A hook that was
//! already there is kept beside it as `<name>.ledger-chained` and still runs first, its exit
//! status counting; `uninstall` puts it back.

mod commit;
mod run;

pub use commit::{agent_env, concludes_merge, run_commit_hook};
pub use run::run;

use std::path::{Path, PathBuf};

/// The hooks installed in a work repository. Only `prepare-commit-msg` runs for every
/// commit: each hook is a process git waits for.
pub const CLIENT_HOOKS: &[&str] = &[
    "prepare-commit-msg",
    "post-checkout",
    "post-merge",
    "pre-merge-commit",
    "pre-push",
];
/// The hook installed in a server (bare) repository with `--server`.
pub const SERVER_HOOKS: &[&str] = &["pre-receive"];

/// Hooks earlier versions installed: `install` and `uninstall` remove ours (putting back
/// what they chained), so an upgraded repository runs no hook that does nothing.
const RETIRED_HOOKS: &[&str] = &["post-commit"];

/// The small program `prepare-commit-msg` links to, when it is beside `git-ledger`.
pub const COMMIT_HOOK_PROGRAM: &str = "git-ledger-hook";

/// Suffix of a pre-existing hook kept and chained.
pub const CHAINED_SUFFIX: &str = ".ledger-chained";

/// Whether a program name is one of the hooks this binary implements. A retired hook left
/// by an earlier install still counts: it runs what it chained and does nothing else.
pub fn is_hook_name(name: &str) -> bool {
    CLIENT_HOOKS.contains(&name) || SERVER_HOOKS.contains(&name) || RETIRED_HOOKS.contains(&name)
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot find the hooks directory: {0}")]
    HooksDir(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} and {0}{CHAINED_SUFFIX} both exist and neither is ours; move one away")]
    Conflict(PathBuf),
    #[error("cannot find this program's own path: {0}")]
    OwnPath(std::io::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The state of one hook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    /// Ours, with nothing chained.
    Ours,
    /// Ours, running a pre-existing hook first.
    Chained,
    /// Some other program, not ours.
    Foreign,
    Missing,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HookStatus {
    pub name: String,
    pub state: HookState,
    pub path: PathBuf,
}

/// Where git looks for hooks, asked of git itself (`core.hooksPath`, worktrees, bare
/// repositories), from `dir`.
pub fn hooks_dir(dir: &Path) -> Result<PathBuf, Error> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--git-path", "hooks"])
        .current_dir(dir)
        .output()
        .map_err(|e| Error::HooksDir(e.to_string()))?;
    if !output.status.success() {
        return Err(Error::HooksDir(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    let relative = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Ok(dir.join(relative))
}

fn own_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(Error::OwnPath)?;
    Ok(exe.canonicalize().unwrap_or(exe))
}

/// Whether the file at `path` is one of our links.
fn is_ours(path: &Path) -> bool {
    std::fs::read_link(path).is_ok_and(|target| {
        target
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("git-ledger"))
    })
}

pub fn status(dir: &Path, names: &[&str]) -> Result<Vec<HookStatus>, Error> {
    let hooks = hooks_dir(dir)?;
    Ok(names
        .iter()
        .map(|name| {
            let path = hooks.join(name);
            let chained = hooks.join(format!("{name}{CHAINED_SUFFIX}"));
            let state = if is_ours(&path) {
                if chained.exists() {
                    HookState::Chained
                } else {
                    HookState::Ours
                }
            } else if path.symlink_metadata().is_ok() {
                HookState::Foreign
            } else {
                HookState::Missing
            };
            HookStatus {
                name: name.to_string(),
                state,
                path,
            }
        })
        .collect())
}

/// Install the hooks (idempotent). A hook already there is kept and chained.
pub fn install(dir: &Path, names: &[&str]) -> Result<Vec<HookStatus>, Error> {
    let hooks = hooks_dir(dir)?;
    std::fs::create_dir_all(&hooks).map_err(io(&hooks))?;
    let own = own_binary()?;
    let commit_hook = own.with_file_name(COMMIT_HOOK_PROGRAM);
    for name in names {
        let binary = if *name == "prepare-commit-msg" && commit_hook.is_file() {
            &commit_hook
        } else {
            &own
        };
        let path = hooks.join(name);
        let chained = hooks.join(format!("{name}{CHAINED_SUFFIX}"));
        if is_ours(&path) {
            // Re-point an existing link at this binary (it may have moved); nothing else.
            if std::fs::read_link(&path).ok().as_deref() != Some(binary.as_path()) {
                std::fs::remove_file(&path).map_err(io(&path))?;
                link(binary, &path)?;
            }
            continue;
        }
        if path.symlink_metadata().is_ok() {
            if chained.symlink_metadata().is_ok() {
                return Err(Error::Conflict(path));
            }
            std::fs::rename(&path, &chained).map_err(io(&path))?;
        }
        link(binary, &path)?;
    }
    if names == CLIENT_HOOKS {
        remove(&hooks, RETIRED_HOOKS)?;
    }
    status(dir, names)
}

/// Remove our hooks and put chained ones back where they were, byte for byte.
pub fn uninstall(dir: &Path, names: &[&str]) -> Result<Vec<HookStatus>, Error> {
    let hooks = hooks_dir(dir)?;
    remove(&hooks, names)?;
    if names == CLIENT_HOOKS {
        remove(&hooks, RETIRED_HOOKS)?;
    }
    status(dir, names)
}

/// Remove our hooks `names` from `hooks`, putting chained ones back.
fn remove(hooks: &Path, names: &[&str]) -> Result<(), Error> {
    for name in names {
        let path = hooks.join(name);
        let chained = hooks.join(format!("{name}{CHAINED_SUFFIX}"));
        if !is_ours(&path) {
            continue;
        }
        std::fs::remove_file(&path).map_err(io(&path))?;
        if chained.symlink_metadata().is_ok() {
            std::fs::rename(&chained, &path).map_err(io(&chained))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn link(binary: &Path, path: &Path) -> Result<(), Error> {
    std::os::unix::fs::symlink(binary, path).map_err(io(path))
}

#[cfg(not(unix))]
fn link(binary: &Path, path: &Path) -> Result<(), Error> {
    // Without symbolic links, a shell shim calls the hidden `hook` entry point.
    let shim = include_str!("../../../hooks/shim.sh")
        .replace("@BINARY@", &binary.to_string_lossy())
        .replace(
            "@HOOK@",
            &path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
    std::fs::write(path, shim).map_err(io(path))
}
