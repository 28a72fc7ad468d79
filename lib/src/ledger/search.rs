//! Search: the local index (`crate::index`) brought up to the refs, then queried.

use super::{Error, InputError, Ledger, Loaded};
use crate::cache::db;
use crate::index::{self, Hit, SearchIndex};
use crate::view::memory::Scope;
use crate::view::prime::{self, Prime, Reader};
use std::collections::BTreeSet;

impl Ledger {
    /// The entities whose text has every word of `query` (as word prefixes), best match
    /// first: at most `limit` (0: all), of one kind (`index::KINDS`) or of all.
    ///
    /// The index on disk is only a copy: when it cannot be read or updated it is removed and
    /// built again from the refs, and when not even that works (a read-only repository, a
    /// full disk) the search runs on an index built in memory. So damage to it costs time,
    /// never a wrong or missing answer.
    pub fn search(
        &self,
        query: &str,
        kind: Option<&str>,
        limit: usize,
    ) -> Result<(Loaded, Vec<Hit>), Error> {
        if let Some(kind) = kind.filter(|k| !index::KINDS.contains(k)) {
            return Err(InputError::BadSearchKind(kind.to_string()).into());
        }
        let limit = if limit == 0 { usize::MAX } else { limit };
        let expression = index::match_expression(query)
            .ok_or_else(|| InputError::NoSearchWords(query.to_string()))?;
        let loaded = self.load()?;
        let hits = self.search_loaded(&loaded, &expression, kind, limit)?;
        Ok((loaded, hits))
    }

    /// The brief `git ledger prime` prints: with the knowledge-base insights whose words
    /// match the reader's task first (best first), when the index can say.
    pub fn prime(&self, loaded: &Loaded, scope: &Scope, reader: Reader, max_bytes: usize) -> Prime {
        let state = &loaded.state;
        // With nothing in the knowledge base there is nothing to order: no index work (a
        // first search builds the index, seconds on a big ledger, at the start of a session).
        let has_knowledge = state.insights.iter().any(|i| i.knowledge);
        let about = (prime::task_of(state, scope, reader).filter(|_| has_knowledge))
            .and_then(|task| {
                let text = format!(
                    "{} {}",
                    task.title,
                    task.description.as_deref().unwrap_or("")
                );
                index::match_any(&text)
            })
            // A brief is never refused for want of an index: it only loses the ordering.
            .and_then(|expression| {
                self.search_loaded(loaded, &expression, Some("insight"), 50)
                    .ok()
            })
            .unwrap_or_default();
        let matching: Vec<String> = about.into_iter().map(|hit| hit.id).collect();
        prime::prime(state, scope, reader, max_bytes, &matching)
    }

    /// Search the index brought up to `loaded`: the file, else a new file, else memory.
    fn search_loaded(
        &self,
        loaded: &Loaded,
        expression: &str,
        kind: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Hit>, Error> {
        let search = |index: &mut SearchIndex| -> rusqlite::Result<Vec<Hit>> {
            self.bring_up(index, loaded)?;
            index.search(expression, kind, limit)
        };
        let on_disk = || search(&mut SearchIndex::on(self.open_index()?));
        match on_disk() {
            Ok(hits) => return Ok(hits),
            // Another process is writing it: answer from memory this once.
            Err(e) if db::is_busy(&e) => {}
            Err(_) => {
                self.store.remove_index();
                if let Ok(hits) = on_disk() {
                    return Ok(hits);
                }
            }
        }
        SearchIndex::in_memory()
            .and_then(|mut index| search(&mut index))
            .map_err(Error::Index)
    }

    /// Make the index hold the text of `loaded`: only the entities that events since its
    /// tips touched, or everything when those tips are not behind the refs (a new index, a
    /// ref rewritten or deleted, an import).
    fn bring_up(&self, index: &mut SearchIndex, loaded: &Loaded) -> rusqlite::Result<()> {
        let newer = match index.tips()? {
            Some(tips) if tips == loaded.tips => return Ok(()),
            Some(tips) => self.store.snapshot_since(&tips).ok().flatten(),
            None => None,
        };
        let state = &loaded.state;
        match newer {
            Some(newer) => {
                let touched: BTreeSet<&str> = newer
                    .events
                    .iter()
                    .flat_map(|e| {
                        let body = &e.body;
                        [e.subject.as_deref(), body.task(), body.objective()]
                    })
                    .flatten()
                    .collect();
                let docs = touched
                    .into_iter()
                    .filter_map(|id| index::doc_of(state, id));
                index.update(false, docs, &loaded.tips)
            }
            None => index.update(true, index::all_docs(state), &loaded.tips),
        }
    }
}
