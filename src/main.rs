//! `git-ledger`: the command-line layer. Run as `git ledger <command>`.

mod cli;

/// A cold read allocates and frees millions of small strings, many of them freed on another
/// thread than the one that made them; mimalloc does that markedly cheaper than the system
/// allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
