//! Signed ledger commits, with git's own SSH signing (`ssh-keygen -Y sign` and `-Y verify`,
//! the namespace `git`): no cryptography of our own.
//!
//! A clone signs when git is set up to sign with SSH (`gpg.format ssh` and
//! `user.signingkey`). A writer registers its public key with a `writer.registered` event
//! (`git ledger init`); the oldest registration on a writer's ref is the one that counts, so a
//! key cannot be replaced by pushing a newer one. A server with `ledger.requireSigned` accepts
//! a new commit on a writer ref only when that key signed it.

use super::{Error, REF_PREFIX, Store, decode_line, parse_commit};
use crate::event::{Body, kind};
use git2::Oid;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The namespace git signs commits in; `ssh-keygen -Y verify` checks it.
const NAMESPACE: &str = "git";

impl Store {
    /// The key this clone signs ledger commits with, as `ssh-keygen -f` takes it (a key file,
    /// or the public half of a key held by ssh-agent), when git is set up to sign with SSH.
    pub fn signing_key(&self) -> Option<PathBuf> {
        if self.config_string("gpg.format").as_deref() != Some("ssh") {
            return None;
        }
        let key = self.config_string("user.signingkey")?;
        let key = key.trim();
        if key.is_empty() || key.starts_with("key::") {
            // A literal key (git's `key::` form) needs a file for ssh-keygen: not supported.
            return None;
        }
        Some(match key.strip_prefix("~/") {
            Some(rest) => PathBuf::from(std::env::var_os("HOME")?).join(rest),
            None => PathBuf::from(key),
        })
    }

    /// The public key of [`Store::signing_key`], as a `writer.registered` event records it.
    pub fn signing_public_key(&self) -> Result<Option<String>, Error> {
        let Some(key) = self.signing_key() else {
            return Ok(None);
        };
        let public = if key.extension().is_some_and(|e| e == "pub") {
            std::fs::read_to_string(&key).map_err(|e| signing_error(&key, e))?
        } else {
            let output = Command::new("ssh-keygen")
                .arg("-y")
                .arg("-f")
                .arg(&key)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| signing_error(&key, e))?;
            if !output.status.success() {
                return Err(signing_error(
                    &key,
                    String::from_utf8_lossy(&output.stderr).trim(),
                ));
            }
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        // `type base64`, without the comment: what identifies the key.
        let fields: Vec<&str> = public.split_whitespace().take(2).collect();
        match fields[..] {
            [kind, data] => Ok(Some(format!("{kind} {data}"))),
            _ => Err(signing_error(&key, "not an SSH public key")),
        }
    }

