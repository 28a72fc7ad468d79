//! `TestRepo`: a hermetic repository with the ledger initialised, and helpers to run `git` and
//! `git ledger` in it.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

pub const BIN: &str = env!("CARGO_BIN_EXE_git-ledger");
/// The writer id tests give their clone, so ids and snapshots are reproducible.
pub const WRITER: &str = "0a1b2c3d4e5f";
pub const START: &str = "2026-01-05T09:00:00Z";
/// The clock at the end of `fixtures/sample-ledger.sh`.
pub const SAMPLE_END: &str = "2026-03-06T11:00:00Z";

pub struct TestRepo {
    _root: tempfile::TempDir,
    home: PathBuf,
    pub path: PathBuf,
    now: Mutex<Option<String>>,
}

/// What one run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl TestRepo {
    /// A fresh repository with one commit and the ledger initialised, clock at [`START`].
    pub fn new() -> TestRepo {
        let repo = TestRepo::bare_git();
        repo.git(&["config", "ledger.writer", WRITER]);
        repo.ok(&["init"]);
        repo
    }

    /// A ledger of `events` generated events (the bench's generator), `per_commit` to a
    /// commit.
    pub fn generated(events: usize, seed: u64, per_commit: usize) -> TestRepo {
        let repo = TestRepo::new();
        let store = git_ledger::store::Store::discover(&repo.path).expect("the store");
        git_ledger::sample::generate(&store, events, seed, per_commit).expect("generate");
        repo
    }

    /// The sample ledger of `fixtures/sample-ledger.sh`, with the clock at its end.
    pub fn sample() -> TestRepo {
        let repo = TestRepo::from_script("sample-ledger.sh");
        repo.at(Some(SAMPLE_END));
        repo
    }

    /// The repository a script of `fixtures/` builds (given its path), with this binary on
    /// `PATH`.
    pub fn from_script(script: &str) -> TestRepo {
        let repo = TestRepo::empty();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(script);
        let bin_dir = Path::new(BIN).parent().expect("bin dir");
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = repo
            .command("bash", repo.root())
            .env("PATH", path)
            .arg(script)
            .arg(&repo.path)
            .output()
            .expect("run the fixture script");
        assert!(
            output.status.success(),
            "fixture failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        repo
    }

    /// A git repository with one commit and no ledger.
    pub fn bare_git() -> TestRepo {
        let repo = TestRepo::empty();
        std::fs::create_dir_all(&repo.path).expect("repo dir");
        repo.git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.path.join("README"), "hello\n").expect("write");
        repo.git(&["add", "README"]);
        repo.git(&["commit", "-q", "-m", "initial"]);
        repo
    }

    /// A `git clone` of `remote` (a path) with the ledger initialised under `writer`: one of
    /// several clones that sync through a shared remote.
    pub fn clone_of(remote: &Path, writer: &str) -> TestRepo {
        let repo = TestRepo::empty();
        let remote = remote.to_str().expect("a UTF-8 path");
        repo.git_in(repo.root(), &["clone", "-q", remote, "repo"]);
        repo.git(&["config", "ledger.writer", writer]);
        repo.ok(&["init"]);
        repo
    }

    /// A temporary root with a home directory; the repository path does not exist yet.
    pub fn empty() -> TestRepo {
        let root = tempfile::tempdir().expect("temp dir");
        let home = root.path().join("home");
        let path = root.path().join("repo");
        std::fs::create_dir_all(&home).expect("home");
        TestRepo {
            _root: root,
            home,
            path,
            now: Mutex::new(Some(START.to_string())),
        }
    }

    /// The temporary home directory the commands run with.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Pin the clock for the following commands (`None`: the real clock).
    pub fn at(&self, time: Option<&str>) -> &TestRepo {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = time.map(str::to_string);
        self
    }

    /// The temporary directory that holds the repository (for worktrees beside it).
    pub fn root(&self) -> &Path {
        self.path.parent().expect("repo has a parent")
    }

    /// Any program (git, tmux, ...) in `dir` with the hermetic environment and the clock.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ann")
            .env("GIT_AUTHOR_EMAIL", "ann@example.com")
            .env("GIT_COMMITTER_NAME", "Ann")
            .env("GIT_COMMITTER_EMAIL", "ann@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-05T09:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-05T09:00:00Z")
            .env("LC_ALL", "C");
        if let Some(now) = self.now.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            command.env("GIT_LEDGER_NOW", now);
        }
        command
    }

    /// The binary, to run in `dir` with the hermetic environment (for tests that drive the
    /// process themselves: an MCP client, a signal).
    pub fn bin_command(&self, dir: &Path) -> Command {
        self.command(BIN, dir)
    }

    /// Run git in the repository; panics on failure (a broken fixture, not a product bug).
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.path, args)
    }

    /// Run git where it may fail (a hook refusing): (success, stderr).
    pub fn try_git(&self, args: &[&str]) -> (bool, String) {
        self.try_git_with(&[], args)
    }

    /// Run git with extra environment variables, where it may fail: (success, stderr).
    pub fn try_git_with(&self, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
        let mut command = self.command("git", &self.path);
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.args(args).output().expect("run git");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let output = self
            .command("git", dir)
            .args(args)
            .output()
            .expect("run git");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Run `git ledger` in `dir` with extra environment variables.
    pub fn run_with<S: AsRef<OsStr>>(&self, dir: &Path, env: &[(&str, &str)], args: &[S]) -> Run {
        let mut command = self.command(BIN, dir);
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(command.args(args).output().expect("run git-ledger"))
    }

    /// Run `git ledger` with `input` on its standard input.
    pub fn run_stdin(&self, input: &[u8], args: &[&str]) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .command(BIN, &self.path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn git-ledger");
        if let Some(mut stdin) = child.stdin.take() {
            // The binary may stop reading early (input over the limit): a broken pipe is fine.
            let _ = stdin.write_all(input);
        }
        Run::from(child.wait_with_output().expect("wait for git-ledger"))
    }

    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        self.run_with(&self.path, &[], args)
    }

    /// Run and expect success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_in(&self.path, args)
    }

    pub fn ok_in(&self, dir: &Path, args: &[&str]) -> String {
        self.ok_with(dir, &[], args)
    }

    /// Run in `dir` with `env` set and expect success; returns stdout.
    pub fn ok_with(&self, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
        let run = self.run_with(dir, env, args);
        assert_eq!(
            run.code,
            Some(0),
            "git ledger {args:?} failed:\n{}{}",
            run.stdout,
            run.stderr
        );
        run.stdout
    }

    /// `git ledger review approve <args>` by a reviewer who did no work on the task (an
    /// approval by whoever claimed it or authored its commits does not open the gate).
    pub fn approve(&self, args: &[&str]) -> String {
        let args = [&["review", "approve"][..], args].concat();
        self.ok_with(&self.path, &[("GIT_LEDGER_AGENT", "reviewer")], &args)
    }

    /// Run with `--json`, expect `ok: true`, return the whole envelope.
    pub fn envelope(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.ok(&args);
        let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(value["ok"], true, "{value}");
        value
    }

    /// Run with `--json` and return `data`.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_in(&self.path, args)
    }

    pub fn json_in(&self, dir: &Path, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.ok_in(dir, &args);
        let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(value["ok"], true, "{value}");
        value["data"].clone()
    }

    /// Run, expect failure (exit 1, nothing on stdout); returns stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code,
            Some(1),
            "git ledger {args:?} should fail: {}",
            run.stdout
        );
        assert_eq!(run.stdout, "", "a failure prints nothing on stdout");
        run.stderr
    }

    /// Add a task and return its full id.
    pub fn task(&self, args: &[&str]) -> String {
        let mut full = vec!["task", "add"];
        full.extend_from_slice(args);
        id_of(&self.json(&full))
    }

    /// The tip of this clone's ledger ref, if any.
    pub fn tip(&self) -> Option<String> {
        let out = self.git(&[
            "for-each-ref",
            "--format=%(objectname)",
            "refs/ledger/v1/writers/",
        ]);
        out.lines().next().map(str::to_string)
    }

    /// Where the local index database lives.
    pub fn index_path(&self) -> PathBuf {
        self.path.join(".git/ledger/index.sqlite")
    }

    /// The local index database, with what its write-ahead log holds moved into the file
    /// (so that the file's bytes are all there is to damage).
    pub fn index_file(&self) -> PathBuf {
        let path = self.index_path();
        let db = rusqlite::Connection::open(&path).expect("open the index");
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        path
    }

    /// Run `args` with no index, folding the events in batches of `batch` (each written into
    /// the index and read back); expect success and return stdout.
    pub fn ok_built_in_batches(&self, batch: &str, args: &[&str]) -> String {
        self.remove_index();
        self.ok_with(&self.path, &[("GIT_LEDGER_INDEX_BATCH", batch)], args)
    }

    /// Remove the local index and the commits kept beside it: the next command folds the
    /// refs.
    pub fn remove_index(&self) {
        let dir = self.path.join(".git/ledger");
        let _ = std::fs::remove_dir_all(dir.join("cache"));
        for name in ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"] {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }

    /// Number of events in the ledger.
    pub fn event_count(&self) -> usize {
        self.json(&["status"])["counts"]["events"]
            .as_u64()
            .expect("event count") as usize
    }
}

