//! Running an agent's command to its end: its output streams through, and however it ends —
//! an exit status, a crash, a kill, or Ctrl-C/SIGTERM sent to git-ledger while it waits — the
//! caller learns how, so the end can be recorded.

use rustix::process::{Pid, Signal as Sig};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How long a child may take to stop after a forwarded signal before it is killed.
const GRACE: Duration = Duration::from_secs(10);

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

/// Runs an agent's commands one after another (its attempts), with git-ledger's signal
/// handlers and the claim renewal in place from the first attempt to the last, so neither a
/// signal nor a renewal falls between two attempts.
pub struct Supervisor<'r> {
    runtime: tokio::runtime::Runtime,
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
    renew: Option<(tokio::time::Interval, &'r mut dyn FnMut())>,
}

impl<'r> Supervisor<'r> {
    /// Install the signal handlers. `renew`, if given, is called every period while a child
    /// runs (to extend the agent's claim on its task); the period runs on across attempts.
    pub fn new(renew: Option<(Duration, &'r mut dyn FnMut())>) -> io::Result<Supervisor<'r>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let _inside = runtime.enter();
        let interrupt = signal(SignalKind::interrupt())?;
        let terminate = signal(SignalKind::terminate())?;
        // A closed terminal: the agent gets its own SIGHUP, and the end is still recorded.
        let hangup = signal(SignalKind::hangup())?;
        let renew = renew.map(|(period, renew)| {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            // A tick missed between attempts renews once, not once per missed period.
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            (ticks, renew)
        });
        drop(_inside);
        Ok(Supervisor {
            runtime,
            interrupt,
            terminate,
            hangup,
            renew,
        })
    }

    /// A SIGINT, SIGTERM or SIGHUP git-ledger received since the last attempt ended (while
    /// it was being recorded): no further attempt should start.
    pub fn interrupted(&mut self) -> Option<i32> {
        let Supervisor {
            runtime,
            interrupt,
            terminate,
            hangup,
            ..
        } = self;
        runtime.block_on(async {
            // Long enough for the runtime to take in a signal already delivered.
            let settle = tokio::time::sleep(Duration::from_millis(5));
            tokio::select! {
                biased;
                _ = interrupt.recv() => Some(Sig::INT.as_raw()),
                _ = terminate.recv() => Some(Sig::TERM.as_raw()),
                _ = hangup.recv() => Some(Sig::HUP.as_raw()),
                () = settle => None,
            }
        })
    }

    /// Run `command` in `dir` with `env` added, its standard input and error shared with
    /// this process and its standard output too (or sent to standard error, when this
    /// process's own output must stay one JSON object), and wait for it.
    ///
    /// While waiting, SIGINT, SIGTERM and SIGHUP sent to git-ledger are forwarded to the
    /// child; if it has not ended within [`GRACE`] (or a second signal comes), it is killed.
    /// The child stays in this process's process group, so an interactive agent keeps its
    /// terminal, and a Ctrl-C at the terminal reaches it directly as well.
    pub fn run(
        &mut self,
        command: &[String],
        dir: &Path,
        env: &[(&str, String)],
        stdout_to_stderr: bool,
    ) -> io::Result<Termination> {
        let Some((program, args)) = command.split_first() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no command"));
        };
        let Supervisor {
            runtime,
            interrupt,
            terminate,
            hangup,
            renew,
        } = self;
        runtime.block_on(async {
            let mut child = tokio::process::Command::new(program);
            child
                .args(args)
                .current_dir(dir)
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::inherit())
                .stderr(Stdio::inherit());
            if stdout_to_stderr {
                use std::os::fd::AsFd;
                child.stdout(Stdio::from(io::stderr().as_fd().try_clone_to_owned()?));
            } else {
                child.stdout(Stdio::inherit());
            }
            let started = Instant::now();
            let mut child = child.spawn()?;
            let pid = child.id();
            let mut interrupted: Option<i32> = None;
            // Armed (reset) by the first forwarded signal; not polled before.
            let grace = tokio::time::sleep(GRACE);
            tokio::pin!(grace);
            let status = loop {
                let received = tokio::select! {
                    status = child.wait() => break status?,
                    _ = async {
                        match renew.as_mut() {
                            Some((ticks, _)) => ticks.tick().await,
                            None => std::future::pending().await,
                        }
                    } => {
                        if let Some((_, renew)) = renew.as_mut() {
                            renew();
                        }
                        continue;
                    }
                    _ = interrupt.recv() => Sig::INT.as_raw(),
                    _ = terminate.recv() => Sig::TERM.as_raw(),
                    _ = hangup.recv() => Sig::HUP.as_raw(),
                    () = &mut grace, if interrupted.is_some() => {
                        let _ = child.start_kill();
                        continue;
                    }
                };
                if interrupted.is_some() {
                    // A second signal: stop waiting for the child to wind down.
                    let _ = child.start_kill();
                    continue;
                }
                interrupted = Some(received);
                if let Some(pid) = pid {
                    forward(pid, received);
                }
                grace.as_mut().reset(tokio::time::Instant::now() + GRACE);
            };
            Ok(Termination {
                status: status.code(),
                signal: status.signal(),
                core_dumped: status.core_dumped(),
                interrupted,
                duration: started.elapsed(),
            })
        })
    }
}

/// Send `signal` to the child `pid` (our own child, not waited for yet, so the id cannot
/// have been reused).
fn forward(pid: u32, signal: i32) {
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw);
    if let (Some(pid), Some(signal)) = (pid, Sig::from_named_raw(signal)) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

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
