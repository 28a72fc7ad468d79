//! Sessions (seed 004): start, resume with full context, end.

use super::work::with_optional;
use super::{Error, Ledger, Loaded, optional_text, resolve};
use crate::event::{EntityKind, kind};
use crate::projection::memory::{self, WorkingMemory};
use crate::projection::state::Session;
use serde::Serialize;
use serde_json::json;

/// What `session resume` hands back to an agent: where it stands and what to do next.
#[derive(Debug, Clone, Serialize)]
pub struct ResumeContext {
    pub session: Session,
    pub working: WorkingMemory,
}

impl Ledger {
    /// Start a session in this worktree; refused while one is open here.
    pub fn session_start(&self, title: Option<&str>) -> Result<(Loaded, Session), Error> {
        let title = optional_text("title", title)?;
        let (loaded, id) = self.record(|state, batch| {
            if let Some(open) = state.open_session(self.writer(), self.worktree()) {
                return Err(Error::SessionOpen(state.short(&open.id)));
            }
            let id = batch.new_id(EntityKind::Session, title.as_deref().unwrap_or(""));
            let body = with_optional(json!({ "worktree": batch.worktree() }), "title", &title);
            batch.session = Some(id.clone());
            batch.push(kind::SESSION_STARTED, &id, body);
            Ok(id)
        })?;
        loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))
    }

    /// Resume a session (by id, or the open session of this worktree) and return its
    /// context. Resuming by id from another worktree moves the session here.
    pub fn session_resume(&self, input: Option<&str>) -> Result<(Loaded, ResumeContext), Error> {
        let (loaded, id) = self.record(|state, batch| {
            let id = self.find_session(state, input)?;
            if state.sessions.get(&id).is_some_and(|s| !s.is_open()) {
                return Err(Error::SessionEnded(state.short(&id)));
            }
            batch.session = Some(id.clone());
            batch.push(
                kind::SESSION_RESUMED,
                &id,
                json!({ "worktree": batch.worktree() }),
            );
            Ok(id)
        })?;
        let (loaded, session) =
            loaded.entity(EntityKind::Session, id, |s, id| s.sessions.get(id))?;
        let scope = self.scope(&loaded, Some(&session.id));
        let working = memory::working(&loaded.state, &scope);
        Ok((loaded, ResumeContext { session, working }))
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
