//! Signed ledger commits, with git's own SSH signing (`ssh-keygen -Y sign` and `-Y verify`,
//! the namespace `git`): no cryptography of our own.
//!
//! A clone signs when git is set up to sign with SSH (`gpg.format ssh` and
//! `user.signingkey`). A writer registers its public key with a `writer.registered` event
//! (`git ledger init`); the oldest registration on a writer's ref is the one that counts, so a
//! key cannot be replaced by pushing a newer one. A server with `ledger.requireSigned` accepts
//! a new commit on a writer ref only when that key signed it.

use super::{Error, REF_PREFIX, Store, decode_line, parse_commit};
use crate::event::kind;
use git2::Oid;
use std::io::Write;
use std::path::PathBuf;
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
        let (signature, data) = self
            .repo
            .extract_signature(&oid, None)
            .map_err(|_| format!("commit {short} is not signed"))?;
        let dir = Scratch::new().map_err(|e| format!("cannot verify commit {short}: {e}"))?;
        let allowed = dir.0.join("allowed");
        let sig = dir.0.join("sig");
        std::fs::write(
            &allowed,
            format!("ledger namespaces=\"{NAMESPACE}\" {public_key}\n"),
        )
        .and_then(|_| std::fs::write(&sig, &*signature))
        .map_err(|e| format!("cannot verify commit {short}: {e}"))?;
        let mut child = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-n", NAMESPACE, "-I", "ledger", "-f"])
            .arg(&allowed)
            .arg("-s")
            .arg(&sig)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot verify commit {short}: ssh-keygen: {e}"))?;
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(&data);
        }
        match child.wait() {
            Ok(status) if status.success() => Ok(()),
            _ => Err(format!(
                "commit {short} is not signed by the key its writer registered"
            )),
        }
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
                    && event.kind == kind::WRITER_REGISTERED
                    && event.writer == writer
                    && let Some(key) = event.body_str("signing_key")
                {
                    walk.key = Some((walk.chain.len(), key.to_string()));
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

/// A private directory for the files `ssh-keygen -Y verify` reads, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "git-ledger-verify-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
