//! Sessions (seed 004): start, resume with full context, end.

use super::work::with_optional;
use super::{Error, Ledger, Loaded, optional_text, resolve};
use crate::event::{EntityKind, kind};
use crate::projection::memory::{self, WorkingMemory};
use crate::projection::state::Session;
use serde::Serialize;
use serde_json::json;

/// What `session start` and `session resume` hand back to an agent: where it stands and what
/// to do next, with the previous session's context.
#[derive(Debug, Clone, Serialize)]
pub struct ResumeContext {
    pub session: Session,
    pub working: WorkingMemory,
    /// What was done besides (another session ended, an ended one continued), a line each.
    #[serde(skip)]
    pub notices: Vec<String>,
}

/// What `session start` answers with: the session's own fields (as before the context was
/// added) and its working memory.
#[derive(Debug, Serialize)]
pub struct Started<'a> {
    #[serde(flatten)]
    pub session: &'a Session,
    pub working: &'a WorkingMemory,
}

impl ResumeContext {
    pub fn started(&self) -> Started<'_> {
        Started {
            session: &self.session,
            working: &self.working,
        }
    }
}

impl Ledger {
    /// Start a session in this worktree; refused while one is open here.
    pub fn session_start(&self, title: Option<&str>) -> Result<(Loaded, ResumeContext), Error> {
        let title = optional_text("title", title)?;
        let (loaded, id) = self.record(|state, batch| {
            if let Some(open) = state.open_session(self.writer(), self.worktree()) {
                return Err(Error::SessionOpen(state.short(&open.id)));
            }
            Ok(start(batch, title.as_deref(), None))
        })?;
        self.context(loaded, id, Vec::new())
    }

    /// Resume a session (by id, or the open session of this worktree, else the one that ended
    /// last here) and return its context. Resuming by id from another worktree moves the
    /// session here, ending the one open here (a worktree has one open session); resuming an
    /// ended session continues it in a new session linked to it.
    pub fn session_resume(&self, input: Option<&str>) -> Result<(Loaded, ResumeContext), Error> {
        let mut notices = Vec::new();
        let (loaded, id) = self.record(|state, batch| {
            notices.clear();
            let id = match input {
                Some(input) => resolve(state, EntityKind::Session, input)?,
                None => match self.current_session(state)? {
                    Some(id) => id,
                    None => state
                        .previous_session(self.writer(), self.worktree(), None)
                        .map(|s| s.id.clone())
                        .ok_or(Error::NoSession)?,
                },
            };
            let Some(session) = state.sessions.get(&id) else {
                return Err(Error::NoSession);
            };
            if let Some(open) = state
                .open_session(self.writer(), self.worktree())
                .filter(|open| open.id != id)
            {
                batch.session = Some(open.id.clone());
                batch.push(
                    kind::SESSION_ENDED,
                    &open.id,
                    json!({ "abandoned": false, "summary": format!("handed over to {}", state.short(&id)) }),
                );
                notices.push(format!(
                    "ended session {}: a worktree has one open session, and {} resumes here",
                    state.short(&open.id),
                    state.short(&id)
                ));
            }
            if !session.is_open() {
                let new = start(batch, session.title.as_deref(), Some(&id));
                notices.push(format!(
                    "session {} has ended; continuing it in {}",
                    state.short(&id),
                    state.short_for_new(&new)
                ));
                return Ok(new);
            }
            batch.session = Some(id.clone());
            batch.push(
                kind::SESSION_RESUMED,
                &id,
                json!({ "worktree": batch.worktree() }),
            );
            Ok(id)
        })?;
        self.context(loaded, id, notices)
    }

    /// The session `id` after a start or resume, with its working memory.
    fn context(
        &self,
        loaded: Loaded,
        id: String,
        notices: Vec<String>,
    ) -> Result<(Loaded, ResumeContext), Error> {
        let (loaded, session) =
            loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))?;
        let scope = self.scope(&loaded, Some(&session.id));
        let working = memory::working(&loaded.state, &scope);
        Ok((
            loaded,
            ResumeContext {
                session,
                working,
                notices,
            },
        ))
    }

    /// End a session (by id, or this worktree's), optionally marking it abandoned.
    pub fn session_end(
        &self,
        input: Option<&str>,
        summary: Option<&str>,
        abandoned: bool,
        usage: &super::UsageInput,
    ) -> Result<(Loaded, Session), Error> {
        let summary = optional_text("summary", summary)?;
        let usage = usage.parse()?;
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_session(state, input)?;
            if state.sessions.get(&id).is_some_and(|s| !s.is_open()) {
                return Err(Error::SessionEnded(state.short(&id)));
            }
            let body = with_optional(json!({ "abandoned": abandoned }), "summary", &summary);
            let body = super::cost::with_usage(body, &usage);
            batch.session = Some(id.clone());
            batch.push(kind::SESSION_ENDED, &id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))
    }

    /// A session by id, else the current one (`GIT_LEDGER_SESSION` or this worktree's).
    pub fn find_session(
        &self,
        state: &crate::projection::state::State,
        input: Option<&str>,
    ) -> Result<String, Error> {
        match input {
            Some(input) => resolve(state, EntityKind::Session, input),
            None => self.current_session(state)?.ok_or(Error::NoSession),
        }
    }
}

/// Draft a new session here (continuing the ended session `continues`, if any); its id.
fn start(batch: &mut super::Batch, title: Option<&str>, continues: Option<&str>) -> String {
    let id = batch.new_id(EntityKind::Session, title.unwrap_or(""));
    let body = json!({ "worktree": batch.worktree() });
    let body = with_optional(body, "title", &title.map(str::to_string));
    let body = with_optional(body, "continues", &continues.map(str::to_string));
    batch.session = Some(id.clone());
    batch.push(kind::SESSION_STARTED, &id, body);
    id
}
