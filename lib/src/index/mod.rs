//! The local search index: the text of every task, objective, insight and decision in an
//! SQLite database with a full-text (FTS5) table, ranked by BM25.
//!
//! Like the projection beside it, it is a disposable copy, keyed by the writer tips it was built
//! from, and never part of the ledger's format: the refs are the only source of truth. The
//! caller (`Ledger::search`) brings it up to the refs and, on any error that means the file
//! cannot be trusted (not a database, corrupt, truncated, a schema this version does not
//! know), deletes it and builds it again.

use crate::cache::db;
use crate::fold::state::State;
use crate::model::{Decision, Insight, Objective, Task};
use git2::Oid;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// The kinds of entity the index holds, as `--kind` names them.
pub const KINDS: [&str; 4] = ["task", "objective", "insight", "decision"];

/// One result of a search.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    /// The entity's title (a task's or objective's title, an insight's text, a decision's
    /// question).
    pub title: String,
    /// Where the words matched, the matches in `[` `]`.
    pub snippet: String,
    /// BM25 rank, a match in the title weighing ten times one elsewhere: lower is better.
    pub rank: f64,
}

/// The text one entity is found by.
pub struct Doc {
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
}

impl Doc {
    fn new(id: &str, kind: &'static str, title: &str, body: Vec<&str>) -> Doc {
        Doc {
            id: id.to_string(),
            kind,
            title: title.to_string(),
            body: body.join("\n"),
        }
    }

    fn task(t: &Task) -> Doc {
        let mut body: Vec<&str> = t.description.iter().map(String::as_str).collect();
        body.extend(t.notes.iter().map(|n| n.text.as_str()));
        body.extend(t.block_reason.as_deref());
        Doc::new(&t.id, "task", &t.title, body)
    }

    fn objective(o: &Objective) -> Doc {
        let body = o.description.iter().chain(&o.outcome).map(String::as_str);
        Doc::new(&o.id, "objective", &o.title, body.collect())
    }

    fn insight(i: &Insight) -> Doc {
        Doc::new(
            &i.id,
            "insight",
            &i.text,
            i.tags.iter().map(String::as_str).collect(),
        )
    }

    fn decision(d: &Decision) -> Doc {
        let mut body: Vec<&str> = d.options.iter().map(String::as_str).collect();
        body.extend(d.choice.as_deref());
        body.extend(d.rationale.as_deref());
        Doc::new(&d.id, "decision", &d.question, body)
    }
}

/// The document of the entity `id`, if it is one the index holds.
pub fn doc_of(state: &State, id: &str) -> Option<Doc> {
    (state.tasks.get(id).map(Doc::task))
        .or_else(|| state.objectives.get(id).map(Doc::objective))
        .or_else(|| state.insights.get(id).map(Doc::insight))
        .or_else(|| state.decisions.get(id).map(Doc::decision))
}

/// Every document of the state, each built from the entity as the tables give it.
pub fn all_docs(state: &State) -> impl Iterator<Item = Doc> + '_ {
    (state.tasks.iter().map(Doc::task))
        .chain(state.objectives.iter().map(Doc::objective))
        .chain(state.insights.iter().map(Doc::insight))
        .chain(state.decisions.iter().map(Doc::decision))
}

/// The FTS5 query for what a person typed: each word, quoted (so no character of the input
/// is FTS5 syntax) and taken as a prefix; every word must match. `None` when the input has
/// no word.
pub fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The FTS5 query for "about the same thing as `text`": any of its words of four or more
/// letters (shorter ones are mostly "the", "and", "to"), at most 16 of them; BM25 ranks the
/// entities with more and rarer ones first. `None` when no word is long enough.
pub fn match_any(text: &str) -> Option<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 4 && !words.contains(&word) && words.len() < 16 {
            words.push(word);
        }
    }
    let words: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// An open index.
pub struct SearchIndex {
    conn: Connection,
}

impl SearchIndex {
    /// The search text of the index database `conn` (opened with `cache::db::open`).
    pub fn on(conn: Connection) -> SearchIndex {
        SearchIndex { conn }
    }

    /// An index that lives in memory only: for when no file can be written.
    pub fn in_memory() -> rusqlite::Result<SearchIndex> {
        Ok(SearchIndex::on(db::in_memory()?))
    }

    /// The writer tips the index was last brought up to; `None` for a new index.
    pub fn tips(&self) -> rusqlite::Result<Option<Vec<(String, Oid)>>> {
        db::tips(&self.conn, db::SEARCH_TIPS)
    }

