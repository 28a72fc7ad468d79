//! Reading every event in the total order without holding them all: what a read of a large
//! ledger with no index needs to stay within bounded memory.
//!
//! A full read ([`Store::snapshot_of`]) keeps every event and sorts them. Here each writer's
//! chain is walked from its tip to its root first, keeping only commit ids (and inflating
//! only the head of each commit where the object database can stream it). Then the chains
//! are read again oldest first, a few commits of each decoded ahead on the other cores, and
//! their events merged: a writer's own chain is in the total order (its clock only moves
//! forward), so the next event is always the least of the chains' next ones. A chain that is
//! not in order (one that holds imported events) is left to the full read.

use super::{
    Error, NOT_A_COMMIT, Problem, REF_PREFIX, Read, Snapshot, Store, commit_parents, decode_commit,
    merge_problem, read_commit,
};
use crate::event::Event;
use git2::{ObjectType, Odb, Oid};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::Read as _;
use std::sync::mpsc;

/// How many commits of each chain are read and decoded ahead of the merge.
const AHEAD: usize = 3;

/// One writer chain, oldest commit first.
struct Chain {
    /// Each commit with its position in the walk (problems are reported in that order).
    commits: Vec<(usize, Oid)>,
    /// The next commit to hand to a decoder, and the next whose events the merge takes.
    requested: usize,
    taken: usize,
    /// Events of the commits taken, not merged yet.
    events: VecDeque<Event>,
}

/// A chain's next event, ordered so that the heap's top is the least in the total order.
struct Head {
    event: Event,
    chain: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap.
        other
            .event
            .order(&self.event)
            .then(other.chain.cmp(&self.chain))
    }
}

/// A commit handed to a decoder: which chain, which of its commits.
type Request = (usize, usize, Read);
/// A decoder's answer: the events of that commit, or `None` if it could no longer be read.
type Answer = (usize, usize, Option<super::Decoded>);

