//! What the cache keeps beside the tables, worked out from the tasks' briefs: the ready list
//! and each objective's progress. Like the tables' key sets, each is read as stored and
//! brought forward over the tasks changed or added since, so a view of them costs what
//! changed, not what the ledger holds.

use super::brief::TaskBrief;
use super::db::Snapshot;
use super::table::Table;
use crate::model::{Objective, Task, TaskStatus};
use std::sync::OnceLock;

/// The ready list and the objectives' progress, as stored and as of now.
#[derive(Clone, Default)]
pub(crate) struct Kept {
    /// The ready tasks as (priority, position), ascending.
    ready: OnceLock<Vec<(u8, u32)>>,
    /// Per objective, by position: (tasks done, tasks in all), cancelled ones left out.
    progress: OnceLock<Vec<(u32, u32)>>,
    stored: Option<Stored>,
}

/// Where the index holds the lists: read when a view first needs one.
#[derive(Clone)]
struct Stored {
    snapshot: Snapshot,
}

/// The index's names of the lists (`db::set_list`): the ready flags, one byte per task by
/// position (0 when not ready, else its priority + 1), and each objective's progress
/// (tasks done, tasks in all: 8 bytes each). Both are laid out by position, so that an
/// update changes the bytes of the entities it changed and leaves the rest as stored.
pub(crate) const READY: u8 = 1;
pub(crate) const PROGRESS: u8 = 2;

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kept")
    }
}

/// The entities the kept lists are worked out from.
pub(crate) struct Of<'a> {
    pub tasks: &'a Table<Task>,
    pub objectives: &'a Table<Objective>,
}

impl Of<'_> {
    fn brief(&self, i: usize) -> Option<TaskBrief<'_>> {
        TaskBrief::parse(self.tasks.brief_at(i))
    }

    /// Whether a task is done or cancelled (an unknown one is not).
    pub fn is_closed(&self, id: &str) -> bool {
        self.tasks
            .position(id)
            .and_then(|i| self.brief(i))
            .is_some_and(|b| b.status.is_closed())
    }

    /// Whether the task at `i` is open with every dependency closed.
    pub fn is_ready(&self, i: usize) -> bool {
        self.brief(i).is_some_and(|task| {
            task.status == TaskStatus::Open && task.deps().all(|dep| self.is_closed(dep))
        })
    }

    /// What a task with this brief adds to its objective's progress: the objective's
    /// position and whether the task is done.
    fn progress_of(&self, brief: Option<&[u8]>) -> Option<(usize, bool)> {
        let task = TaskBrief::parse(brief?)?;
        if task.status == TaskStatus::Cancelled {
            return None;
        }
        let objective = self.objectives.position(task.objective?)?;
        Some((objective, task.status == TaskStatus::Done))
    }

    /// The tasks changed or added since the cache was read.
    fn changed(&self) -> impl Iterator<Item = usize> + '_ {
        let added = self.tasks.stored_count()..self.tasks.len();
        self.tasks
            .changed()
            .iter()
            .map(|&i| i as usize)
            .chain(added)
    }
}

impl Kept {
    /// What was worked out no longer holds: a task or an objective changed.
    pub fn forget(&mut self) {
        self.ready.take();
        self.progress.take();
    }

    /// The ready tasks as (priority, position), ascending.
    pub fn ready(&self, of: &Of) -> &[(u8, u32)] {
        self.ready
            .get_or_init(|| match self.stored.as_ref().and_then(Stored::ready) {
                Some(stored) => bring_ready_forward(of, stored),
                // Folded from events, or the stored list failed its check (noted as damage).
                None => {
                    let open = of.tasks.keyed(super::brief::status_key(TaskStatus::Open));
                    let mut ready: Vec<(u8, u32)> = open
                        .iter()
                        .filter(|&&i| of.is_ready(i as usize))
                        .filter_map(|&i| Some((of.brief(i as usize)?.priority, i)))
                        .collect();
                    ready.sort_unstable();
                    ready
                }
            })
    }

    /// (tasks done, tasks in all) of the objective at `i`.
    pub fn progress(&self, of: &Of, i: usize) -> (usize, usize) {
        let stored = || self.stored.as_ref().and_then(Stored::progress);
        let progress = self.progress.get_or_init(|| match stored() {
            Some(stored) => bring_progress_forward(of, stored),
            None => {
                let mut progress = vec![(0, 0); of.objectives.len()];
                for (_, brief) in of.tasks.briefs() {
                    add_progress(&mut progress, of.progress_of(Some(brief)), 1);
                }
                progress
            }
        });
        progress
            .get(i)
            .map_or((0, 0), |&(done, all)| (done as usize, all as usize))
    }