    /// Replace the documents given (all of them when `full`), and record the tips they
    /// stand for, in one transaction.
    pub fn update(
        &mut self,
        full: bool,
        docs: impl Iterator<Item = Doc>,
        tips: &[(String, Oid)],
    ) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        if full {
            tx.execute_batch("DELETE FROM search_entity; DELETE FROM search_text;")?;
        }
        {
            let mut find = tx.prepare_cached("SELECT rowid FROM search_entity WHERE id = ?1")?;
            let mut add_entity =
                tx.prepare_cached("INSERT INTO search_entity(id, kind) VALUES (?1, ?2)")?;
            let mut remove_text = tx.prepare_cached("DELETE FROM search_text WHERE rowid = ?1")?;
            let mut add_text = tx.prepare_cached(
                "INSERT INTO search_text(rowid, title, body) VALUES (?1, ?2, ?3)",
            )?;
            for doc in docs {
                let existing: Option<i64> = if full {
                    None
                } else {
                    find.query_row([&doc.id], |row| row.get(0)).optional()?
                };
                let rowid = match existing {
                    Some(rowid) => {
                        remove_text.execute([rowid])?;
                        rowid
                    }
                    None => {
                        add_entity.execute(params![doc.id, doc.kind])?;
                        tx.last_insert_rowid()
                    }
                };
                add_text.execute(params![rowid, doc.title, doc.body])?;
            }
        }
        db::set_tips(&tx, db::SEARCH_TIPS, tips)?;
        tx.commit()?;
        Ok(())
    }

    /// The best `limit` matches of an FTS5 expression (see [`match_expression`]), best
    /// first, of one kind or of every kind.
    pub fn search(
        &self,
        expression: &str,
        kind: Option<&str>,
        limit: usize,
    ) -> rusqlite::Result<Vec<Hit>> {
        let mut query = self.conn.prepare_cached(
            "SELECT e.id, e.kind, search_text.title,
                    snippet(search_text, -1, '[', ']', '…', 12),
                    bm25(search_text, 10.0, 1.0) AS score
             FROM search_text JOIN search_entity AS e ON e.rowid = search_text.rowid
             WHERE search_text MATCH ?1 AND (?2 IS NULL OR e.kind = ?2)
             ORDER BY score LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = query.query_map(params![expression, kind, limit], |row| {
            Ok(Hit {
                id: row.get(0)?,
                kind: row.get(1)?,
                title: row.get(2)?,
                snippet: row.get(3)?,
                rank: row.get(4)?,
            })
        })?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_becomes_quoted_prefix_words() {
        assert_eq!(
            match_expression("OAuth2 \"token\" NEAR(x)"),
            Some("\"OAuth2\"* \"token\"* \"NEAR\"* \"x\"*".into())
        );
        assert_eq!(match_expression("  -- ? "), None);
        assert_eq!(
            match_any("Rotate the signing keys, rotate it"),
            Some("\"rotate\" OR \"signing\" OR \"keys\"".into())
        );
        assert_eq!(match_any("a to be"), None);
    }

    #[test]
    fn documents_are_found_replaced_and_ranked() {
        let mut index = SearchIndex::in_memory().expect("index");
        let doc = |id: &str, title: &str, body: &str| Doc {
            id: id.into(),
            kind: "task",
            title: title.into(),
            body: body.into(),
        };
        let tips = [("refs/ledger/w".to_string(), Oid::zero())];
        index
            .update(
                true,
                [
                    doc("t-1", "Rotate the signing keys", "keys expire yearly"),
                    doc("t-2", "Write docs", "mention the signing flow"),
                ]
                .into_iter(),
                &tips,
            )
            .expect("update");
        let ids = |index: &SearchIndex, q: &str| -> Vec<String> {
            let expression = match_expression(q).expect("words");
            let hits = index.search(&expression, None, 10).expect("search");
            hits.into_iter().map(|h| h.id).collect()
        };
        assert_eq!(
            ids(&index, "signing"),
            ["t-1", "t-2"],
            "a title match ranks first"
        );
        assert_eq!(ids(&index, "expir"), ["t-1"], "words are prefixes");
        index
            .update(
                false,
                [doc("t-1", "Rotate the keys", "")].into_iter(),
                &tips,
            )
            .expect("update");
        assert_eq!(ids(&index, "signing"), ["t-2"], "the old text is gone");
        assert_eq!(index.tips().expect("tips"), Some(tips.to_vec()));
    }
}
