//! `dash` on the sample ledger, driven in a real terminal: tmux runs it at 80×24, keys are
//! sent, the screen is read back. Plus what it does without a terminal.

use crate::util::{BIN, SAMPLE_END, TestRepo};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A tmux server of its own (own socket), killed when the test ends, however it ends.
struct Tmux<'a> {
    repo: &'a TestRepo,
    socket: PathBuf,
}

const SESSION: &str = "dash";

impl<'a> Tmux<'a> {
    /// Start `git ledger dash` in an 80×24 window, in the repository, with the test's
    /// hermetic environment and clock.
    fn start(repo: &'a TestRepo) -> Tmux<'a> {
        let tmux = Tmux {
            repo,
            socket: repo.root().join("tmux.sock"),
        };
        let command = format!("exec {BIN} dash");
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            "80",
            "-y",
            "24",
            &command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self
            .repo
            .command("tmux", &self.repo.path)
            .env("TERM", "xterm-256color")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "tmux is not installed ({e}): the dashboard test needs it (.ci/run installs it)"
                )
            });
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", SESSION])
    }

    /// The screen once it shows `text` (polled; the dashboard draws within a poll interval).
    fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// The screen once it shows every one of `texts` (a frame may be caught half drawn).
    fn wait_for_all(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if texts.iter().all(|text| screen.contains(text)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed all of {texts:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the dashboard's process is still there (the session ends with it).
    fn alive(&self) -> bool {
        self.repo
            .command("tmux", &self.repo.path)
            .arg("-S")
            .arg(&self.socket)
            .args(["has-session", "-t", SESSION])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self
            .repo
            .command("tmux", &self.repo.path)
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The sample ledger with one agent spawned at its end and silent since: half an hour later
/// it is stalled.
fn sample_with_an_agent() -> TestRepo {
    let repo = TestRepo::sample();
    let tasks = repo.json(&["task", "list"]);
    let blocked = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["status"] == "blocked")
        .and_then(|t| t["id"].as_str())
        .expect("a blocked task")
        .to_string();
    repo.at(Some(SAMPLE_END)).ok(&[
        "agent",
        "spawn",
        "--role",
        "migrator",
        "-m",
        "Prepare the user migration",
        "-t",
        &blocked,
    ]);
    repo.at(Some("2026-03-06T11:30:00Z"));
    repo
}

#[test]
fn dashboard_in_tmux_shows_the_panes_and_reacts_to_keys() {
    let repo = sample_with_an_agent();
    let events = repo.event_count();
    let tmux = Tmux::start(&repo);

    let screen = tmux.wait_for_all(&[
        "[Tasks]",
        "Objectives",
        "Agents",
        "Open decisions",
        "Events",
        "[stalled]",
        // The last line drawn: the screen is complete.
        "q quit",
    ]);
    assert_eq!(screen.lines().count(), 24, "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    insta::assert_snapshot!("dash_80x24", screen);

    // Tab moves the focus to the next pane, Shift-Tab back.
    tmux.keys(&["Tab"]);
    tmux.wait_for("[Agents]");
    tmux.keys(&["BTab"]);
    tmux.wait_for("[Tasks]");

    // The first task (the blocked one) is selected; ↓ and ↑ step over the state headings.
    // Open it, see what it holds, close it.
    tmux.keys(&["Down", "Up", "Enter"]);
    let detail = tmux.wait_for("Esc close");
    assert!(detail.contains("Migrate the user table"), "{detail}");
    assert!(
        detail.contains("blocked: needs a maintenance window"),
        "{detail}"
    );
    insta::assert_snapshot!("dash_task_detail", detail);
    tmux.keys(&["Escape"]);
    tmux.wait_for("[Tasks]");

    // Filter by session: the header says so; c clears it.
    tmux.keys(&["s"]);
    tmux.wait_for("filter: session s-");
    tmux.keys(&["c"]);
    tmux.wait_for("filter: none");

    // A write from elsewhere shows without a key.
    repo.ok(&["task", "add", "Rotate the signing keys"]);
    tmux.wait_for("Rotate the signing keys");

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        repo.event_count(),
        events + 1,
        "the dashboard wrote nothing of its own"
    );
}

#[test]
fn dashboard_without_a_terminal_says_so_and_json_gives_its_data() {
    let repo = sample_with_an_agent();
    let tip = repo.tip();
    let stderr = repo.fail(&["dash"]);
    assert!(
        stderr.starts_with("error: the dashboard needs a terminal"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");

    let data = repo.json(&["dash"]);
    assert_eq!(data["agents"][0]["state"], "stalled", "{data}");
    assert_eq!(data["agents"][0]["role"], "migrator");
    let groups: Vec<&str> = data["task_groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["label"].as_str().expect("label"))
        .collect();
    assert_eq!(groups, ["in progress", "blocked", "open", "done"]);
    assert_eq!(data["counts"]["tasks_done"], 3);
    assert_eq!(data["objectives"].as_array().map(Vec::len), Some(2));
    assert_eq!(repo.tip(), tip, "dash writes nothing");
}