/// `PATH` with the binary's directory first, so scripts can run `git ledger`.
pub fn path_with_bin() -> String {
    let dir = Path::new(BIN).parent().expect("bin dir");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

pub fn id_of(data: &Value) -> String {
    data["id"].as_str().expect("an id").to_string()
}

/// The id as displayed: `t-` and 6 hex digits (as long as the ledger is small).
/// The string `key` of each item of a JSON list (which must be one).
pub fn strings_of<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|item| item[key].as_str())
        .collect()
}

pub fn short(id: &str) -> String {
    id[..8].to_string()
}

/// Give a hand-made event its id, as the binary would.
pub fn with_id(mut event: Value) -> String {
    let canonical = event.to_string();
    event["id"] = blake3::hash(canonical.as_bytes())
        .to_hex()
        .to_string()
        .into();
    event.to_string()
}

/// Write a commit on the empty tree by hand (a ledger commit no binary wrote).
pub fn hand_commit(repo: &TestRepo, message: &str, parent: Option<&str>) -> String {
    let file = repo.root().join("message.txt");
    std::fs::write(&file, message).expect("write message");
    let file = file.to_str().expect("utf8 path").to_string();
    let empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    repo.git(&["hash-object", "-t", "tree", "-w", "/dev/null"]);
    let mut args = vec!["commit-tree", empty_tree, "-F", &file];
    if let Some(parent) = parent {
        args.extend(["-p", parent]);
    }
    repo.git(&args).trim().to_string()
}

/// Every event id of the ledger, newest first.
pub fn event_ids(repo: &TestRepo) -> Vec<String> {
    repo.json(&["log", "-n", "0"])
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect()
}

/// Send SIGTERM to a child process, as a supervisor stopping it would.
pub fn terminate(child: &std::process::Child) {
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("send SIGTERM");
}

/// An MCP client of `git ledger mcp` started in the repository.
pub type McpClient = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// Start `git ledger mcp` in the repository and connect to it as a client.
pub async fn mcp_client(repo: &TestRepo) -> McpClient {
    use rmcp::ServiceExt;
    let mut command = repo.bin_command(&repo.path);
    command.arg("mcp");
    let transport = rmcp::transport::TokioChildProcess::new(tokio::process::Command::from(command))
        .expect("spawn the server");
    ().serve(transport).await.expect("initialize")
}
