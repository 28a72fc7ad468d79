//! Commits made on task work: noted by the `prepare-commit-msg` hook, recorded by the next
//! ledger command.
//!
//! git runs every installed commit hook as a process of its own, each a measurable part of a
//! `git commit` (docs/performance.md); two would be over the budget. So one hook
//! does a commit's work. `prepare-commit-msg` adds the `Ledger-Task` trailer (which travels
//! with the commit, so the merge gate needs nothing else) and leaves a *note*: a line in one
//! file naming the task, the branch and the commit the branch was at, written without
//! opening the repository. The commit does not exist yet; the next command that opens the
//! ledger finds it (the commit on the branch made on that parent, if it names the task) and
//! records `commit.linked` for it.

use super::{Error, Ledger, next_hlc, task_trailer};
use crate::clock;
use crate::event::body::CommitLinked;
use crate::event::{Event, kind};
use crate::gate;
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The actor of the events recorded from notes, as if the hook had appended them.
const NOTING_HOOK: &str = "hook:prepare-commit-msg";

/// Where notes are left, one JSON line each, in the repository's common git dir.
const NOTES_FILE: &str = "ledger/noted-commits";

/// A note whose commit never came (an aborted commit on a branch that never moved again) is
/// dropped after this long, in seconds.
const NOTE_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// How far back from a branch's tip its notes' commits are looked for: a note whose parent
/// is not there (a branch reset or rewritten since) must not walk a whole history.
const WALK_LIMIT: usize = 10_000;

/// Seconds since the epoch, by the wall clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What `prepare-commit-msg` knew about a commit about to be made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommitNote {
    /// The task as the branch or the focus names it (maybe an abbreviated id).
    pub task: String,
    /// The branch checked out, if any (else the commit is made on a detached HEAD).
    pub branch: Option<String>,
    /// The git dir of the worktree the commit is made in (its HEAD, when detached).
    pub git_dir: PathBuf,
    /// The commit HEAD was at: the new commit is made on it (an amend, on its parents).
    pub parent: Option<String>,
    /// `GIT_LEDGER_SESSION` of the committing process.
    pub session: Option<String>,
    /// When the note was left (seconds since the epoch), to drop it once it is old.
    pub noted_at: u64,
}

/// Leave a note for a commit about to be made (called by the hook: no repository opened).
///
/// Notes are lines appended to one file, under its lock: appending costs far less than
/// creating a file per note.
pub fn leave_note(common_dir: &Path, note: &CommitNote) -> Result<(), Error> {
    let path = common_dir.join(NOTES_FILE);
    let io = |source| Error::Io {
        what: path.display().to_string(),
        source,
    };
    let mut line = serde_json::to_vec(note).map_err(|e| io(std::io::Error::other(e)))?;
    line.push(b'\n');
    for _ in 0..10 {
        let opened = crate::store::open_regular(&path, true);
        let mut file = match opened {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                continue;
            }
            opened => opened.map_err(io)?,
        };
        file.lock().map_err(io)?;
        // A command may have replaced or removed the file between the open and the lock.
        if is_at(&file, &path) {
            return file.write_all(&line).map_err(io);
        }
    }
    Err(io(std::io::Error::other("replaced again and again")))
}

/// Whether `file` is (still) the file at `path`.
fn is_at(file: &File, path: &Path) -> bool {
    same_file(file.metadata(), std::fs::metadata(path))
}

/// Whether two files, by what `metadata` said of them, are the same file.
fn same_file(a: std::io::Result<Metadata>, b: std::io::Result<Metadata>) -> bool {
    match (a, b) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => true,
        _ => false,
    }
}

/// The notes file as one read saw it: its bytes, and the file they came from.
struct NotesRead {
    bytes: Vec<u8>,
    file: File,
}

/// Read the notes file under its lock; `None` when there is none (the usual case).
fn read_notes(path: &Path) -> Result<Option<NotesRead>, Error> {
    let io = |source| Error::Io {
        what: path.display().to_string(),
        source,
    };
    let mut file = match crate::store::open_regular(path, false) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    file.lock().map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    file.unlock().map_err(io)?;
    Ok(Some(NotesRead { bytes, file }))
}

