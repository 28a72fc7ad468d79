//! Sessions (seed 004): start, resume with full context, end.

use super::error::SessionError;
use super::{Error, Ledger, Loaded, optional_text, resolve};
use crate::event::EntityKind;
use crate::event::body::{SessionEnded, SessionResumed, SessionStarted};
use crate::model::Session;
use crate::view::doc::Format;
use crate::view::memory::{self, WorkingMemory};
use crate::view::reply;
use serde::Serialize;

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
    /// What `session start` says: the session, and the working memory it starts with.
    pub fn started_text(&self, loaded: &Loaded, format: Format) -> String {
        let (state, now) = (&loaded.state, loaded.now);
        reply::session_started(state, &self.session, &self.working, now, format)
    }

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
                return Err(Error::Session(SessionError::Open(state.short(&open.id))));
            }
            Ok(start(batch, title.as_deref(), None, None))
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
                        .ok_or(Error::Session(SessionError::NoSession))?,
                },
            };
            self.resume_here(state, batch, &id, &mut notices)
        })?;
        self.context(loaded, id, notices)
    }

    /// Draft the resumption of session `id` here: the session open here, if another, ends;
    /// an ended session is continued in a new one. The id of the session resumed.
    fn resume_here(
        &self,
        state: &crate::fold::state::State,
        batch: &mut super::Batch,
        id: &str,
        notices: &mut Vec<String>,
    ) -> Result<String, Error> {
        let Some(session) = state.sessions.get(id) else {
            return Err(Error::Session(SessionError::NoSession));
        };
        if let Some(open) = state
            .open_session(self.writer(), self.worktree())
            .filter(|open| open.id != id)
        {
            hand_over(batch, &open.id, &state.short(id));
            notices.push(format!(
                "ended session {}: a worktree has one open session, and {} resumes here",
                state.short(&open.id),
                state.short(id)
            ));
        }
        if !session.is_open() {
            let new = start(
                batch,
                session.title.as_deref(),
                Some(id),
                session.harness_session.as_deref(),
            );
            notices.push(format!(
                "session {} has ended; continuing it in {}",
                state.short(id),
                state.short_for_new(&new)
            ));
            return Ok(new);
        }
        batch.session = Some(id.to_string());
        let worktree = Some(batch.worktree());
        batch.push(id, SessionResumed { worktree });
        Ok(id.to_string())
    }

    /// The session of an agent harness's session `key` (`claude:<id>`), open here: the one
    /// recording it (as it is when open here, else resumed here), or a session opened by
    /// hand here (a harness session starting inside it takes it on), or a new one. A
    /// session of another harness session open here is handed over.
    pub fn session_for_harness(&self, key: &str) -> Result<(Loaded, ResumeContext), Error> {
        let key = super::text("harness session", key)?;
        let mut notices = Vec::new();
        let (loaded, id) = self.record(|state, batch| {
            notices.clear();
            let here = state.open_session(self.writer(), self.worktree());
            if let Some(found) = state.harness_session(self.writer(), &key) {
                if found.is_open() && here.is_some_and(|h| h.id == found.id) {
                    return Ok(found.id.clone());
                }
                return self.resume_here(state, batch, &found.id, &mut notices);
            }
            match here {
                Some(open) if open.harness_session.is_none() => Ok(open.id.clone()),
                Some(open) => {
                    hand_over(batch, &open.id, "a new harness session");
                    notices.push(format!(
                        "ended session {}: its harness session is over",
                        state.short(&open.id)
                    ));
                    Ok(start(batch, None, None, Some(&key)))
                }
                None => Ok(start(batch, None, None, Some(&key))),
            }
        })?;
        self.context(loaded, id, notices)
    }

    /// End the open session that records the harness session `key`, with the state after;
    /// the session is `None` when there is none (it ended already, or was never recorded).
    pub fn session_end_for_harness(
        &self,
        key: &str,
        summary: Option<&str>,
        usage: &super::UsageInput,
    ) -> Result<(Loaded, Option<Session>), Error> {
        let summary = optional_text("summary", summary)?;
        let usage = usage.parse()?;
        let (loaded, id) = self.record(|state, batch| {
            let Some(found) = state
                .harness_session(self.writer(), key)
                .filter(|s| s.is_open())
            else {
                return Ok(None);
            };
            batch.session = Some(found.id.clone());
            batch.push(&found.id, end_body(false, summary.clone(), &usage));
            Ok(Some(found.id.clone()))
        })?;
        match id {
            Some(id) => {
                let (loaded, session) =
                    loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))?;
                Ok((loaded, Some(session)))
            }
            None => Ok((loaded, None)),
        }
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
                return Err(Error::Session(SessionError::Ended(state.short(&id))));
            }
            batch.session = Some(id.clone());
            batch.push(&id, end_body(abandoned, summary.clone(), &usage));
            Ok(id)
        })?;
        loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))
    }

    /// A session by id, else the current one (`GIT_LEDGER_SESSION` or this worktree's).
    pub fn find_session(
        &self,
        state: &crate::fold::state::State,
        input: Option<&str>,
    ) -> Result<String, Error> {
        match input {
            Some(input) => resolve(state, EntityKind::Session, input),
            None => self
                .current_session(state)?
                .ok_or(Error::Session(SessionError::NoSession)),
        }
    }
}

/// A `session.ended` body.
fn end_body(
    abandoned: bool,
    summary: Option<String>,
    usage: &Option<crate::fold::cost::Usage>,
) -> SessionEnded {
    let (model, tokens, cost_micros) = super::cost::usage_fields(usage);
    SessionEnded {
        abandoned,
        summary,
        model,
        tokens,
        cost_micros,
    }
}

/// End the open session `id`, handed over to the session `to` (a short id) in this worktree.
fn hand_over(batch: &mut super::Batch, id: &str, to: &str) {
    batch.session = Some(id.to_string());
    batch.push(
        id,
        SessionEnded {
            summary: Some(format!("handed over to {to}")),
            ..SessionEnded::default()
        },
    );
}

/// Draft a new session here (continuing the ended session `continues`, if any, and recording
/// the harness session `harness`); its id.
fn start(
    batch: &mut super::Batch,
    title: Option<&str>,
    continues: Option<&str>,
    harness: Option<&str>,
) -> String {
    let id = batch.new_id(EntityKind::Session, title.unwrap_or(""));
    let body = SessionStarted {
        worktree: batch.worktree(),
        title: title.map(str::to_string),
        continues: continues.map(str::to_string),
        harness_session: harness.map(str::to_string),
    };
    batch.session = Some(id.clone());
    batch.push(&id, body);
    id
}
