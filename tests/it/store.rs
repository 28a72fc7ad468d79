use crate::util::{TestRepo, WRITER, hand_commit, short, strings_of, with_id};
use std::collections::HashSet;
use std::path::PathBuf;

#[test]
fn four_concurrent_writers_lose_nothing() {
    let repo = TestRepo::new();
    // The real clock: concurrent processes must order themselves.
    repo.at(None);
    let task = repo.task(&["shared"]);
    let before = repo.event_count();
    std::thread::scope(|scope| {
        for writer in 0..4 {
            let repo = &repo;
            let task = &task;
            scope.spawn(move || {
                for n in 0..50 {
                    let text = format!("writer {writer} note {n}");
                    repo.ok(&["task", "note", &text, "--task", task]);
                }
            });
        }
    });
    assert_eq!(repo.event_count(), before + 200);
    let notes = repo.json(&["task", "show", &task])["notes"].clone();
    let texts: HashSet<String> = notes
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(texts.len(), 200, "every note exactly once");
    // One commit per append, a single linear history.
    let commits = repo.git(&[
        "rev-list",
        "--count",
        &format!("refs/ledger/v1/writers/{WRITER}"),
    ]);
    assert_eq!(commits.trim(), (before + 200).to_string());
    let merges = repo.git(&[
        "rev-list",
        "--merges",
        "--count",
        &format!("refs/ledger/v1/writers/{WRITER}"),
    ]);
    assert_eq!(merges.trim(), "0");
    repo.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn plain_git_log_shows_readable_events() {
    let repo = TestRepo::new();
    let task = repo.task(&["Readable with git"]);
    let log = repo.git(&["log", "--format=%s", "--glob=refs/ledger"]);
    assert_eq!(
        log,
        format!("task.created {task}: task added: Readable with git\n")
    );
    let body = repo.git(&["log", "-1", "--format=%b", "--glob=refs/ledger"]);
    let event: serde_json::Value =
        serde_json::from_str(body.trim()).expect("the body is the event");
    assert_eq!(event["kind"], "task.created");
    assert_eq!(event["body"]["title"], "Readable with git");
    assert_eq!(event["writer"], WRITER);
    assert_eq!(event["id"].as_str().map(str::len), Some(64));
    // The empty tree: nothing in the work tree or index is touched.
    let tree = repo.git(&["log", "-1", "--format=%T", "--glob=refs/ledger"]);
    assert_eq!(tree.trim(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn other_writers_refs_are_read_and_ordered() {
    let repo = TestRepo::new();
    let task = repo.task(&["mine"]);
    // Another clone's writer ref, fetched: copy this writer's commit under another name and
    // add an event written by hand with the other writer id.
    let other = "ffeeddccbbaa";
    let event = serde_json::json!({
        "v": 1, "kind": "task.noted", "time": "2026-01-05T10:00:00.000Z", "hlc": 1_790_000_000_000u64,
        "writer": other, "actor": "agent:a-1", "subject": task, "body": {"text": "from the other clone"}
    });
    let line = with_id(event);
    let commit = hand_commit(&repo, &format!("task.noted\n\n{line}\n"), None);
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{other}"),
        &commit,
    ]);
    let notes = repo.json(&["task", "show", &short(&task)])["notes"].clone();
    assert_eq!(notes[0]["text"], "from the other clone");
    assert_eq!(notes[0]["actor"], "agent:a-1");
    // Our next event orders after it: the clock moved past the highest value seen.
    repo.ok(&["task", "note", "mine, later", "--task", &task]);
    let log = repo.json(&["log", "-n", "1"]);
    assert_eq!(log[0]["body"]["text"], "mine, later");
    assert!(log[0]["hlc"].as_u64().expect("hlc") > 1_790_000_000_000);
}

#[test]
fn unknown_event_kinds_are_kept_and_shown() {
    let repo = TestRepo::new();
    let tip = repo.tip().unwrap_or_default();
    let future = with_id(serde_json::json!({
        "v": 2, "kind": "task.teleported", "time": "2026-01-05T10:00:00.000Z", "hlc": 1u64,
        "writer": WRITER, "actor": "human:Ann", "subject": "t-0000000000000000", "body": {"to": "mars"},
        "extra_envelope_field": true
    }));
    let parent = (!tip.is_empty()).then_some(tip.as_str());
    let commit = hand_commit(&repo, &format!("future\n\n{future}\n"), parent);
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{WRITER}"),
        &commit,
    ]);
    let log = repo.ok(&["log"]);
    assert!(log.contains("task.teleported"), "{log}");
    assert!(log.contains("(unknown to this version)"), "{log}");
    assert_eq!(repo.json(&["status"])["counts"]["unknown_events"], 1);
    // Appending on top keeps it.
    repo.task(&["after"]);
    assert!(repo.ok(&["log"]).contains("task.teleported"));
}

