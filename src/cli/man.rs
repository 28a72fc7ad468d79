use super::output::Failure;
use clap::CommandFactory;
use std::path::PathBuf;

/// Print the manual page, or install it where `man` finds it.
///
/// `git ledger --help` is git's: it runs `man git-ledger`. `git ledger man --install` writes
/// the page to share/man/man1/git-ledger.1 beside the binary's directory (man-db finds pages
/// there for every directory on PATH: ~/.cargo/bin gives ~/.cargo/share/man), or under
/// `--dir`. `git ledger -h` and `git ledger <command> --help` need no page.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Write the page instead of printing it.
    #[arg(long)]
    install: bool,
    /// The man directory to write it under (its man1/), instead of the one beside the binary.
    #[arg(long, value_name = "DIR", requires = "install")]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let command = super::Cli::command().name("git-ledger");
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| io("cannot render the manual page", &e))?;
    if !args.install {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&page).and_then(|()| out.flush());
        return Ok(());
    }
    let dir = match args.dir {
        Some(dir) => dir,
        None => beside_binary()?,
    };
    let section = dir.join("man1");
    std::fs::create_dir_all(&section)
        .map_err(|e| io(&format!("cannot create {}", section.display()), &e))?;
    let path = section.join("git-ledger.1");
    std::fs::write(&path, &page)
        .map_err(|e| io(&format!("cannot write {}", path.display()), &e))?;
    git_ledger::eprintln_safe!("Installed {}: `git ledger --help` opens it", path.display());
    Ok(())
}

/// `<prefix>/share/man` for a binary in `<prefix>/bin`.
fn beside_binary() -> Result<PathBuf, Failure> {
    let binary = std::env::current_exe().map_err(|e| io("cannot find this binary", &e))?;
    let prefix = binary
        .parent()
        .and_then(|bin| bin.parent())
        .ok_or_else(|| Failure {
            code: "io".into(),
            message: format!("{} has no parent directory", binary.display()),
            hint: Some("name the man directory with --dir".into()),
        })?;
    Ok(prefix.join("share").join("man"))
}

fn io(what: &str, e: &std::io::Error) -> Failure {
    Failure {
        code: "io".into(),
        message: format!("{what}: {e}"),
        hint: None,
    }
}
