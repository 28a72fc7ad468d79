//! `git ledger search`: every kind found by its words and ranked, the index kept up with new
//! events and fetches, and rebuilt from the refs whatever happened to its file.

use crate::util::{TestRepo, id_of};
use std::path::PathBuf;

/// A small project: an objective, two tasks (one with a note), an insight, a decision.
struct Project {
    repo: TestRepo,
    objective: String,
    keys: String,
    docs: String,
    insight: String,
    decision: String,
}

fn project() -> Project {
    let repo = TestRepo::new();
    let objective = id_of(&repo.json(&[
        "objective",
        "add",
        "Move sign-in to OAuth2",
        "--description",
        "Retire the password form",
    ]));
    let keys = repo.task(&[
        "Rotate the signing keys",
        "--description",
        "Keys expire every year",
    ]);
    let docs = repo.task(&["Write the onboarding guide"]);
    repo.ok(&[
        "task",
        "note",
        "explain how commits are signed",
        "--task",
        &docs,
    ]);
    let insight = id_of(&repo.json(&[
        "insight",
        "add",
        "ssh-keygen before 8.2 cannot verify signatures",
        "--tag",
        "tooling",
    ]));
    let decision = id_of(&repo.json(&[
        "decision",
        "request",
        "Which key type?",
        "--option",
        "ed25519",
        "--option",
        "rsa",
    ]));
    repo.ok(&[
        "decision",
        "make",
        &decision,
        "ed25519",
        "--rationale",
        "short signatures, fast to verify",
    ]);
    Project {
        repo,
        objective,
        keys,
        docs,
        insight,
        decision,
    }
}

fn short(id: &str) -> &str {
    &id[..8]
}

/// The ids a search finds, best first.
fn found(repo: &TestRepo, args: &[&str]) -> Vec<String> {
    let args = [&["search"][..], args].concat();
    let hits = repo.json(&args);
    hits.as_array().expect("a list").iter().map(id_of).collect()
}

#[test]
fn search_finds_each_kind_by_its_words_best_match_first() {
    let p = project();
    let repo = &p.repo;
    // Every word must match, as a prefix; a match in a title ranks above one elsewhere.
    let sign = found(repo, &["sign"]);
    assert_eq!(sign.len(), 5, "{sign:?}");
    assert_eq!(sign[3..], [p.docs.as_str(), p.decision.as_str()]);
    assert_eq!(found(repo, &["signed", "commits"]), [p.docs.as_str()]);
    assert_eq!(found(repo, &["password"]), [p.objective.as_str()]);
    assert_eq!(found(repo, &["tooling"]), [p.insight.as_str()]);
    assert_eq!(
        found(repo, &["verify"]),
        [p.insight.as_str(), p.decision.as_str()]
    );
    assert_eq!(
        found(repo, &["verify", "--kind", "decision"]),
        [p.decision.as_str()]
    );
    assert_eq!(found(repo, &["sign", "-n", "1"]), [p.keys.as_str()]);
    assert_eq!(found(repo, &["sign", "--limit", "0"]).len(), 5);
    // Case and accents do not matter; FTS5 syntax in the query is taken as words.
    assert_eq!(found(repo, &["ROTATÉ"]), [p.keys.as_str()]);
    assert_eq!(found(repo, &["\"signing\" (keys)*"]), [p.keys.as_str()]);
    assert!(found(repo, &["kubernetes"]).is_empty());

    // Where the words matched is shown beneath, unless that is the title itself.
    let text = repo.ok(&["search", "verify"]);
    assert_eq!(
        text,
        format!(
            "{} [insight] ssh-keygen before 8.2 cannot verify signatures\n\
             {} [decision] Which key type?\n    \
             ed25519 rsa ed25519 short signatures, fast to [verify]\n",
            short(&p.insight),
            short(&p.decision)
        )
    );
    assert_eq!(repo.ok(&["search", "kubernetes"]), "Nothing matches\n");
    let hit = &repo.json(&["search", "rotate"])[0];
    assert_eq!(hit["kind"], "task");
    assert_eq!(hit["title"], "Rotate the signing keys");
    assert_eq!(hit["snippet"], "[Rotate] the signing keys");
    assert!(hit["rank"].is_number(), "{hit}");
}