    /// Sign a commit's raw bytes; returns the armored signature git stores in `gpgsig`.
    pub(super) fn sign(&self, key: &std::path::Path, data: &[u8]) -> Result<String, Error> {
        let mut child = Command::new("ssh-keygen")
            .args(["-Y", "sign", "-n", NAMESPACE, "-q", "-f"])
            .arg(key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| signing_error(key, e))?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(data).map_err(|e| signing_error(key, e))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| signing_error(key, e))?;
        if !output.status.success() {
            return Err(signing_error(
                key,
                String::from_utf8_lossy(&output.stderr).trim(),
            ));
        }
        String::from_utf8(output.stdout).map_err(|_| signing_error(key, "signature not UTF-8"))
    }

    /// Whether commit `oid` is signed by `public_key`: the problem when it is not.
    pub fn verify_signed_by(&self, oid: Oid, public_key: &str) -> Result<(), String> {
        let short = crate::event::short_hex(&oid.to_string()).to_string();
        let signed = Signed::extract(self, oid)
            .map_err(|e| e.unwrap_or_else(|| format!("commit {short} is not signed")))?;
        let allowed = signed.dir.join("allowed");
        std::fs::write(
            &allowed,
            format!("ledger namespaces=\"{NAMESPACE}\" {public_key}\n"),
        )
        .map_err(|e| format!("cannot verify commit {short}: {e}"))?;
        if signed.verifies(&allowed, "ledger") {
            Ok(())
        } else {
            Err(format!(
                "commit {short} is not signed by the key its writer registered"
            ))
        }
    }

    /// The principal of `allowed_signers` (git's allowed-signers file) whose key signed the
    /// commit that holds event `event` on the writer chain from `tip`; why none did otherwise.
    pub fn signer_of_event(
        &self,
        tip: Oid,
        event: &str,
        allowed_signers: &Path,
    ) -> Result<String, String> {
        let odb = self.repo.odb().map_err(|e| e.message().to_string())?;
        let needle = format!("\"id\":\"{event}\"");
        let mut next = Some(tip);
        while let Some(oid) = next {
            let Ok(object) = odb.read(oid) else {
                break;
            };
            let (parent, lines) = parse_commit(object.data());
            if lines
                .iter()
                .any(|line| memchr::memmem::find(line, needle.as_bytes()).is_some())
            {
                return self.listed_signer(oid, allowed_signers);
            }
            next = parent;
        }
        Err("its event is not on its writer's ref".into())
    }

    /// The principal of `allowed_signers` whose key signed commit `oid`.
    fn listed_signer(&self, oid: Oid, allowed_signers: &Path) -> Result<String, String> {
        let unreadable = |e: &dyn std::fmt::Display| {
            format!(
                "the allowed signers file {} cannot be read: {e}",
                allowed_signers.display()
            )
        };
        std::fs::metadata(allowed_signers).map_err(|e| unreadable(&e))?;
        let signed = Signed::extract(self, oid)
            .map_err(|e| e.unwrap_or_else(|| "its ledger commit is not signed".into()))?;
        let found = Command::new("ssh-keygen")
            .args(["-Y", "find-principals", "-f"])
            .arg(allowed_signers)
            .arg("-s")
            .arg(signed.dir.join("sig"))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| unreadable(&format!("ssh-keygen: {e}")))?;
        let principals = String::from_utf8_lossy(&found.stdout).into_owned();
        // find-principals only matches the key; the signature itself is checked by verify.
        principals
            .lines()
            .map(str::trim)
            .filter(|p| found.status.success() && !p.is_empty())
            .find(|principal| signed.verifies(allowed_signers, principal))
            .map(str::to_string)
            .ok_or_else(|| {
                format!(
                    "its ledger commit is not signed by a key listed in {}",
                    allowed_signers.display()
                )
            })
    }

    /// The key the writer of ref `name` registered: its oldest `writer.registered` event on
    /// the chain from `tip`.
    pub fn registered_key(&self, name: &str, tip: Oid) -> Option<String> {
        let walk = self.registration(name, tip)?;
        walk.complete.then_some(walk.key?.1)
    }

    /// What is wrong with the signatures on writer ref `name`: every commit from the one
    /// that registered the writer's key up to `tip` must be signed by that key (the history
    /// before a writer registered a key is not signed).
    pub fn signature_problems(&self, name: &str, tip: Oid) -> Vec<String> {
        let Some(Registration {
            chain,
            key: Some((signed, key)),
            ..
        }) = self.registration(name, tip)
        else {
            return Vec::new();
        };
        chain[..signed]
            .iter()
            .filter_map(|oid| self.verify_signed_by(*oid, &key).err())
            .map(|problem| format!("{name}: {problem}"))
            .collect()
    }

    /// Walk writer ref `name` from `tip` by first parents, finding its oldest registration.
    fn registration(&self, name: &str, tip: Oid) -> Option<Registration> {
        let writer = name.strip_prefix(REF_PREFIX)?;
        let odb = self.repo.odb().ok()?;
        let mut walk = Registration {
            chain: Vec::new(),
            key: None,
            complete: true,
        };
        let mut next = Some(tip);
        while let Some(oid) = next {
            let Ok(object) = odb.read(oid) else {
                walk.complete = false;
                break;
            };
            let (parent, lines) = parse_commit(object.data());
            walk.chain.push(oid);
            // Only lines that can be a registration are decoded: the walk covers every commit.
            let candidates = lines.into_iter().filter(|line| {
                memchr::memmem::find(line, kind::WRITER_REGISTERED.as_bytes()).is_some()
            });
            for line in candidates {
                if let Ok(event) = decode_line(line, self.horizon)
                    && event.writer == writer
                    && let Body::WriterRegistered(registered) = &event.body
                {
                    walk.key = Some((walk.chain.len(), registered.signing_key.clone()));
                }
            }
            next = parent;
        }
        Some(walk)
    }

    /// Whether this server refuses unsigned ledger commits (`ledger.requireSigned`).
    pub fn require_signed(&self) -> bool {
        self.repo
            .config()
            .and_then(|c| c.get_bool("ledger.requireSigned"))
            .unwrap_or(false)
    }
}

fn signing_error(key: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Signing(format!("signing with {}: {e}", key.display()))
}

/// A writer ref's chain, newest first, and its oldest registration: how many commits of the
/// chain (from the newest) it covers, and the key.
struct Registration {
    chain: Vec<Oid>,
    key: Option<(usize, String)>,
    /// Whether every commit of the chain could be read.
    complete: bool,
}

/// A commit's signature and signed bytes, the signature written where ssh-keygen reads it.
struct Signed {
    dir: Scratch,
    data: Vec<u8>,
}

impl Signed {
    /// `Err(None)` when the commit is not signed, `Err(Some(problem))` when it cannot be read.
    fn extract(store: &Store, oid: Oid) -> Result<Signed, Option<String>> {
        let (signature, data) = store.repo.extract_signature(&oid, None).map_err(|_| None)?;
        let problem = |e: std::io::Error| Some(format!("cannot verify commit {oid}: {e}"));
        let dir = Scratch::new().map_err(problem)?;
        std::fs::write(dir.join("sig"), &*signature).map_err(problem)?;
        Ok(Signed {
            dir,
            data: data.to_vec(),
        })
    }

    /// Whether `ssh-keygen -Y verify` accepts the signature as `principal`'s in `allowed`.
    fn verifies(&self, allowed: &Path, principal: &str) -> bool {
        let child = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", NAMESPACE, "-I", principal, "-f"])
            .arg(allowed)
            .arg("-s")
            .arg(self.dir.join("sig"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            return false;
        };
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(&self.data);
        }
        child.wait().is_ok_and(|status| status.success())
    }
}

/// A private directory for the files `ssh-keygen -Y verify` reads, removed when dropped.
/// Its name is random and it is created mode 0700, so another local user can neither
/// guess it in advance (and make verification fail by taking the name) nor read into it.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        tempfile::Builder::new()
            .prefix("git-ledger-verify-")
            .tempdir()
            .map(Scratch)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}
