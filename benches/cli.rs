//! Whole-process benchmarks of the `git-ledger` binary, with ratios measured side by side in
//! the same run (the machine is shared and noisy; absolute times alone mean little).
//!
//!     cargo bench --bench cli                       # 10k, 100k and 1M events
//!     LEDGER_BENCH_SIZES=10000,100000 cargo bench --bench cli
//!     cargo build-static && LEDGER_BENCH_BIN=target/x86_64-unknown-linux-gnu/release/git-ledger \
//!         cargo bench --bench cli                   # the statically linked build
//!
//! For each ledger size it generates a sample ledger (batched commits), then measures:
//! a cold `status` (no cache) with its peak memory, warm `status`, `ready` and
//! `memory working`, appends through the CLI (`task add`, `task note`) against the git
//! plumbing baseline (`git commit-tree` + `git update-ref`), and once `git commit` with
//! the hooks installed against without.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary measured: `LEDGER_BENCH_BIN`, else the one cargo built for the bench.
fn bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        match std::env::var("LEDGER_BENCH_BIN") {
            // Commands run in the sample repositories: make a relative path absolute.
            Ok(path) => std::fs::canonicalize(&path)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or(path),
            Err(_) => env!("CARGO_BIN_EXE_git-ledger").into(),
        }
    })
}
const WRITER: &str = "0a1b2c3d4e5f";
/// Commits made in each repository for the hook figures.
const HOOK_COMMITS: usize = 200;