#[test]
fn a_hand_rewritten_ref_is_reported_not_fatal() {
    let repo = TestRepo::new();
    repo.task(&["good"]);
    let tip = repo.tip().expect("tip");
    let garbage = hand_commit(&repo, "oops\n\nnot json at all\n{\"half\": \n", Some(&tip));
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{WRITER}"),
        &garbage,
    ]);
    let run = repo.run(&["status"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .count(),
        2,
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("tasks: 1 open"), "{}", run.stdout);

    // A ref pointing at a blob.
    let blob = repo.git(&["rev-parse", "HEAD:README"]);
    repo.git(&["update-ref", "refs/ledger/v1/writers/0000aaaa", blob.trim()]);
    let run = repo.run(&["log"]);
    assert_eq!(run.code, Some(0));
    assert!(
        run.stderr.contains("refs/ledger/v1/writers/0000aaaa"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not a commit"), "{}", run.stderr);

    // A tampered event (id no longer matches its content) is skipped and reported.
    let good = repo.git(&["log", "-1", "--format=%b", &tip]);
    let tampered = good.replace("\"good\"", "\"evil\"");
    let commit = hand_commit(&repo, &format!("x\n\n{tampered}"), None);
    repo.git(&["update-ref", "refs/ledger/v1/writers/0000bbbb", &commit]);
    let run = repo.run(&["task", "list"]);
    assert!(run.stderr.is_empty() || !run.stderr.contains("panicked"));
    assert!(!run.stdout.contains("evil"), "{}", run.stdout);
    let run = repo.run(&["log"]);
    assert!(
        run.stderr.contains("does not match its content"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_start_ordered_after_a_completion_reopens_the_task() {
    let repo = TestRepo::new();
    let task = repo.task(&["contested"]);
    repo.ok(&["task", "start", &task]);
    repo.ok(&["task", "note", "work"]);
    repo.ok(&["task", "done", "-m", "finished here"]);
    // Another clone, not having seen the completion, started it; its event orders later.
    let other = "ffeeddccbbaa";
    let start = with_id(serde_json::json!({
        "v": 1, "kind": "task.started", "time": "2026-01-05T09:00:00.000Z", "hlc": 1_790_000_000_000u64,
        "writer": other, "actor": "human:Bob", "subject": task, "body": {"worktree": "/elsewhere"}
    }));
    let commit = hand_commit(&repo, &format!("task.started\n\n{start}\n"), None);
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{other}"),
        &commit,
    ]);
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["status"], "in_progress");
    assert!(
        shown.get("summary").is_none() && shown.get("completed").is_none(),
        "{shown}"
    );
}

/// The state with and without the local index, as `status` and `task list` print it.
fn views(repo: &TestRepo) -> (serde_json::Value, serde_json::Value) {
    (repo.json(&["status"]), repo.json(&["task", "list"]))
}

fn without_cache(repo: &TestRepo) -> (serde_json::Value, serde_json::Value) {
    repo.remove_index();
    views(repo)
}

#[test]
fn commits_kept_beside_the_cache_are_used_only_if_they_hash_to_their_id() {
    let repo = TestRepo::new();
    repo.task(&["first"]);
    repo.ok(&["status"]);
    repo.task(&["second"]);
    repo.task(&["third"]);
    let dir = repo.path.join(".git/ledger/cache");
    let index = repo.index_file();
    let stored = std::fs::read(&index).expect("an index");
    let kept = std::fs::read(dir.join("recent")).expect("appended commits are kept");
    let expected = without_cache(&repo);
    let mut tampered = kept.clone();
    // The title in the event itself (the commit's summary line also names it).
    let at = kept
        .windows(8)
        .position(|w| w == b"\"second\"")
        .expect("the commit is kept");
    tampered[at + 1..at + 7].copy_from_slice(b"sekond");
    let cut = kept[..kept.len() - 20].to_vec();
    for bytes in [kept.clone(), tampered, cut, b"garbage".to_vec()] {
        // The index from before the two appends, and the commits kept since, maybe damaged.
        repo.remove_index();
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(&index, &stored).expect("the index");
        std::fs::write(dir.join("recent"), &bytes).expect("the kept commits");
        let run = repo.run(&["task", "list", "--json"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(run.stderr, "");
        assert_eq!(views(&repo), expected);
    }
}

#[test]
fn the_index_is_updated_in_place_not_rewritten() {
    let repo = TestRepo::new();
    repo.task(&["first"]);
    repo.ok(&["status"]);
    let db = rusqlite::Connection::open(repo.index_file()).expect("open");
    db.execute_batch(
        "CREATE TABLE removed(key INTEGER);
         CREATE TRIGGER note_removed AFTER DELETE ON entity
         BEGIN INSERT INTO removed VALUES (old.key); END;
         CREATE TRIGGER note_removed_data AFTER DELETE ON entity_data
         BEGIN INSERT INTO removed VALUES (old.key); END;",
    )
    .expect("watch the rows");
    drop(db);
    // Past the update threshold: the next read brings the index up to the refs.
    for n in 0..40 {
        repo.task(&[&format!("more {n}")]);
    }
    repo.ok(&["status"]);
    let db = rusqlite::Connection::open(repo.index_file()).expect("open");
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |row| row.get(0)).expect("count") };
    // Written when a read found it more than the threshold behind (by the 33rd append).
    assert!(
        count("SELECT count(*) FROM entity") > 30,
        "the new tasks were added"
    );
    assert_eq!(
        count("SELECT count(*) FROM removed"),
        0,
        "and no row was written again"
    );
    drop(db);
    assert_eq!(views(&repo), without_cache(&repo));
}

#[test]
fn a_large_write_ahead_log_is_folded_into_the_index_by_the_next_command() {
    // A log left by another writer (here one that kept it on close) is copied into the
    // database and removed by the next command's close, so reads do not slow down as it
    // grows.
    let repo = TestRepo::new();
    repo.task(&["first"]);
    repo.ok(&["status"]);
    let wal = PathBuf::from(format!("{}-wal", repo.index_file().display()));
    let db = rusqlite::Connection::open(repo.index_file()).expect("open");
    db.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .expect("leave the log");
    db.execute_batch(
        "CREATE TABLE scratch(b BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 512)
         INSERT INTO scratch SELECT randomblob(4096) FROM n;",
    )
    .expect("a large write");
    drop(db);
    let size = |path: &PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
    assert!(size(&wal) > 2 << 20, "the log is {} bytes", size(&wal));
    repo.ok(&["status"]);
    assert_eq!(size(&wal), 0, "the log was left behind");
    repo.task(&["second"]);
    repo.ok(&["status"]);
    assert!(size(&wal) < 1 << 20, "the log is {} bytes", size(&wal));
    assert_eq!(views(&repo), without_cache(&repo));
}

/// The sizes of the index file and of its write-ahead log, in bytes (0 for one missing).
fn index_and_log_sizes(repo: &TestRepo) -> (u64, u64) {
    let size = |path: PathBuf| std::fs::metadata(path).map_or(0, |m| m.len());
    let log = PathBuf::from(format!("{}-wal", repo.index_path().display()));
    (size(repo.index_path()), size(log))
}

#[test]
fn a_cold_read_leaves_no_large_write_ahead_log() {
    // The build's write is large: left as a log, it would double the index on disk and
    // slow the next command's reads.
    let repo = TestRepo::generated(30_000, 42, 1000);
    repo.ok(&["status"]);
    let (index, log) = index_and_log_sizes(&repo);
    assert!(index + log > 2 << 20, "the index is {index} + {log} bytes");
    assert!(log < 1 << 20, "the log is {log} bytes");
}

#[test]
fn an_index_built_in_batches_leaves_no_large_write_ahead_log() {
    // Each batch is written while the one before is still read from: the log must be
    // emptied between batches and after the last, not left to grow with the ledger.
    let repo = TestRepo::generated(30_000, 42, 1000);
    let expected = without_cache(&repo);
    repo.ok_built_in_batches("12000", &["status"]);
    let (index, log) = index_and_log_sizes(&repo);
    assert!(index > 2 << 20, "the index is {index} bytes");
    assert!(log < 1 << 20, "the log is {log} bytes");
    assert_eq!(views(&repo), expected);
}

#[test]
fn entities_parked_out_of_memory_during_a_build_give_the_views_of_a_full_fold() {
    // Parked entities are packed with the dictionary the index is then written with; in
    // batches, the later writes pack with the index's own and must unpack them first.
    let repo = TestRepo::generated(6_000, 7, 500);
    let expected = without_cache(&repo);
    for batch in ["1000000", "2500"] {
        repo.remove_index();
        let env = [
            ("GIT_LEDGER_INDEX_BATCH", batch),
            ("GIT_LEDGER_INDEX_PARK", "700"),
        ];
        let built = repo.ok_with(&repo.path, &env, &["status", "--json"]);
        let built: serde_json::Value = serde_json::from_str(&built).expect("json");
        assert_eq!(
            built["data"], expected.0,
            "the build's own view, in batches of {batch}"
        );
        assert_eq!(views(&repo), expected, "in batches of {batch}");
    }
}

#[test]
fn a_damaged_cache_is_rebuilt_not_trusted() {
    let repo = TestRepo::new();
    for title in ["a", "b", "c"] {
        repo.task(&[title]);
    }
    let expected = without_cache(&repo);
    let index = repo.index_file();
    assert!(index.exists(), "a full read leaves an index");
    let good = std::fs::read(&index).expect("index");
    let damaged: Vec<Vec<u8>> = vec![
        good[..good.len() / 2].to_vec(),
        b"garbage".to_vec(),
        Vec::new(),
        {
            let mut flipped = good.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 0xff;
            flipped
        },
        good.iter()
            .map(|b| if *b == b'1' { b'2' } else { *b })
            .collect(),
    ];
    for bytes in damaged {
        repo.remove_index();
        std::fs::write(&index, &bytes).expect("damage the index");
        let run = repo.run(&["status", "--json"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stderr.is_empty(), "rebuilt silently: {}", run.stderr);
        assert_eq!(views(&repo), expected);
    }
}

#[test]
fn refs_moved_behind_the_cache_are_followed() {
    let repo = TestRepo::new();
    let task = repo.task(&["moving"]);
    repo.ok(&["task", "start", &task]);
    repo.ok(&["task", "note", "one"]);
    let before_note = repo.git(&["rev-parse", &format!("refs/ledger/v1/writers/{WRITER}")]);
    repo.ok(&["task", "note", "two"]);
    assert_eq!(
        repo.json(&["task", "show", &task])["notes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Rewound by hand: the cache must not keep the dropped events.
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{WRITER}"),
        before_note.trim(),
    ]);
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["notes"].as_array().map(Vec::len), Some(1));
    assert_eq!(views(&repo), without_cache(&repo));
}

#[test]
fn fetched_events_that_sort_earlier_land_in_their_place() {
    let repo = TestRepo::new();
    let task = repo.task(&["contested"]);
    repo.ok(&["task", "start", &task]);
    repo.ok(&["task", "note", "work"]);
    repo.ok(&["task", "done", "-m", "finished"]);
    assert_eq!(
        repo.json(&["status"])["counts"]["tasks_done"],
        1,
        "cache written"
    );
    // Another clone's block of the task, ordered before the completion: the completion wins.
    let other = "ffeeddccbbaa";
    let block = with_id(serde_json::json!({
        "v": 1, "kind": "task.blocked", "time": "2026-01-05T09:00:00.000Z", "hlc": 1u64,
        "writer": other, "actor": "human:Bob", "subject": task, "body": {"reason": "old news"}
    }));
    let commit = hand_commit(&repo, &format!("task.blocked\n\n{block}\n"), None);
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{other}"),
        &commit,
    ]);
    let (status, tasks) = views(&repo);
    assert_eq!(tasks[0]["status"], "done");
    assert_eq!(status["counts"]["events"], 5);
    assert_eq!((status, tasks), without_cache(&repo));
    // A later event from the other clone is applied on top.
    let reopen = with_id(serde_json::json!({
        "v": 1, "kind": "task.reopened", "time": "2026-01-05T09:00:00.000Z", "hlc": 1_790_000_000_000u64,
        "writer": other, "actor": "human:Bob", "subject": task, "body": {}
    }));
    let commit = hand_commit(
        &repo,
        &format!("task.reopened\n\n{reopen}\n"),
        Some(&commit),
    );
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{other}"),
        &commit,
    ]);
    assert_eq!(views(&repo).1[0]["status"], "open");
    assert_eq!(views(&repo), without_cache(&repo));
}