impl Store {
    /// Hand every event of every writer to `each`, one at a time in the total order, without
    /// holding them all; the result is what [`Store::snapshot`] gives but its events.
    ///
    /// `Ok(None)` when the events cannot be merged in order (a chain holding events out of
    /// order, as an import makes; a commit that could be read once and no longer) or `each`
    /// asked to stop by returning `false`. Events may have been handed on by then: the
    /// caller starts again from a full read.
    pub fn stream(&self, each: impl FnMut(Event) -> bool) -> Result<Option<Snapshot>, Error> {
        let tips = self.writer_tips()?;
        let odb = self.repo.odb()?;
        let own_ref = self.writer.as_ref().map(|w| format!("{REF_PREFIX}{w}"));
        let mut snapshot = Snapshot::default();
        let mut problems: Vec<(usize, Problem)> = Vec::new();
        let mut chains = Vec::with_capacity(tips.len());
        let mut at = 0;
        for (name, tip) in &tips {
            let own = Some(name) == own_ref.as_ref();
            if own {
                snapshot.own_tip = Some(*tip);
            }
            let mut commits = Vec::new();
            let mut next = Some(*tip);
            while let Some(oid) = next {
                snapshot.own_commits += usize::from(own);
                let problem = |message: String| Problem {
                    reference: name.clone(),
                    commit: oid.to_string(),
                    message,
                };
                let (parent, parents) = match parents_of(&odb, oid) {
                    Ok(parents) => parents,
                    Err(message) => {
                        problems.push((at, problem(message)));
                        break;
                    }
                };
                if parents > 1 {
                    problems.push((at, problem(merge_problem(oid, parents))));
                }
                commits.push((at, oid));
                next = parent;
                at += 1;
            }
            commits.reverse();
            chains.push(Chain {
                commits,
                requested: 0,
                taken: 0,
                events: VecDeque::new(),
            });
        }
        let (to_decode, requests) = mpsc::channel::<Request>();
        let requests = std::sync::Mutex::new(requests);
        let (to_merge, answers) = mpsc::channel::<Answer>();
        let merged = std::thread::scope(|scope| {
            for _ in 0..crate::cores() {
                let (requests, to_merge, odb) = (&requests, to_merge.clone(), &odb);
                let horizon = self.horizon;
                scope.spawn(move || {
                    // The lock is held while waiting for the next commit, not while reading it.
                    while let Some((chain, i, mut commit)) =
                        requests.lock().ok().and_then(|r| r.recv().ok())
                    {
                        let decoded = read_commit(odb, commit.oid).ok().map(|object| {
                            commit.data = object.data().to_vec();
                            decode_commit(commit, horizon)
                        });
                        if to_merge.send((chain, i, decoded)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(to_merge);
            let mut merge = Merge {
                chains: &mut chains,
                tips: &tips,
                to_decode,
                answers,
                arrived: HashMap::new(),
                problems: &mut problems,
            };
            merge.run(each)
        });
        if !merged {
            return Ok(None);
        }
        problems.sort_by_key(|(at, _)| *at);
        snapshot.problems = problems.into_iter().map(|(_, p)| p).collect();
        snapshot.tips = tips;
        Ok(Some(snapshot))
    }
}

/// The merge of the chains' events, with the decoders it keeps busy.
struct Merge<'a> {
    chains: &'a mut [Chain],
    tips: &'a [(String, Oid)],
    to_decode: mpsc::Sender<Request>,
    answers: mpsc::Receiver<Answer>,
    /// Commits decoded before the merge needed them.
    arrived: HashMap<(usize, usize), super::Decoded>,
    problems: &'a mut Vec<(usize, Problem)>,
}

impl Merge<'_> {
    /// Merge every chain into `each`; false when that could not be done in order.
    fn run(&mut self, mut each: impl FnMut(Event) -> bool) -> bool {
        for chain in 0..self.chains.len() {
            self.request(chain);
        }
        let mut heads = BinaryHeap::new();
        for chain in 0..self.chains.len() {
            match self.next_event(chain) {
                Some(Some(event)) => heads.push(Head { event, chain }),
                Some(None) => {}
                None => return false,
            }
        }
        // The same event read from two chains (an import) comes out twice in a row: it has
        // the same id, hence the same clock and writer. The last one is held back until the
        // next differs.
        let mut held: Option<Event> = None;
        while let Some(Head { event, chain }) = heads.pop() {
            match self.next_event(chain) {
                Some(Some(next)) if next.order(&event) == Ordering::Less => return false,
                Some(Some(next)) => heads.push(Head { event: next, chain }),
                Some(None) => {}
                None => return false,
            }
            match held.take() {
                Some(previous) if previous.id == event.id => held = Some(previous),
                Some(previous) => {
                    if !each(previous) {
                        return false;
                    }
                    held = Some(event);
                }
                None => held = Some(event),
            }
        }
        held.is_none_or(each)
    }

    /// Hand the decoders a chain's commits up to [`AHEAD`] past those taken.
    fn request(&mut self, chain: usize) {
        let Some(c) = self.chains.get_mut(chain) else {
            return;
        };
        while c.requested < c.commits.len() && c.requested < c.taken + AHEAD {
            let (at, oid) = c.commits[c.requested];
            let read = Read {
                at,
                reference: chain,
                oid,
                data: Vec::new(),
            };
            if self.to_decode.send((chain, c.requested, read)).is_err() {
                return;
            }
            c.requested += 1;
        }
    }

    /// A chain's next event: `Some(None)` when it has no more, `None` when a commit could
    /// not be read.
    fn next_event(&mut self, chain: usize) -> Option<Option<Event>> {
        loop {
            let c = self.chains.get_mut(chain)?;
            if let Some(event) = c.events.pop_front() {
                return Some(Some(event));
            }
            if c.taken == c.commits.len() {
                return Some(None);
            }
            let wanted = (chain, c.taken);
            let decoded = loop {
                if let Some(decoded) = self.arrived.remove(&wanted) {
                    break decoded;
                }
                let (from, i, decoded) = self.answers.recv().ok()?;
                self.arrived.insert((from, i), decoded?);
            };
            let c = self.chains.get_mut(chain)?;
            c.taken += 1;
            let name = self.tips.get(chain).map_or("", |(name, _)| name.as_str());
            decoded.take_events(name, &mut c.events, self.problems);
            self.request(chain);
        }
    }
}

/// A commit's first parent and how many it names, reading no more of it than its header
/// where the object database can stream (loose objects); else the whole commit. The error
/// is the problem to report (the rest of the chain is skipped), worded as the full read
/// words it.
fn parents_of(odb: &Odb, oid: Oid) -> Result<(Option<Oid>, usize), String> {
    if let Ok((mut reader, _, kind)) = odb.reader(oid) {
        if kind != ObjectType::Commit {
            return Err(NOT_A_COMMIT.into());
        }
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    head.extend_from_slice(&chunk[..n]);
                    if memchr::memmem::find(&head, b"\n\n").is_some() {
                        break;
                    }
                }
                // Read as a whole below, which reports what is wrong.
                Err(_) => return parents_read_whole(odb, oid),
            }
        }
        return Ok(commit_parents(&head));
    }
    parents_read_whole(odb, oid)
}

fn parents_read_whole(odb: &Odb, oid: Oid) -> Result<(Option<Oid>, usize), String> {
    read_commit(odb, oid).map(|object| commit_parents(object.data()))
}