/// Replace the notes that `read` saw by `kept`, keeping whatever hooks appended since; remove
/// the file when nothing is left. Another command that replaced the file first has done it.
fn replace_notes(path: &Path, read: &NotesRead, kept: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        what: path.display().to_string(),
        source,
    };
    let mut file = match crate::store::open_regular(path, false) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    file.lock().map_err(io)?;
    // The file read must still be the one at `path` once locked: another command may have
    // renamed its replacement over it between the open and the lock, and hooks may have
    // appended to that replacement since.
    if !same_file(file.metadata(), read.file.metadata()) || !is_at(&file, path) {
        return Ok(());
    }
    let mut now = Vec::new();
    file.read_to_end(&mut now).map_err(io)?;
    let appended = now.get(read.bytes.len()..).unwrap_or_default();
    if kept.is_empty() && appended.is_empty() {
        return std::fs::remove_file(path).map_err(io);
    }
    // Written aside and renamed over, under the old file's lock: a hook waiting for that lock
    // finds the file replaced and appends to the new one.
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut replacement = File::create(&temporary).map_err(io)?;
    replacement.write_all(kept).map_err(io)?;
    replacement.write_all(appended).map_err(io)?;
    drop(replacement);
    std::fs::rename(&temporary, path).map_err(io)
}

/// A commit found for a note, to record.
struct Found {
    task: String,
    commit: String,
    author: String,
    branch: Option<String>,
    session: Option<String>,
}

impl Ledger {
    /// Record the commits noted by `prepare-commit-msg` since the last command. Notes whose
    /// commit is not made yet stay; the others are removed once their commits are recorded.
    pub fn record_noted_commits(&self) -> Result<(), Error> {
        let path = self.store.repo().commondir().join(NOTES_FILE);
        let Some(read) = read_notes(&path)? else {
            return Ok(()); // no note left since the last command: one failed open
        };
        let now = unix_now();
        // Lines that do not parse (a note of a newer version, damage) are dropped.
        let notes: Vec<(&[u8], CommitNote)> = read
            .bytes
            .split(|&b| b == b'\n')
            .filter_map(|line| Some((line, serde_json::from_slice(line).ok()?)))
            .collect();
        let made = made_commits(self.store.repo(), &notes);
        let mut found = Vec::new();
        let mut kept = Vec::new();
        let mut seen = HashSet::new();
        for ((line, note), made) in notes.iter().zip(made) {
            match made {
                Made::Commit(oid) => {
                    if seen.insert(oid)
                        && let Some(f) = found_for(self.store.repo(), note, oid)
                    {
                        found.push(f);
                    }
                }
                // An aborted commit, or one being made: kept until the branch moves, a while.
                Made::NotYet if now.saturating_sub(note.noted_at) < NOTE_LIFETIME_SECS => {
                    kept.extend_from_slice(line);
                    kept.push(b'\n');
                }
                Made::NotYet | Made::Gone => {}
            }
        }
        if !found.is_empty() {
            self.append_with_retry(usize::MAX, false, |loaded| {
                let time = clock::format(loaded.now);
                let first = next_hlc(loaded);
                let events = found
                    .iter()
                    .filter(|f| !already_linked(&loaded.state, f))
                    .enumerate()
                    .map(|(i, f)| {
                        let body = CommitLinked {
                            commit: f.commit.clone(),
                            branch: f.branch.clone(),
                            author: Some(f.author.clone()),
                        };
                        Event::seal(
                            kind::COMMIT_LINKED,
                            time.clone(),
                            first + i as u64,
                            &self.writer,
                            f.session.clone(),
                            NOTING_HOOK,
                            Some(f.task.clone()),
                            body.into(),
                        )
                    })
                    .collect();
                Ok((events, ()))
            })?;
        }
        if kept.len() == read.bytes.len() {
            // Every note still waits (an aborted commit): the file stays as it is.
            return Ok(());
        }
        // Only once the commits are recorded: a command killed before this point leaves the
        // notes for the next one, which skips what is recorded already.
        replace_notes(&path, &read, &kept)
    }
}

/// Whether the state already links this commit to the task (a note read twice, by two
/// processes at once or after a command was killed before removing it).
fn already_linked(state: &crate::fold::state::State, found: &Found) -> bool {
    state
        .resolve(crate::event::EntityKind::Task, &found.task)
        .ok()
        .and_then(|id| state.tasks.get(&id))
        .is_some_and(|t| t.commits.iter().any(|c| c.commit == found.commit))
}