/// The views an agent asks for most, as JSON.
fn hot_views(repo: &TestRepo) -> Vec<serde_json::Value> {
    vec![
        repo.json(&["status"]),
        repo.json(&["task", "list"]),
        repo.json(&["ready", "--limit", "0"]),
        repo.json(&["memory", "working"]),
        repo.json(&["objective", "list"]),
    ]
}

#[test]
fn views_from_the_lazy_cache_match_a_full_fold() {
    let repo = TestRepo::new();
    let objective = crate::util::id_of(&repo.json(&["objective", "add", "ship it"]));
    let first = repo.task(&["first", "-o", &objective, "--role", "developer"]);
    let second = repo.task(&["second", "-d", &first, "-p", "0", "-o", &objective]);
    let third = repo.task(&["third", "--role", "tester"]);
    // The cache now holds three tasks; what follows is applied on top of it, and past the
    // rewrite threshold the changed entities are written back beside untouched ones.
    repo.ok(&["status"]);
    repo.ok(&["task", "start", &first]);
    repo.ok(&["task", "claim", &third]);
    for n in 0..40 {
        repo.ok(&["task", "note", &format!("note {n}"), "--task", &first]);
    }
    repo.ok(&["task", "done", &first, "-m", "finished"]);
    let fourth = repo.task(&["fourth", "-p", "3"]);
    let cached = hot_views(&repo);
    // `second` became ready when `first` closed; `third` is claimed by this actor, so offered.
    let ready = strings_of(&cached[2], "id");
    assert_eq!(ready, [second.as_str(), third.as_str(), fourth.as_str()]);
    assert_eq!(cached[0]["counts"]["tasks_done"], 1);
    assert_eq!(
        cached[4][0]["id"], objective,
        "the objective list reads through the cache"
    );
    repo.remove_index();
    assert_eq!(cached, hot_views(&repo));
}

