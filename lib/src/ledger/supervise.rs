//! How an agent's command ended — an exit status, a crash, a kill, or Ctrl-C/SIGTERM sent to
//! git-ledger while it waited — so the end can be recorded; and the [`Supervise`] interface
//! of what runs it.

use rustix::process::Signal as Sig;
use std::io;
use std::path::Path;
use std::time::Duration;

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termination {
    /// Its exit status, when it exited by itself.
    pub status: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<i32>,
    /// Whether it dumped core (crashed).
    pub core_dumped: bool,
    /// The signal git-ledger received while waiting (and forwarded), if any.
    pub interrupted: Option<i32>,
    pub duration: Duration,
}

impl Termination {
    /// `succeeded`, `failed` or `killed`. A crash (a signal that dumps core, or one of the
    /// signals programs die of by their own fault) is a failure; any other signal, or an
    /// interruption of git-ledger, is a kill.
    pub fn outcome(&self) -> &'static str {
        if self.interrupted.is_some() {
            return "killed";
        }
        match (self.status, self.signal) {
            (Some(0), None) => "succeeded",
            (_, Some(signal)) if !self.core_dumped && !is_crash(signal) => "killed",
            _ => "failed",
        }
    }

    /// The exit status git-ledger passes on: the child's, or 128 + the signal as shells do.
    pub fn exit_code(&self) -> i32 {
        match (self.interrupted, self.status, self.signal) {
            (Some(received), _, _) => 128 + received,
            (None, Some(code), _) => code,
            (None, None, Some(signal)) => 128 + signal,
            (None, None, None) => 1,
        }
    }
}

/// The name of a signal, `SIGTERM`; unusual ones as `SIG<n>`.
pub fn signal_name(signal: i32) -> String {
    const NAMES: [(Sig, &str); 16] = [
        (Sig::HUP, "SIGHUP"),
        (Sig::INT, "SIGINT"),
        (Sig::QUIT, "SIGQUIT"),
        (Sig::ILL, "SIGILL"),
        (Sig::TRAP, "SIGTRAP"),
        (Sig::ABORT, "SIGABRT"),
        (Sig::BUS, "SIGBUS"),
        (Sig::FPE, "SIGFPE"),
        (Sig::KILL, "SIGKILL"),
        (Sig::USR1, "SIGUSR1"),
        (Sig::SEGV, "SIGSEGV"),
        (Sig::USR2, "SIGUSR2"),
        (Sig::PIPE, "SIGPIPE"),
        (Sig::ALARM, "SIGALRM"),
        (Sig::TERM, "SIGTERM"),
        (Sig::SYS, "SIGSYS"),
    ];
    NAMES
        .iter()
        .find(|(s, _)| s.as_raw() == signal)
        .map_or_else(|| format!("SIG{signal}"), |(_, name)| name.to_string())
}

fn is_crash(signal: i32) -> bool {
    [
        Sig::SEGV,
        Sig::BUS,
        Sig::ILL,
        Sig::FPE,
        Sig::ABORT,
        Sig::SYS,
        Sig::TRAP,
    ]
    .iter()
    .any(|s| s.as_raw() == signal)
}

/// What runs an agent's commands for [`crate::ledger::Ledger::agent_run`]: a process
/// supervisor that forwards signals and calls the claim renewal while a child runs. The
/// front end provides it (it needs an async runtime and signal handlers).
pub trait Supervise {
    /// Run `command` in `dir` with `env` added and wait for it (its standard output sent to
    /// standard error with `stdout_to_stderr`).
    fn run(
        &mut self,
        command: &[String],
        dir: &Path,
        env: &[(&str, String)],
        stdout_to_stderr: bool,
    ) -> io::Result<Termination>;

    /// A SIGINT, SIGTERM or SIGHUP received since the last attempt ended: no further attempt
    /// should start.
    fn interrupted(&mut self) -> Option<i32>;
}

/// The claim renewal a supervisor calls every period while a child runs.
pub type Renewal<'r> = Option<(Duration, &'r mut dyn FnMut())>;

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(status: Option<i32>, signal: Option<i32>, interrupted: Option<i32>) -> Termination {
        Termination {
            status,
            signal,
            core_dumped: false,
            interrupted,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn outcomes_and_exit_codes() {
        let cases = [
            (ended(Some(0), None, None), "succeeded", 0),
            (ended(Some(3), None, None), "failed", 3),
            (ended(None, Some(Sig::KILL.as_raw()), None), "killed", 137),
            (ended(None, Some(Sig::SEGV.as_raw()), None), "failed", 139),
            (
                ended(None, Some(Sig::TERM.as_raw()), Some(Sig::TERM.as_raw())),
                "killed",
                143,
            ),
            // Interrupted, though the agent exited by itself: git-ledger was stopped.
            (ended(Some(0), None, Some(Sig::INT.as_raw())), "killed", 130),
        ];
        for (termination, outcome, code) in cases {
            assert_eq!(termination.outcome(), outcome, "{termination:?}");
            assert_eq!(termination.exit_code(), code, "{termination:?}");
        }
        let dumped = Termination {
            core_dumped: true,
            ..ended(None, Some(Sig::QUIT.as_raw()), None)
        };
        assert_eq!(dumped.outcome(), "failed");
        assert_eq!(signal_name(Sig::HUP.as_raw()), "SIGHUP");
        assert_eq!(signal_name(64), "SIG64");
    }
}