    /// The ready flags and the progress, as the index stores them.
    pub fn encode(&self, of: &Of) -> (Vec<u8>, Vec<u8>) {
        let mut ready = vec![0; of.tasks.len()];
        for &(priority, position) in self.ready(of) {
            if let Some(flag) = ready.get_mut(position as usize) {
                // Priorities run from 0 to 4 (events with others do not decode).
                *flag = priority.saturating_add(1);
            }
        }
        let mut progress = Vec::new();
        for i in 0..of.objectives.len() {
            let (done, all) = self.progress(of, i);
            progress.extend_from_slice(&(done as u32).to_le_bytes());
            progress.extend_from_slice(&(all as u32).to_le_bytes());
        }
        (ready, progress)
    }

    /// The lists a snapshot of the index holds, read when first needed.
    pub fn stored(snapshot: &Snapshot) -> Kept {
        Kept {
            stored: Some(Stored {
                snapshot: snapshot.clone(),
            }),
            ..Kept::default()
        }
    }
}

impl Stored {
    fn ready(&self) -> Option<Vec<(u8, u32)>> {
        let flags = self.snapshot.list(READY, 1)?;
        let mut ready: Vec<(u8, u32)> = (0u32..)
            .zip(flags)
            .filter(|&(_, flag)| flag != 0)
            .map(|(position, flag)| (flag - 1, position))
            .collect();
        // A stable sort: the positions of one priority stay ascending.
        ready.sort_by_key(|&(priority, _)| priority);
        Some(ready)
    }

    fn progress(&self) -> Option<Vec<(u32, u32)>> {
        let list = self.snapshot.list(PROGRESS, 8)?;
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        Some(
            list.chunks_exact(8)
                .map(|b| (word(&b[..4]), word(&b[4..])))
                .collect(),
        )
    }
}

/// The stored ready list, made right again for the tasks changed or added since it was
/// stored and for the tasks that depend on one that closed or reopened.
fn bring_ready_forward(of: &Of, mut ready: Vec<(u8, u32)>) -> Vec<(u8, u32)> {
    let tasks = of.tasks;
    let closed = |brief: Option<&[u8]>| {
        brief
            .and_then(TaskBrief::parse)
            .is_some_and(|b| b.status.is_closed())
    };
    let mut again: Vec<usize> = Vec::new();
    for i in of.changed() {
        again.push(i);
        if closed(tasks.stored_brief(i)) != closed(Some(tasks.brief_at(i))) {
            again.extend(tasks.referring(tasks.id_at(i)));
        }
    }
    again.sort_unstable();
    again.dedup();
    for i in again {
        // Its entry as stored, at the priority it had then.
        let stored = tasks.stored_brief(i).and_then(TaskBrief::parse);
        if let Some(entry) = stored.map(|b| (b.priority, i as u32))
            && let Ok(at) = ready.binary_search(&entry)
        {
            ready.remove(at);
        }
        let now = of.brief(i).map(|b| (b.priority, i as u32));
        if let Some(entry) = now.filter(|_| of.is_ready(i))
            && let Err(at) = ready.binary_search(&entry)
        {
            ready.insert(at, entry);
        }
    }
    ready
}

fn add_progress(progress: &mut [(u32, u32)], of_task: Option<(usize, bool)>, sign: i64) {
    if let Some((objective, done)) = of_task
        && let Some(entry) = progress.get_mut(objective)
    {
        let step = |n: u32, by: i64| (i64::from(n) + by).clamp(0, i64::from(u32::MAX)) as u32;
        entry.0 = step(entry.0, if done { sign } else { 0 });
        entry.1 = step(entry.1, sign);
    }
}

/// The stored progress, less what the changed tasks added as stored, plus what they add
/// now. An objective added since is counted from the tasks that refer to it.
fn bring_progress_forward(of: &Of, mut progress: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let stored_objectives = progress.len().min(of.objectives.stored_count());
    progress.resize(of.objectives.len(), (0, 0));
    let (kept, added) = progress.split_at_mut(stored_objectives);
    for i in of.changed() {
        add_progress(kept, of.progress_of(of.tasks.stored_brief(i)), -1);
        add_progress(kept, of.progress_of(Some(of.tasks.brief_at(i))), 1);
    }
    for (k, entry) in added.iter_mut().enumerate() {
        let objective = stored_objectives + k;
        let mut counted = [(0, 0)];
        for task in of.tasks.referring(of.objectives.id_at(objective)) {
            let of_task = of.progress_of(Some(of.tasks.brief_at(task)));
            let here = of_task.filter(|(o, _)| *o == objective);
            add_progress(&mut counted, here.map(|(_, done)| (0, done)), 1);
        }
        *entry = counted[0];
    }
    progress
}
