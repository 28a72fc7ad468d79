//! `audit`: prove the ledger intact and consistent, or say exactly what is not.

use super::{Error, Ledger, Loaded};
use crate::event::kind::{self, schema_errors};
use crate::model::TaskStatus;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One check and what it found; the ledger is intact when every check passes.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub findings: Vec<String>,
}

/// Facts worth knowing that do not make the ledger broken.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Notices {
    pub forced_completions: Vec<String>,
    pub gate_overrides: Vec<String>,
    pub open_sessions: Vec<String>,
    /// Status changes made without seeing a concurrent one: not damage, the later one won.
    pub conflicts: Vec<String>,
    pub unknown_kinds: BTreeMap<String, usize>,
    /// When the append-only check had no earlier checkpoint to compare with.
    pub first_checkpoint: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub intact: bool,
    pub events: usize,
    pub writers: usize,
    pub checks: Vec<Check>,
    pub notices: Notices,
}

impl Ledger {
    /// Verify every event and invariant. When the ledger is intact, the writer tips are
    /// recorded as the checkpoint the next audit compares with.
    pub fn audit(&self) -> Result<AuditReport, Error> {
        let loaded = self.load_full()?;
        let report = self.verify(&loaded)?;
        if report.intact {
            // Only an intact ledger moves the checkpoint, so a detected rewrite keeps failing.
            self.store
                .write_checkpoint(loaded.tips())
                .map_err(Error::io("cannot write the audit checkpoint"))?;
        }
        Ok(report)
    }

    /// The audit's verdict on a complete state, without moving the checkpoint: for views
    /// that show the verdict and must not change what the next `audit` compares with.
    pub fn verify(&self, loaded: &Loaded) -> Result<AuditReport, Error> {
        let tips = loaded.tips();
        let state = &loaded.state;
        let mut checks = Vec::new();
        let mut notices = Notices::default();
        let mut check = |name: &'static str, findings: Vec<String>| {
            checks.push(Check {
                name,
                passed: findings.is_empty(),
                findings,
            });
        };

        // 1. Every stored line is an event whose id matches its content.
        check(
            "event ids and encoding",
            loaded
                .problems
                .iter()
                .map(|p| format!("{} at {}: {}", p.reference, short_oid(&p.commit), p.message))
                .collect(),
        );

        // 2. Every writer ref only moved forward since the last intact audit.
        let mut rewrites = Vec::new();
        match self.store.read_checkpoint() {
            Ok(None) => notices.first_checkpoint = true,
            Ok(Some(previous)) => {
                let now: HashMap<&String, git2::Oid> = tips.iter().map(|(n, o)| (n, *o)).collect();
                for (name, old) in &previous {
                    match now.get(name) {
                        None => rewrites.push(format!(
                            "{name} was deleted (last seen at {})",
                            short_oid(&old.to_string())
                        )),
                        Some(new) if !self.store.descends_from(*new, *old) => {
                            rewrites.push(format!(
                                "{name} was rewritten: {} is no longer in its history (now at {})",
                                short_oid(&old.to_string()),
                                short_oid(&new.to_string())
                            ))
                        }
                        Some(_) => {}
                    }
                }
            }
            Err(message) => rewrites.push(message),
        }
        check("append-only refs", rewrites);

        // 3. Every event of a known kind has the body its kind requires.
        check(
            "event schema",
            state
                .events
                .iter()
                .flat_map(|e| {
                    schema_errors(e).into_iter().map(move |msg| {
                        format!(
                            "{} {} ({}): {msg}",
                            short_oid(&e.id),
                            e.kind,
                            e.subject.as_deref().unwrap_or("-")
                        )
                    })
                })
                .collect(),
        );

