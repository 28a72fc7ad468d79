//! Reliability: many writers on one ref, processes killed mid-append, locks they leave
//! behind, git's garbage collection, and hostile text. (Sync between clones: `sync.rs`.)

use crate::util::{TestRepo, WRITER, event_ids};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// xorshift64*: a deterministic sequence, so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The texts of a task's notes.
fn note_texts(repo: &TestRepo, task: &str) -> Vec<String> {
    repo.json(&["task", "show", task])["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_string))
        .collect()
}

fn own_ref() -> String {
    format!("refs/ledger/v1/writers/{WRITER}")
}

#[test]
fn eight_writers_in_four_worktrees_lose_nothing() {
    const PROCESSES: usize = 8;
    const APPENDS: usize = 250;
    let repo = TestRepo::new();
    // The real clock: concurrent processes must order themselves.
    repo.at(None);
    let task = repo.task(&["shared by eight writers"]);
    let before = repo.event_count();
    let mut dirs = vec![repo.path.clone()];
    for n in 1..4 {
        let dir = repo.root().join(format!("worktree-{n}"));
        repo.git(&["worktree", "add", "-q", dir.to_str().expect("utf-8 path")]);
        dirs.push(dir);
    }
    let started = Instant::now();
    let attempts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|p| {
                let (repo, task, dir) = (&repo, &task, &dirs[p % dirs.len()]);
                scope.spawn(move || {
                    let mut attempts = 0;
                    for n in 0..APPENDS {
                        let text = format!("process {p} note {n}");
                        let run = repo.run_with(
                            dir,
                            &[("GIT_LEDGER_DEBUG_RETRIES", "1")],
                            &["task", "note", &text, "--task", task],
                        );
                        assert_eq!(run.code, Some(0), "{text}: {}", run.stderr);
                        attempts += run
                            .stderr
                            .lines()
                            .find_map(|l| l.strip_prefix("git-ledger: appended after "))
                            .and_then(|l| l.split(' ').next())
                            .and_then(|n| n.parse::<u64>().ok())
                            .expect("the attempt count on stderr");
                    }
                    attempts
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a writer thread"))
            .collect()
    });
    let elapsed = started.elapsed();
    let total = (PROCESSES * APPENDS) as u64;
    let attempts: u64 = attempts.iter().sum();
    eprintln!(
        "{total} appends by {PROCESSES} processes in {:.1} s: {:.0} events/s, {:.2} attempts per event",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        attempts as f64 / total as f64
    );

    // Exactly the events written, each once, one commit each, on one linear history.
    let ids = event_ids(&repo);
    assert_eq!(ids.len(), before + PROCESSES * APPENDS);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    let texts = note_texts(&repo, &task);
    assert_eq!(texts.len(), PROCESSES * APPENDS);
    let unique: HashSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), PROCESSES * APPENDS, "every note exactly once");
    let commits = repo.git(&["rev-list", "--count", &own_ref()]);
    assert_eq!(commits.trim(), (before + PROCESSES * APPENDS).to_string());
    let merges = repo.git(&["rev-list", "--merges", "--count", &own_ref()]);
    assert_eq!(merges.trim(), "0");
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn appends_killed_at_random_moments_leave_the_ledger_intact() {
    let repo = TestRepo::new();
    let task = repo.task(&["survives crashes"]);
    let mut rng = Rng(0x5eed_1ed9_e4c0_ffee);
    let mut acknowledged = Vec::new();
    for n in 0..100 {
        let text = format!("crash note {n}");
        let mut child = repo
            .bin_command(&repo.path)
            .args(["task", "note", &text, "--task", &task])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn git-ledger");
        std::thread::sleep(Duration::from_millis(rng.below(31)));
        // SIGKILL; a process that already exited keeps the status it exited with.
        let _ = child.kill();
        let status = child.wait().expect("wait for git-ledger");
        if status.success() {
            acknowledged.push(text);
        }
    }
    eprintln!(
        "{} of 100 appends finished before SIGKILL, {} were killed",
        acknowledged.len(),
        100 - acknowledged.len()
    );
    assert!(
        acknowledged.len() < 100,
        "some appends must have been killed"
    );

    repo.git(&["fsck", "--strict", "--no-progress", "--no-dangling"]);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
    // Every acknowledged event is there, and no event is there twice.
    let texts = note_texts(&repo, &task);
    for text in &acknowledged {
        assert!(
            texts.contains(text),
            "{text} was acknowledged but is missing"
        );
    }
    assert_eq!(texts.iter().collect::<HashSet<_>>().len(), texts.len());
    // And the ledger still takes appends, without waiting on anything a victim left behind.
    let started = Instant::now();
    repo.ok(&["task", "note", "after the crashes", "--task", &task]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_ref_lock_left_by_a_killed_process_is_cleared() {
    let repo = TestRepo::new();
    let task = repo.task(&["locked out"]);
    let lock = repo.path.join(".git").join(format!("{}.lock", own_ref()));
    std::fs::write(&lock, "0000000000000000000000000000000000000000\n").expect("lock");
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&lock)
        .and_then(|f| f.set_modified(old))
        .expect("age the lock");
    let started = Instant::now();
    repo.ok(&["task", "note", "through the stale lock", "--task", &task]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!lock.exists());
    assert_eq!(note_texts(&repo, &task), ["through the stale lock"]);
}

/// `git count-objects -v` as numbers.
fn objects(repo: &TestRepo) -> (u64, u64) {
    let out = repo.git(&["count-objects", "-v"]);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (field("count:"), field("packs:"))
}

#[test]
fn git_gc_is_asked_every_256_commits() {
    let repo = TestRepo::new();
    // Two packs and gc.autoPackLimit=1: any `git gc --auto` now has work, whatever the loose
    // objects are (their count is only estimated from one fan-out directory). gc runs in the
    // foreground of the process the append spawned, which we wait for by polling.
    repo.git(&["config", "gc.autoPackLimit", "1"]);
    repo.git(&["config", "gc.autoDetach", "false"]);
    repo.git(&["repack", "-d", "-q"]);
    std::fs::write(repo.path.join("second"), "second pack\n").expect("write");
    repo.git(&["add", "second"]);
    repo.git(&["commit", "-q", "-m", "second"]);
    repo.git(&["repack", "-d", "-q"]);
    assert_eq!(objects(&repo), (0, 2));

    let task = repo.task(&["many notes"]);
    for n in 1..255 {
        repo.ok(&["task", "note", &format!("note {n}"), "--task", &task]);
    }
    // 255 commits on the ref: nothing asked git to pack (libgit2 never runs gc by itself).
    let count = repo.git(&["rev-list", "--count", &own_ref()]);
    assert_eq!(count.trim(), "255");
    let (loose, packs) = objects(&repo);
    assert_eq!(packs, 2);
    assert!(loose >= 255, "{loose}");
    // The 256th commit asks.
    repo.ok(&["task", "note", "note 255", "--task", &task]);
    let gc_pid = repo.path.join(".git").join("gc.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (loose, packs) = objects(&repo);
        if packs == 1 && loose == 0 && !gc_pid.exists() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no gc: {loose} loose, {packs} packs"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    repo.git(&["fsck", "--strict", "--no-progress"]);
    assert_eq!(note_texts(&repo, &task).len(), 255);
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn hostile_text_is_stored_verbatim_and_never_executed() {
    let repo = TestRepo::new();
    let root = repo.root().to_path_buf();
    let victim = root.join("victim");
    std::fs::write(&victim, "still here").expect("victim");
    let pwned = |n: u32| -> PathBuf { root.join(format!("pwned-{n}")) };
    let hostile = format!(
        "$(touch {}) `touch {}` ; touch {}; rm -rf {} && echo \"quoted\" 'single' \\ \u{7} | cat > {}",
        pwned(1).display(),
        pwned(2).display(),
        pwned(3).display(),
        victim.display(),
        pwned(4).display(),
    );
    let task = repo.task(&[&hostile]);
    repo.ok(&["task", "note", &hostile, "--task", &task]);
    let from_stdin = repo.run_stdin(hostile.as_bytes(), &["task", "note", "-", "--task", &task]);
    assert_eq!(from_stdin.code, Some(0), "{}", from_stdin.stderr);
    repo.ok(&["insight", "add", &hostile, "--tag", "$(touch /dev/null)"]);

    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["title"], hostile.as_str());
    assert_eq!(note_texts(&repo, &task), [hostile.clone(), hostile.clone()]);
    // In git, the text is JSON-escaped inside the commit message, byte for byte.
    let escaped = serde_json::to_string(&hostile).expect("json");
    let log = repo.git(&["log", "--format=%B", &own_ref()]);
    assert!(log.contains(&escaped), "{log}");
    for n in 1..=4 {
        assert!(!pwned(n).exists(), "{} was created", pwned(n).display());
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "still here"
    );
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn a_subject_cannot_smuggle_events_into_a_commit_message() {
    let repo = TestRepo::new();
    // An event that is valid on its own...
    let mut smuggled = json!({
        "v": 1, "kind": "task.created", "time": "2026-01-05T09:00:00.000Z", "hlc": 5u64,
        "writer": "ffeeddccbbaa", "actor": "human:mallory", "subject": "t-00000000000000aa",
        "body": {"title": "smuggled", "priority": 0, "depends_on": []}
    });
    smuggled["id"] = blake3::hash(smuggled.to_string().as_bytes())
        .to_hex()
        .to_string()
        .into();
    // ...hidden in the subject of another one, after a blank line: where a commit message's
    // summary paragraph ends and its event lines begin.
    let mut carrier = json!({
        "v": 1, "kind": "x.note", "time": "2026-01-05T09:00:00.000Z", "hlc": 6u64,
        "writer": "ffeeddccbbaa", "actor": "human:mallory",
        "subject": format!("x\n\n{smuggled}\n"), "body": {}
    });
    carrier["id"] = blake3::hash(carrier.to_string().as_bytes())
        .to_hex()
        .to_string()
        .into();
    let file = repo.root().join("carrier.jsonl");
    std::fs::write(&file, format!("{carrier}\n")).expect("write");
    repo.ok(&["import", file.to_str().expect("utf-8 path")]);

    let ids = event_ids(&repo);
    assert_eq!(ids, [carrier["id"].as_str().expect("id")]);
    let status = repo.json(&["status"]);
    assert_eq!(status["counts"]["tasks_open"], 0);
    let run = repo.run(&["status"]);
    assert_eq!(run.stderr, "", "nothing unreadable");
    let audit = repo.run(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}{}", audit.stdout, audit.stderr);
    // The summary is one line, whatever the subject holds; then the one event line.
    let message = repo.git(&["log", "-1", "--format=%B", &own_ref()]);
    let lines: Vec<&str> = message.trim_end().lines().collect();
    assert_eq!(lines.len(), 3, "{message}");
    assert!(lines[0].starts_with("x.note x "), "{message}");
    assert_eq!(lines[1], "");
    let stored: Value = serde_json::from_str(lines[2]).expect("the carrier event");
    assert_eq!(stored, carrier);
}
