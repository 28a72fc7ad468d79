use super::output::{Cx, Failure, Reply};

/// The merge gate: may a revision land on a protected branch?
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print the verdict and every reason; exits non-zero when the merge is refused.
    ///
    /// Every commit the revision would add to the branch must be contained in a commit that
    /// its task's latest review approved, the same rule the hooks apply. Protected branches
    /// come from `ledger.protect` (default main and master); `ledger.gate.allowUntracked=true`
    /// lets commits of no task through.
    ///
    /// An approval never counts when its reviewer claimed the task, wrote its notes or
    /// authored the commits under review. `ledger.gate.approvals N` asks for N distinct
    /// reviewers (default 1); with `ledger.gate.allowedSignersFile <path>` (git's
    /// allowed-signers format) an approval counts only when its ledger commit is signed by a
    /// key listed there, and counts as that key's principal. The verdict lists every
    /// approval it weighed and why it ignored the ones it did not count.
    Check {
        /// The branch or commit to land (e.g. task/t-3f9a2c-fix-login).
        revision: String,
        /// The branch it would land on (default: the current branch). What it holds (the
        /// local branch, else a remote's copy) has landed already.
        #[arg(long)]
        into: Option<String>,
        /// How to print the verdict: text for people, or github for workflow annotations
        /// (`::error::` lines, one per reason, shown on the pull request).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Format {
    Text,
    Github,
}

/// One GitHub Actions workflow command: its data escaped as the runner expects.
fn annotation(level: &str, message: &str) -> String {
    let data = message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    format!("::{level} title=git ledger gate::{data}\n")
}

pub fn run(ledger: &Cx, command: Command) -> Result<Reply, Failure> {
    let Command::Check {
        revision,
        into,
        format,
    } = command;
    let loaded = ledger.load()?;
    let verdict = ledger.gate_check(&loaded.state, &revision, into.as_deref())?;
    let mut text = if verdict.allowed {
        format!("allowed: {}\n", verdict.note)
    } else {
        "refused:\n".to_string()
    };
    for reason in &verdict.reasons {
        text.push_str(&format!("  - {}\n", reason.message()));
    }
    for approval in &verdict.approvals {
        text.push_str(&format!("  approval: {}\n", approval.message()));
    }
    if format == Format::Github {
        text = if verdict.allowed {
            annotation("notice", &format!("allowed: {}", verdict.note))
        } else {
            verdict
                .reasons
                .iter()
                .map(|r| annotation("error", &r.message()))
                .collect()
        };
    }
    let mut reply = Reply::new(ledger, &loaded, &verdict, text);
    if !verdict.allowed {
        reply.failure = Some(Failure {
            code: "gate_refused".into(),
            message: format!("{revision} may not land: {} reason(s)", verdict.reasons.len()),
            hint: Some("approve the exact tip with `git ledger review approve <task>`, pass its checks with `git ledger check run`, finish its dependencies, or unblock it".into()),
        });
    }
    Ok(reply)
}