fn main() {
    let sizes: Vec<usize> = std::env::var("LEDGER_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let root = tempfile::tempdir().expect("temp dir");
    let home = root.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let env = Env { home };
    println!(
        "git-ledger benchmarks ({} cores); medians, whole processes\nbinary: {}\n",
        cores(),
        bin()
    );

    let [plain, floor, idle, linked] = hooks_ratio(&env, &root.path().join("hooks"), HOOK_COMMITS);
    println!("git commit, median of {HOOK_COMMITS}, the four alternated:");
    println!("  without hooks                 {:>8}", ms(plain));
    println!(
        "  a no-op executable hook       {:>8}  x{:.2}  (the floor for any hook)",
        ms(floor),
        ratio(floor, plain)
    );
    println!(
        "  hooks, no task                {:>8}  x{:.2}",
        ms(idle),
        ratio(idle, plain)
    );
    println!(
        "  hooks, on a task branch       {:>8}  x{:.2}  (each commit recorded by the next command)",
        ms(linked),
        ratio(linked, plain)
    );
    println!();

    println!(
        "{:>9} | {:>11} {:>8} | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "events",
        "cold status",
        "max RSS",
        "status",
        "ready",
        "mem work",
        "task add",
        "add json",
        "task note",
        "plumbing",
        "add/plb",
        "json/plb"
    );
    for size in sizes {
        let repo = root.path().join(format!("ledger-{size}"));
        let generated = generate(&env, &repo, size);
        let runs = if size >= 1_000_000 { 3 } else { 9 };
        let (cold, rss) = cold_status(&env, &repo);
        let projection = index_size(&repo);
        let status = median(runs, || time(&env, &repo, &["status"]));
        let ready = median(runs, || time(&env, &repo, &["ready"]));
        let working = median(runs, || time(&env, &repo, &["memory", "working"]));
        let task = task_id(&env, &repo);
        let add = median(runs, || time(&env, &repo, &["task", "add", "bench task"]));
        // What an agent runs: the JSON reply carries the data and the next-step instructions.
        let add_json = median(runs, || {
            time(&env, &repo, &["task", "add", "bench task", "--json"])
        });
        let note = median(runs, || {
            time(
                &env,
                &repo,
                &["task", "note", "bench note", "--task", &task],
            )
        });
        let plumbing = median(runs, || plumbing_append(&env, &repo));
        println!(
            "{:>9} | {:>11} {:>6}MB | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} {:>9} {:>7.2} {:>7.2}",
            size,
            ms(cold),
            rss / 1024,
            ms(status),
            ms(ready),
            ms(working),
            ms(add),
            ms(add_json),
            ms(note),
            ms(plumbing),
            ratio(add, plumbing),
            ratio(add_json, plumbing)
        );
        eprintln!("  (generated {size} events in {})", ms(generated));
        println!(
            "{:>9}   index after the cold status: {} MB",
            "",
            projection / 1_000_000
        );
        appends_figures(&env, &repo);
        search_figures(&env, &repo, runs);
        let _ = std::fs::remove_dir_all(&repo);
    }
}

/// `search`: the first (which builds the index), warm ones, one after an append (which folds
/// the new entity in), and the index's size on disk.
/// `task add` many times in a row: its median and 99th percentile (the index is brought up
/// to the refs every few dozen appends: that must not show as a spike).
fn appends_figures(env: &Env, repo: &Path) {
    const APPENDS: usize = 200;
    let mut times: Vec<Duration> = (0..APPENDS)
        .map(|_| time(env, repo, &["task", "add", "bench burst task"]))
        .collect();
    times.sort();
    let (median, p99) = (times[APPENDS / 2], times[APPENDS * 99 / 100]);
    println!(
        "{:>9}   task add x{APPENDS}: median {}, p99 {} (x{:.2} the median)",
        "",
        ms(median),
        ms(p99),
        ratio(p99, median)
    );
}

fn search_figures(env: &Env, repo: &Path, runs: usize) {
    // The projection stays; the search text goes, so the first search builds it.
    let db = rusqlite::Connection::open(repo.join(INDEX_FILES[0])).expect("index");
    db.execute_batch(
        "DELETE FROM search_entity; DELETE FROM search_text;
         DELETE FROM meta WHERE key = 'search_tips';",
    )
    .expect("clear the search text");
    drop(db);
    // One that few entities match, and one that every task with a note matches (ranking
    // them all is the work).
    let query = ["search", "task", "4242"];
    let first = time(env, repo, &query);
    let warm = median(runs, || time(env, repo, &query));
    let broad = median(runs, || time(env, repo, &["search", "approach"]));
    let after_append = median(runs, || {
        run(env, repo, &["task", "add", "bench search task"]);
        time(env, repo, &query)
    });
    let size = index_size(repo);
    println!(
        "{:>9}   search: first (builds its text) {}, warm {}, warm broad {}, after an append {}; index with it {} MB",
        "",
        ms(first),
        ms(warm),
        ms(broad),
        ms(after_append),
        size / 1_000_000
    );
}

struct Env {
    home: PathBuf,
}

impl Env {
    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            // The sample ledger's events run from 2026-01-01 about half a minute apart, so a
            // big one ends in the future of a machine's clock; events ahead of the clock are
            // read as problems (each a warning). Pin the clock after the sample's end.
            .env("GIT_LEDGER_NOW", "2027-06-01T00:00:00Z")
            .env("GIT_AUTHOR_NAME", "Bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.com")
            .env("GIT_COMMITTER_NAME", "Bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.com")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let output = self
            .command("git", dir)
            .args(args)
            .stdout(Stdio::piped())
            .output()
            .expect("git");
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

fn generate(env: &Env, repo: &Path, size: usize) -> Duration {
    std::fs::create_dir_all(repo).expect("repo dir");
    env.git(repo, &["init", "-q", "-b", "main"]);
    env.git(repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    env.git(repo, &["config", "ledger.writer", WRITER]);
    run(env, repo, &["init"]);
    let start = Instant::now();
    let store = git_ledger::store::Store::discover(repo).expect("store");
    git_ledger::sample::generate(&store, size, 42, 1000).expect("generate");
    start.elapsed()
}

fn run(env: &Env, repo: &Path, args: &[&str]) -> std::process::ExitStatus {
    env.command(bin(), repo)
        .args(args)
        .status()
        .expect("git-ledger")
}

fn time(env: &Env, repo: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = run(env, repo, args);
    let elapsed = start.elapsed();
    assert!(status.success(), "git ledger {args:?} failed");
    elapsed
}

/// The index files (the database and its write-ahead log).
const INDEX_FILES: [&str; 2] = [".git/ledger/index.sqlite", ".git/ledger/index.sqlite-wal"];

/// The index's size on disk, in bytes.
fn index_size(repo: &Path) -> u64 {
    INDEX_FILES
        .iter()
        .map(|f| std::fs::metadata(repo.join(f)).map_or(0, |m| m.len()))
        .sum()
}

/// `status` with no index (removed first), and the process's peak memory in KiB.
fn cold_status(env: &Env, repo: &Path) -> (Duration, u64) {
    let _ = std::fs::remove_dir_all(repo.join(".git/ledger/cache"));
    for file in INDEX_FILES.iter().chain(&[".git/ledger/index.sqlite-shm"]) {
        let _ = std::fs::remove_file(repo.join(file));
    }
    let start = Instant::now();
    let child = env
        .command(bin(), repo)
        .arg("status")
        .spawn()
        .expect("spawn");
    let (ok, rss) = wait_with_rss(child);
    let elapsed = start.elapsed();
    assert!(ok, "cold status failed");
    (elapsed, rss)
}

/// Wait for a child and read its peak resident memory (KiB) from the kernel.
fn wait_with_rss(child: std::process::Child) -> (bool, u64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers to locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    (
        waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss as u64,
    )
}

fn task_id(env: &Env, repo: &Path) -> String {
    let output = env
        .command(bin(), repo)
        .args(["task", "add", "noted task", "--json"])
        .stdout(Stdio::piped())
        .output()
        .expect("task add");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    value["data"]["id"].as_str().expect("id").to_string()
}

/// The plumbing baseline: one commit on the empty tree and a compare-and-swap ref update.
fn plumbing_append(env: &Env, repo: &Path) -> Duration {
    let reference = "refs/bench/plumbing";
    let old = env
        .command("git", repo)
        .args(["rev-parse", "--verify", "-q", reference])
        .stdout(Stdio::piped())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let start = Instant::now();
    let mut args = vec![
        "commit-tree",
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "-m",
        "{\"kind\":\"bench\"}",
    ];
    if !old.is_empty() {
        args.extend(["-p", &old]);
    }
    let new = env.git(repo, &args);
    let mut update = vec!["update-ref", reference, &new];
    if !old.is_empty() {
        update.push(&old);
    }
    env.git(repo, &update);
    start.elapsed()
}

/// Median `git commit` time without hooks, with one bare no-op executable as a hook (the
/// floor: what git pays to run any hook), with our hooks and no task, and on a task branch:
/// four repositories, one commit in each in turn, so the machine's drift hits all alike.
/// Checks that every commit on the task branch was recorded by the next command.
fn hooks_ratio(env: &Env, root: &Path, n: usize) -> [Duration; 4] {
    let repos = ["plain", "floor", "idle", "linked"].map(|name| root.join(name));
    for repo in &repos {
        std::fs::create_dir_all(repo).expect("repo dir");
        env.git(repo, &["init", "-q", "-b", "main"]);
        env.git(repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink("/bin/true", repos[1].join(".git/hooks/prepare-commit-msg"))
        .expect("no-op hook");
    for repo in &repos[2..] {
        run(env, repo, &["init"]);
        run(env, repo, &["hooks", "install"]);
    }
    let task = task_id(env, &repos[3]);
    env.git(
        &repos[3],
        &["switch", "-q", "-c", &format!("task/{}", &task[..8])],
    );
    let commit = |repo: &Path, i: usize| {
        let start = Instant::now();
        env.git(
            repo,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("commit {i}"),
            ],
        );
        start.elapsed()
    };
    let mut times: [Vec<Duration>; 4] = Default::default();
    for i in 0..=n {
        for (repo, times) in repos.iter().zip(&mut times) {
            let took = commit(repo, i);
            if i > 0 {
                times.push(took); // the first round warms the page cache
            }
        }
    }
    let shown = env
        .command(bin(), &repos[3])
        .args(["task", "show", &task, "--json"])
        .stdout(Stdio::piped())
        .output()
        .expect("task show");
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    let recorded = shown["data"]["commits"].as_array().map_or(0, Vec::len);
    assert_eq!(
        recorded,
        n + 1,
        "every commit on the task branch is recorded"
    );
    times.map(|mut t| {
        t.sort();
        t[t.len() / 2]
    })
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    f(); // warm-up: page cache, first-run effects
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