#[test]
fn search_refuses_a_query_without_words_and_an_unknown_kind() {
    let repo = TestRepo::new();
    assert_eq!(
        repo.fail(&["search", "--", "-- ?"]),
        "error: '-- ?' has no word to search for (letters or digits)\n\
         hint: search for words, like `git ledger search oauth token`\n"
    );
    let run = repo.run(&["search", "x", "--kind", "session"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("invalid value 'session'"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.run(&["search"]).code, Some(2), "a query is required");
}

#[test]
fn the_index_follows_new_events_and_what_a_fetch_brings() {
    let (_seed, remote) = crate::sync::remote();
    let a = TestRepo::clone_of(&remote, "aaaaaaaaaaaa");
    let b = TestRepo::clone_of(&remote, "bbbbbbbbbbbb");
    let first = a.task(&["Parse the config file"]);
    assert_eq!(found(&a, &["config"]), [first.as_str()]);
    // An event after the index was built: the note's words are found.
    a.ok(&["task", "note", "yaml anchors are tricky", "--task", &first]);
    assert_eq!(found(&a, &["anchors"]), [first.as_str()]);
    // Another clone's events, arrived by a fetch behind the index's back.
    assert!(found(&b, &["config"]).is_empty());
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    assert_eq!(found(&b, &["anchors"]), [first.as_str()]);
    let second = b.task(&["Validate the config schema"]);
    assert_eq!(found(&b, &["config"]).len(), 2);
    assert!(found(&b, &["config"]).contains(&second));
}

#[test]
fn the_index_is_rebuilt_when_a_ledger_ref_is_rewound() {
    let repo = TestRepo::new();
    let kept = repo.task(&["Keep this task"]);
    let before = repo.tip().expect("a tip");
    repo.task(&["Drop this task"]);
    assert_eq!(found(&repo, &["task"]).len(), 2);
    let writer_ref = repo.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/ledger/v1/writers/",
    ]);
    repo.git(&["update-ref", writer_ref.trim(), &before]);
    assert_eq!(found(&repo, &["task"]), [kept.as_str()]);
}

/// The schema version of the index at `path` and how many entities it holds.
fn indexed(path: &PathBuf) -> (i64, i64) {
    let db = rusqlite::Connection::open(path).expect("open");
    let version = db
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    let count = db
        .query_row("SELECT count(*) FROM search_entity", [], |row| row.get(0))
        .expect("count");
    (version, count)
}

#[test]
fn a_damaged_index_is_rebuilt_from_the_refs() {
    let p = project();
    let repo = &p.repo;
    let expected = repo.ok(&["search", "sign"]);
    let path = repo.index_path();
    assert!(path.is_file());
    let outside = repo.root().join("precious.txt");
    std::fs::write(&outside, "not the ledger's\n").expect("write");

    type Damage = fn(&PathBuf, &PathBuf);
    let damages: [(&str, Damage); 7] = [
        ("garbage", |path, _| {
            std::fs::write(path, vec![0x5a; 40_000]).expect("write")
        }),
        ("truncated", |path, _| {
            let bytes = std::fs::read(path).expect("read");
            std::fs::write(path, &bytes[..bytes.len() / 2]).expect("write");
        }),
        ("empty", |path, _| std::fs::write(path, b"").expect("write")),
        ("unknown schema", |path, _| {
            let db = rusqlite::Connection::open(path).expect("open");
            db.pragma_update(None, "user_version", 99).expect("set");
        }),
        ("directory", |path, _| {
            std::fs::remove_file(path).expect("rm");
            std::fs::create_dir_all(path.join("inside")).expect("mkdir");
        }),
        ("fifo", |path, _| {
            std::fs::remove_file(path).expect("rm");
            let made = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .expect("mkfifo");
            assert!(made.success());
        }),
        ("symlink", |path, outside| {
            std::fs::remove_file(path).expect("rm");
            std::os::unix::fs::symlink(outside, path).expect("symlink");
        }),
    ];
    for (name, damage) in damages {
        // A populated index, so the damage hits a real file (not one built just now).
        repo.ok(&["search", "sign"]);
        let _ = std::fs::remove_file(path.with_extension("sqlite-wal"));
        let _ = std::fs::remove_file(path.with_extension("sqlite-shm"));
        damage(&path, &outside);
        assert_eq!(repo.ok(&["search", "sign"]), expected, "{name}");
        assert!(
            std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()),
            "{name}: the index is a file again"
        );
        assert_eq!(
            indexed(&path),
            (git_ledger::cache::db::SCHEMA_VERSION, 5),
            "{name}: and a database of every entity"
        );
        assert_eq!(repo.ok(&["search", "sign"]), expected, "{name}, again");
    }
    assert_eq!(
        std::fs::read_to_string(&outside).expect("read"),
        "not the ledger's\n",
        "a link is replaced, never written through"
    );
}

#[test]
fn prime_puts_the_insights_about_the_task_first() {
    let repo = TestRepo::new();
    let about = id_of(&repo.json(&[
        "insight",
        "add",
        "Signing keys are rotated with ssh-keygen -Y",
        "--knowledge",
    ]));
    let newer = id_of(&repo.json(&[
        "insight",
        "add",
        "The cache must be invalidated on writes",
        "--knowledge",
    ]));
    let task = repo.task(&["Rotate the signing keys"]);
    let knowledge = |repo: &TestRepo| -> Vec<String> {
        let brief = repo.ok(&["prime"]);
        let section = brief
            .split("## Knowledge\n")
            .nth(1)
            .expect("a knowledge section");
        section
            .lines()
            .take_while(|l| !l.starts_with("## "))
            .filter_map(|l| l.strip_prefix("- "))
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .collect()
    };
    // Without a task the newest comes first; with one in focus, the one about it.
    assert_eq!(knowledge(&repo), [short(&newer), short(&about)]);
    repo.ok(&["task", "start", &task]);
    assert_eq!(knowledge(&repo), [short(&about), short(&newer)]);
}
