//! One integration-test binary: every test drives the real `git-ledger` binary against real
//! git repositories in temporary directories, with a hermetic git environment.

// Integrity: ids, append-only refs, schema, invariants; exit status.
mod audit;
// Commands, their output and --json shape, scenario by scenario.
mod core;
// The merge gate: verdicts, local merges, pushes to a remote with the server hook.
mod gate;
// Installing hooks; linking branches and commits to tasks.
mod hooks;
// Bad input: each refused with one line and a non-zero exit, nothing written.
mod errors;
// Plans of stages, role pools, re-applying edited plans.
mod plans;
// Replay, time travel (--at), diff and blame.
mod replay;
// Export and import: round trips, orchestrator and beads files, batching, refusals.
mod portability;
// Sessions, focus across worktrees, resume, validation before close, time tracking.
mod sessions;
// Agents: spawns in worktrees (in parallel), exits, signals; the MCP server; prime.
mod agents;
// `setup`: harness files merged and restored byte for byte; the hooks it installs, run.
mod setup;
// Agent health: heartbeats, stalled agents; retries and fallbacks of an agent's command.
mod health;
// Several processes appending at once; hand-edited refs; what plain git sees.
mod store;
// Many writers, processes killed mid-append, stale locks, git gc, hostile text.
mod reliability;
// Validation rules as checks: results pinned to commits, task done and the gate.
mod checks;
// Claims with leases: concurrent claimers, expiry, races across clones, fencing.
mod claims;
// Lossless compaction: summaries in the history views, budgets, --expand.
mod compaction;
// Search: ranked full-text search, its index kept up and rebuilt when damaged.
mod search;
// Cost and effort: usage roll-ups and budget warnings.
mod cost;
// Sync between clones through a remote; concurrent edits; rewritten remote refs.
mod sync;
// Pinned text of status, memory views and --help.
mod snapshots;
// The static HTML report: its pages in headless Chromium, their text pinned.
mod report;
// The terminal dashboard, driven in tmux: panes, keys, the 80×24 screen pinned.
mod dash;
// The storage format: events an earlier version wrote read back byte for byte and written
// the same way by the same commands.
mod format;
// Signed writers: SSH-signed ledger commits, a server that requires them, audit.
mod signing;
// Hostile values in every field of every kind, through the fold and every view.
mod hostile;
// One test per fixed bug, named after it.
mod regression;
// Helpers that make a test read like a scenario.
mod util;
