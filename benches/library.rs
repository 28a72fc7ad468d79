//! In-process benchmarks of the library (criterion): folding events into the state, writing
//! and opening the projection index, and the scans that warm commands run. The whole-process
//! figures (what a user waits for, with ratios to git itself) are in `benches/cli.rs`.
//!
//!     cargo bench --bench library
//!
//! The sample ledgers come from `git_ledger::sample` (seed 42), as in the CLI benchmarks.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use git_ledger::cache::db;
use git_ledger::event::Event;
use git_ledger::fold::state::State;
use git_ledger::view::memory::Scope;
use git_ledger::view::status::status;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A scratch repository holding a sample ledger of `size` events.
fn sample(size: usize) -> (tempfile::TempDir, git_ledger::store::Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["config", "ledger.writer", "0a1b2c3d4e5f"]);
    let mut store = git_ledger::store::Store::discover(dir.path()).expect("store");
    store.init(|| "0a1b2c3d4e5f".into()).expect("init");
    git_ledger::sample::generate(&store, size, 42, 1000).expect("generate");
    (dir, store)
}

/// Write `state` in full into the index at `path`.
fn write(state: &State, path: &Path) {
    let mut conn = db::open(path).expect("open");
    let tx = conn.transaction().expect("transaction");
    state.write_index(&tx, &()).expect("write");
    db::set_tips(&tx, db::STATE_TIPS, &[]).expect("tips");
    tx.commit().expect("commit");
}

/// A state opened from the index, as a warm command opens it.
fn warm(path: &Path) -> State {
    let conn = db::open(path).expect("open");
    State::read_index::<()>(conn, &Default::default())
        .expect("read")
        .expect("a state")
        .0
}

fn benches(c: &mut Criterion) {
    for size in [10_000, 100_000] {
        let (dir, store) = sample(size);
        let events: Vec<Event> = store.snapshot().expect("snapshot").events;
        let full = State::from_events(events.clone());
        let index = dir.path().join("bench-index.sqlite");
        write(&full, &index);
        let label = format!("{}k", size / 1000);

        let mut group = c.benchmark_group(format!("ledger {label}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("read every event from the refs", |b| {
            b.iter(|| store.snapshot().expect("snapshot").events.len())
        });
        group.bench_function("fold every event", |b| {
            b.iter_batched(|| events.clone(), State::from_events, BatchSize::LargeInput)
        });
        group.bench_function("open the index", |b| b.iter(|| warm(&index)));
        group.bench_function("write the index in full", |b| {
            let scratch = dir.path().join("scratch-index.sqlite");
            b.iter(|| write(&full, &scratch))
        });
        let state = warm(&index);
        let scope = Scope {
            writer: "0a1b2c3d4e5f",
            actor: "human:bench",
            stall_after_minutes: 10,
            worktree: Path::new("."),
            session: None,
            now: chrono::Utc::now(),
        };
        group.bench_function("status", |b| {
            b.iter(|| status(&state, &scope, 10, Some(10)))
        });
        group.bench_function("ready, first 50", |b| {
            b.iter(|| {
                let split =
                    state.ready_split(None, "human:bench", "0a1b2c3d4e5f", scope.now, Some(50));
                split.ready.len()
            })
        });
        group.finish();
    }
}

criterion_group!(library, benches);
criterion_main!(library);
