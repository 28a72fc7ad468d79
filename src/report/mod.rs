//! `report --html`: the ledger as a static site, one directory of plain HTML files that open
//! from disk with no server. The numbers come from [`crate::view::report`]; [`html`]
//! lays them out; this module only writes the files.

pub mod html;

use crate::fold::state::State;
use crate::fold::timeline::Filter;
use crate::ledger::AuditReport;
use crate::view::memory::{Scope, knowledge};
use crate::view::report::{Index, overview, timeline};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the report directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One page written: its path in the site and its size.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub path: String,
    pub bytes: usize,
}

/// What `report --html` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub dir: PathBuf,
    pub pages: Vec<Written>,
    pub total_bytes: usize,
}

/// Write the site for `state` (a complete state: the timeline and histories need every
/// event) into `dir`, creating it if needed. Pages already there are overwritten; nothing
/// else in the directory is touched.
pub fn write(dir: &Path, state: &State, scope: &Scope, audit: &AuditReport) -> Result<Site, Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    for sub in ["", "tasks", "objectives"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|source| Error::CreateDir { path, source })?;
    }
    let overview = overview(state, scope, &Filter::default(), html::overview_limits());
    let timeline = timeline(state, scope.now, html::TIMELINE_WINDOW);
    let knowledge = knowledge(state);
    let index = Index::new(state);
    let site = html::Site {
        index: &index,
        state,
        overview: &overview,
        timeline: &timeline,
        knowledge: &knowledge,
        audit,
        now: scope.now,
    };
    let mut pages = Vec::new();
    html::pages(&site, |page| {
        let path = dir.join(&page.path);
        std::fs::write(&path, page.html.as_bytes())
            .map_err(|source| Error::Write { path, source })?;
        pages.push(Written {
            path: page.path,
            bytes: page.html.len(),
        });
        Ok(())
    })?;
    Ok(Site {
        dir: dir.to_path_buf(),
        total_bytes: pages.iter().map(|p| p.bytes).sum(),
        pages,
    })
}
