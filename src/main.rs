//! `git-ledger`: the command-line layer. Run as `git ledger <command>`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
