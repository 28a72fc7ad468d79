//! Running an agent's command to its end: its output streams through, and however it ends —
//! an exit status, a crash, a kill, or Ctrl-C/SIGTERM sent to git-ledger while it waits — the
//! ledger learns how, so the end can be recorded.

use git_ledger::ledger::{Renewal, Supervise, Termination};
use rustix::process::{Pid, Signal as Sig};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How long a child may take to stop after a forwarded signal before it is killed.
const GRACE: Duration = Duration::from_secs(10);

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
    pub fn new(renew: Renewal<'r>) -> io::Result<Supervisor<'r>> {
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
}

impl Supervise for Supervisor<'_> {
    /// A SIGINT, SIGTERM or SIGHUP git-ledger received since the last attempt ended (while
    /// it was being recorded): no further attempt should start.
    fn interrupted(&mut self) -> Option<i32> {
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
    fn run(
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