        // 4. Events refer to entities that exist at that point of the order.
        let mut references: Vec<String> = state
            .orphans
            .iter()
            .map(|&i| {
                let e = &state.events[i];
                format!(
                    "{} {} refers to {}, which does not exist at that point",
                    short_oid(&e.id),
                    e.kind,
                    e.subject.as_deref().unwrap_or("nothing")
                )
            })
            .collect();
        for task in state.tasks.iter() {
            if let Some(o) = task
                .objective
                .as_deref()
                .filter(|o| !state.objectives.contains(o))
            {
                references.push(format!("{} belongs to unknown objective {o}", task.id));
            }
            for dep in task.depends_on.iter().filter(|d| !state.tasks.contains(d)) {
                references.push(format!("{} depends on unknown task {dep}", task.id));
            }
        }
        for (id, task) in state
            .insights
            .iter()
            .map(|i| (&i.id, &i.task))
            .chain(state.decisions.iter().map(|d| (&d.id, &d.task)))
        {
            if let Some(t) = task.as_deref().filter(|t| !state.tasks.contains(t)) {
                references.push(format!("{id} refers to unknown task {t}"));
            }
        }
        check("references", references);

        // 5. Each entity is created once; each agent is spawned once.
        let mut created: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for e in &state.events {
            let creates = matches!(
                e.kind.as_str(),
                kind::OBJECTIVE_CREATED
                    | kind::TASK_CREATED
                    | kind::INSIGHT_ADDED
                    | kind::DECISION_REQUESTED
                    | kind::SESSION_STARTED
                    | kind::AGENT_SPAWNED
            );
            if creates && let Some(subject) = e.subject.as_deref() {
                *created.entry((e.kind.as_str(), subject)).or_default() += 1;
            }
        }
        check(
            "unique creation",
            created
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|((kind, subject), n)| format!("{subject} has {n} {kind} events"))
                .collect(),
        );

        // 6. No dependency cycles (concurrent clones could each add one edge of a cycle).
        let mut cycles = Vec::new();
        for task in state.tasks.iter() {
            if let Some(cycle) = state.dependency_cycle(&task.id, &task.depends_on)
                && cycle.iter().min() == Some(&task.id)
            {
                cycles.push(cycle.join(" → "));
            }
        }
        cycles.sort();
        cycles.dedup();
        check("dependency cycles", cycles);

        // 7. Sessions end at most once, and nothing closes what was never opened.
        let mut ended: HashMap<&str, usize> = HashMap::new();
        for e in state
            .events
            .iter()
            .filter(|e| e.kind == kind::SESSION_ENDED)
        {
            *ended.entry(e.subject.as_deref().unwrap_or("")).or_default() += 1;
        }
        check(
            "session lifecycle",
            ended
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(s, n)| format!("{s} ended {n} times"))
                .collect(),
        );

        // 8. Signed writers: from its key's registration on, each commit is signed by it.
        let unsigned: Vec<String> = loaded
            .tips()
            .iter()
            .flat_map(|(name, tip)| self.store.signature_problems(name, *tip))
            .collect();
        check("signatures", unsigned);

        for task in state.tasks.iter().filter(|t| t.status == TaskStatus::Done) {
            if let Some(over) = &task.forced_over {
                notices.forced_completions.push(format!(
                    "{} {} (over: {})",
                    task.id,
                    kind::one_line(&task.title, 60),
                    over.join("; ")
                ));
            }
        }
        for conflict in &state.conflicts {
            notices
                .conflicts
                .push(crate::view::status::conflict_line(state, conflict));
        }
        for session in state.sessions.iter().filter(|s| s.is_open()) {
            notices.open_sessions.push(format!(
                "{} started {} by {}",
                session.id,
                session.started.format("%Y-%m-%d %H:%M"),
                session.actor
            ));
        }
        for e in state.events.iter().filter(|e| !kind::is_known(&e.kind)) {
            *notices.unknown_kinds.entry(e.kind.clone()).or_default() += 1;
        }

        let intact = checks.iter().all(|c| c.passed);
        Ok(AuditReport {
            intact,
            events: state.events.len(),
            writers: tips.len(),
            checks,
            notices,
        })
    }
}

fn short_oid(hex: &str) -> &str {
    crate::event::short_hex(hex)
}