/// What became of the commit a note was left for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Made {
    /// The commit made on the noted parent, found on the branch.
    Commit(Oid),
    /// The branch is still at the noted parent: the commit is being made, or was aborted.
    NotYet,
    /// No such commit is on the branch (it is gone, or the branch was rewritten).
    Gone,
}

/// For each note, the commit made on its parent: walking back from the tip of its branch
/// (or its worktree's HEAD), a commit whose parents include the noted parent, or, for an
/// amend, that has the noted parent's parents. One walk per branch, however many notes.
fn made_commits(repo: &Repository, notes: &[(&[u8], CommitNote)]) -> Vec<Made> {
    let mut made = vec![Made::Gone; notes.len()];
    let parents: Vec<Option<Oid>> = notes
        .iter()
        .map(|(_, note)| note.parent.as_deref().and_then(|p| Oid::from_str(p).ok()))
        .collect();
    let mut branches: Vec<(Oid, Vec<usize>)> = Vec::new();
    for (i, (_, note)) in notes.iter().enumerate() {
        let tip = match &note.branch {
            Some(branch) => repo.refname_to_id(&format!("refs/heads/{branch}")).ok(),
            None => detached_head(repo, &note.git_dir),
        };
        let Some(tip) = tip else {
            if note.parent.is_none() {
                made[i] = Made::NotYet; // the first commit of a branch, being made
            }
            continue; // else the branch is gone: nothing to find, ever
        };
        if parents[i] == Some(tip) {
            made[i] = Made::NotYet;
            continue;
        }
        match branches.iter_mut().find(|(t, _)| *t == tip) {
            Some((_, waiting)) => waiting.push(i),
            None => branches.push((tip, vec![i])),
        }
    }
    for (tip, notes_here) in branches {
        // Each note, with what a commit made on its parent would have as parents.
        let mut waiting: Vec<(usize, Option<Oid>, Option<Vec<Oid>>)> = notes_here
            .into_iter()
            .map(|i| {
                let parent = parents[i];
                let amended = match parent {
                    Some(p) => repo.find_commit(p).ok().map(|c| c.parent_ids().collect()),
                    None => Some(Vec::new()), // the first commit of an unborn branch
                };
                (i, parent, amended)
            })
            .collect();
        let Ok(mut walk) = repo.revwalk() else {
            continue;
        };
        if walk.push(tip).is_err() {
            continue;
        }
        for oid in walk.flatten().take(WALK_LIMIT) {
            let Ok(commit) = repo.find_commit(oid) else {
                continue;
            };
            let parents: Vec<Oid> = commit.parent_ids().collect();
            waiting.retain(|(i, parent, amended)| {
                let is_parent = *parent == Some(oid);
                let on_parent = parent.is_some_and(|p| parents.contains(&p));
                let amends = amended.as_ref().is_some_and(|a| *a == parents);
                let found = !is_parent && (on_parent || amends);
                if found {
                    made[*i] = Made::Commit(oid);
                }
                !found
            });
            if waiting.is_empty() {
                break;
            }
        }
    }
    made
}

/// What to record for the commit `oid` made for `note`, if it names the note's task: by its
/// trailer, or, without one, by being on the task's own branch.
fn found_for(repo: &Repository, note: &CommitNote, oid: Oid) -> Option<Found> {
    let commit = repo.find_commit(oid).ok()?;
    let on_task_branch = note
        .branch
        .as_deref()
        .and_then(gate::task_of_branch)
        .is_some_and(|task| task == note.task);
    let names_task = match commit.message().and_then(task_trailer) {
        Some(trailer) => trailer == note.task,
        None => on_task_branch,
    };
    if !names_task {
        return None;
    }
    let author = commit.author();
    Some(Found {
        task: note.task.clone(),
        commit: oid.to_string(),
        author: format!(
            "{} <{}>",
            author.name().unwrap_or("?"),
            author.email().unwrap_or("?")
        ),
        branch: note.branch.clone(),
        session: note.session.clone(),
    })
}

/// The commit a worktree's detached HEAD is at (or its branch's, if it went back to one).
fn detached_head(repo: &Repository, git_dir: &Path) -> Option<Oid> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref: ") {
        Some(name) => repo.refname_to_id(name).ok(),
        None => Oid::from_str(head).ok(),
    }
}
