//! `git-ledger-hook`: the `prepare-commit-msg` hook, which git runs for every commit, as a
//! program small enough to start in about half the time of `git-ledger`. `hooks install`
//! links the hook here when this program is beside `git-ledger`.
//!
//! It adds the trailer and leaves the note itself. Anything more (an agent committing, to be
//! warned of a claim taken over; a merge being concluded, to be gated; any other hook name)
//! is handed to `git-ledger`, run as the same hook.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(program) = raw.first() else {
        return ExitCode::SUCCESS;
    };
    let program = Path::new(program);
    let name = program.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Concluding a merge is gated, which needs the whole ledger: `git-ledger` does it.
    let merge = git_ledger::hooks::concludes_merge(&raw[1..]);
    let code = if name == "prepare-commit-msg" && !merge && git_ledger::hooks::agent_env().is_none()
    {
        let hooks_dir = program.parent().map(Path::to_path_buf).unwrap_or_default();
        git_ledger::hooks::run_commit_hook(&raw[1..], &hooks_dir)
    } else {
        hand_over(name, &raw)
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Run `git-ledger` (beside this program) as the hook git ran, with the same name (`argv[0]`),
/// arguments and input.
fn hand_over(name: &str, raw: &[String]) -> i32 {
    let binary = std::env::current_exe()
        .map(|exe| exe.with_file_name("git-ledger"))
        .unwrap_or_else(|_| PathBuf::from("git-ledger"));
    let mut command = std::process::Command::new(&binary);
    #[cfg(unix)]
    let error = {
        use std::os::unix::process::CommandExt;
        command.arg0(&raw[0]).args(&raw[1..]).exec()
    };
    #[cfg(not(unix))]
    let error = match command.arg("hook").arg(name).args(&raw[1..]).status() {
        Ok(status) => return status.code().unwrap_or(1),
        Err(e) => e,
    };
    eprintln!(
        "git-ledger: {name}: cannot run {}: {error}",
        binary.display()
    );
    // Hooks that gate fail closed; the commit hook never blocks a commit.
    i32::from(name != "prepare-commit-msg")
}