#[test]
fn ready_shows_the_first_tasks_and_counts_the_rest() {
    let repo = TestRepo::new();
    for title in ["one", "two", "three"] {
        repo.task(&[title, "-p", "1"]);
    }
    let text = repo.ok(&["ready", "--limit", "1"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with("P1 one"), "{text}");
    assert_eq!(lines[1], "… and 2 more (--limit 0 shows all)");
    assert_eq!(
        repo.json(&["ready", "-n", "2"]).as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        repo.json(&["ready", "-n", "0"]).as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn status_text_shows_the_first_of_each_list_and_json_lists_every_id() {
    let repo = TestRepo::new();
    let started: Vec<String> = (0..12)
        .map(|n| {
            let id = repo.task(&[&format!("busy {n}")]);
            repo.ok(&["task", "start", &id]);
            id
        })
        .collect();
    repo.task(&["waiting"]);
    let text = repo.ok(&["status"]);
    let section: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "In progress")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(section.len(), 11, "{text}");
    assert!(section[0].contains("busy 0"), "{text}");
    assert_eq!(section[10].trim(), "… and 2 more");
    let json = repo.json(&["status"]);
    let listed: Vec<&str> = json["in_progress"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        listed,
        started.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(json["counts"]["tasks_in_progress"], 12);
    assert_eq!(json["counts"]["tasks_ready"], 1);
}

/// Flip one byte of `needle` where it last appears in the index file: inside an entity's
/// bytes, or the newest events kept beside the tables (which hold it too).
fn damage_entity(repo: &TestRepo, needle: &[u8]) {
    let index = repo.index_file();
    let mut bytes = std::fs::read(&index).expect("an index");
    let at = bytes
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("the entity is in the index");
    bytes[at] ^= 0x20;
    std::fs::write(&index, bytes).expect("damage the index");
}

/// Change what the index says of a task beside its bytes (its brief), or leave it out of a
/// key set, as a program writing into the database would.
fn damage_rows(repo: &TestRepo, id: &str, sql: &str) {
    let db = rusqlite::Connection::open(repo.index_file()).expect("open");
    let changed = db.execute(sql, [id]).expect("damage the index");
    assert!(changed > 0, "{sql}");
}

/// Damage that a command meets in the cache: a read runs again from the refs, silently; an
/// append validates against the refs and writes its event once.
fn damage_is_met_by_reading_the_refs(damage: fn(&TestRepo, &str)) {
    let repo = TestRepo::new();
    let task = repo.task(&["needle in the cache"]);
    repo.task(&["another"]);
    let expected = without_cache(&repo);
    damage(&repo, &task);
    let run = repo.run(&["task", "list", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let listed: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(listed["data"][0]["title"], "needle in the cache");
    assert_eq!(listed["data"][0]["id"], task.as_str());
    assert_eq!(views(&repo), expected);
    repo.remove_index();
    repo.ok(&["status"]);
    damage(&repo, &task);
    repo.ok(&["task", "note", "found it", "--task", &task]);
    let shown = repo.json(&["task", "show", &task]);
    assert_eq!(shown["notes"].as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(views(&repo), without_cache(&repo));
}

#[test]
fn a_damaged_entity_in_the_cache_is_read_from_the_refs_instead() {
    damage_is_met_by_reading_the_refs(|repo, _| damage_entity(repo, b"needle in the cache"));
}

#[test]
fn a_changed_brief_in_the_index_is_read_from_the_refs_instead() {
    damage_is_met_by_reading_the_refs(|repo, id| {
        damage_rows(
            repo,
            id,
            "UPDATE entity SET brief = x'00' || brief WHERE id = ?1",
        )
    });
}

#[test]
fn a_key_set_changed_in_the_index_is_read_from_the_refs_instead() {
    damage_is_met_by_reading_the_refs(|repo, id| {
        damage_rows(
            repo,
            id,
            "DELETE FROM keyed WHERE pos = (SELECT key & 4294967295 FROM entity WHERE id = ?1)
             AND kind = 1",
        )
    });
}

#[test]
fn a_changed_ready_list_in_the_index_is_read_from_the_refs_instead() {
    damage_is_met_by_reading_the_refs(|repo, _| {
        damage_rows(
            repo,
            "1",
            "UPDATE list SET bytes = x'00' || bytes WHERE key >> 32 = CAST(?1 AS INTEGER)",
        )
    });
}

#[test]
fn a_changed_dictionary_in_the_index_is_read_from_the_refs_instead() {
    damage_is_met_by_reading_the_refs(|repo, _| {
        damage_rows(
            repo,
            "dictionary",
            "UPDATE meta SET value = x'00' || value WHERE key = ?1",
        )
    });
}

#[test]
fn entities_are_compressed_with_a_dictionary_trained_on_the_ledger() {
    let repo = TestRepo::generated(5_000, 42, 1000);
    let expected = without_cache(&repo);
    repo.ok(&["status"]);
    let db = rusqlite::Connection::open(repo.index_file()).expect("open");
    let query = |sql: &str| -> i64 { db.query_row(sql, [], |row| row.get(0)).expect(sql) };
    let dictionary = query("SELECT length(value) FROM meta WHERE key = 'dictionary'");
    assert!(dictionary > 1024, "a dictionary of {dictionary} bytes");
    // Tasks of the sample are MessagePack of ~600 bytes each: LZ4 alone kept ~500 of them.
    let per_task =
        query("SELECT sum(length(data)) / count(*) FROM entity_data WHERE key >> 32 = 1");
    assert!(per_task < 250, "{per_task} bytes per task");
    drop(db);
    // Views read through the dictionary, and updates in place written with it.
    assert_eq!(views(&repo), expected);
    let task = repo.task(&["after the build"]);
    repo.ok(&[
        "task",
        "note",
        "written with the stored dictionary",
        "--task",
        &task,
    ]);
    for _ in 0..40 {
        repo.ok(&["task", "add", "one of many"]);
    }
    assert_eq!(views(&repo), without_cache(&repo));
}

/// The hot views folded with no index, in batches of `batch` events written into the index
/// and read back (the first command builds the index; the rest read it).
fn hot_views_built_in_batches(repo: &TestRepo, batch: &str) -> Vec<serde_json::Value> {
    repo.ok_built_in_batches(batch, &["status", "--json"]);
    assert!(repo.index_path().is_file(), "the build wrote the index");
    hot_views(repo)
}

#[test]
fn an_index_built_in_batches_gives_the_views_of_one_fold() {
    let repo = TestRepo::new();
    let other = "ffeeddccbbaa";
    let objective = crate::util::id_of(&repo.json(&["objective", "add", "ship it"]));
    let first = repo.task(&["first", "-o", &objective, "--role", "developer"]);
    // Two writer chains whose events interleave: the read merges them in clock order.
    repo.git(&["config", "ledger.writer", other]);
    let second = repo.task(&["second", "-d", &first, "-p", "0", "-o", &objective]);
    repo.ok(&["task", "start", &first]);
    repo.git(&["config", "ledger.writer", WRITER]);
    let third = repo.task(&["third", "--role", "tester", "-o", &objective]);
    for n in 0..5 {
        repo.ok(&["task", "note", &format!("note {n}"), "--task", &first]);
    }
    repo.git(&["config", "ledger.writer", other]);
    repo.ok(&["task", "done", &first, "-m", "finished"]);
    repo.ok(&["task", "claim", &third]);
    repo.git(&["config", "ledger.writer", WRITER]);
    repo.task(&["fourth", "-p", "3"]);
    repo.ok(&["task", "start", &second]);
    repo.ok(&["task", "note", "begun", "--task", &second]);
    let one_fold = hot_views_built_in_batches(&repo, "1000000");
    assert_eq!(one_fold[0]["counts"]["tasks_done"], 1);
    assert_eq!(one_fold[0]["counts"]["tasks_in_progress"], 1);
    for batch in ["1", "2", "3", "7"] {
        assert_eq!(
            hot_views_built_in_batches(&repo, batch),
            one_fold,
            "built in batches of {batch}"
        );
    }
    // And what is appended after the build is applied over the index it left.
    repo.ok(&["task", "done", &second, "-m", "second done"]);
    let after = hot_views(&repo);
    repo.remove_index();
    assert_eq!(after, hot_views(&repo));
}

#[test]
fn a_chain_holding_events_out_of_order_is_read_whole() {
    let repo = TestRepo::new();
    repo.task(&["mine"]);
    // Another clone's chain whose second commit carries an older clock than its first (as
    // an import of older events makes): it cannot be merged commit by commit.
    let other = "ffeeddccbbaa";
    let created = |subject: &str, title: &str, hlc: u64| {
        with_id(serde_json::json!({
            "v": 1, "kind": "task.created", "time": "2026-01-05T09:00:00.000Z", "hlc": hlc,
            "writer": other, "actor": "human:Bob", "subject": subject,
            "body": {"title": title, "priority": 2, "depends_on": []}
        }))
    };
    let mine = repo.json(&["log", "-n", "1"])[0]["hlc"]
        .as_u64()
        .expect("a clock");
    let later = created("t-0000000000000002", "later", mine + 2);
    let earlier = created("t-0000000000000001", "earlier", mine + 1);
    let first = hand_commit(&repo, &format!("task.created\n\n{later}\n"), None);
    let second = hand_commit(&repo, &format!("task.created\n\n{earlier}\n"), Some(&first));
    repo.git(&[
        "update-ref",
        &format!("refs/ledger/v1/writers/{other}"),
        &second,
    ]);
    for batch in ["1", "1000000"] {
        let views = hot_views_built_in_batches(&repo, batch);
        assert_eq!(views[0]["counts"]["events"], 3, "batch {batch}");
        // Tasks are listed in the order they were created: clock order, not the chain's.
        let titles = strings_of(&views[1], "title");
        assert_eq!(titles, ["mine", "earlier", "later"], "batch {batch}");
    }
}
