//! The local index database (`.git/ledger/index.sqlite`): the folded state's entities with
//! the columns the hot views filter on, and the search text (`crate::index`). A disposable
//! copy keyed by the writer tips it stands for; the refs are the only source of truth.
//!
//! Tables of the projection (a state's six entity tables, `kind` 0–5):
//!
//! - `entity(key = kind << 32 | position, id, brief, sum)`: one row per entity, `brief` what
//!   `Briefed` says of it, `sum` the XXH3 of id and brief; and `entity_data(key, hash,
//!   data)`, its MessagePack compressed (Zstandard with a dictionary trained on the
//!   ledger's entities, kept in `meta`; the size first) and the XXH3 of that, apart so
//!   that the briefs the hot views scan sit densely in few pages. Both sums are checked
//!   where they are read (SQLite checks its pages' structure, not their contents);
//! - `keyed(kind, key, pos)`: the entities in each of a kind's key sets;
//! - `refs(kind, target, pos)`: the ids each entity refers to;
//! - `list(key = list << 32 | chunk, sum, bytes)`: the lists kept beside the tables (the
//!   ready flags, the objectives' progress), in chunks of one page each with their own sum,
//!   so that an update rewrites the chunks that changed, not the whole list; each list's
//!   length is in `meta`;
//! - `meta`: the state's small fields and the counts (with one sum over them), the
//!   dictionary (with its own sum, read when first needed) and the tips.

use git2::Oid;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use super::table::Damage;

/// The layout of the database. A database with any other `user_version` is rebuilt, never
/// read.
pub const SCHEMA_VERSION: i64 = 4;

/// The index by which entities are found by id (dropped and built again by a full write).
pub const ID_INDEX: &str = "entity_by_id";
pub const CREATE_ID_INDEX: &str =
    "CREATE UNIQUE INDEX IF NOT EXISTS entity_by_id ON entity(key >> 32, id);";

/// The `meta` key of the writer tips the projection stands for.
pub const STATE_TIPS: &str = "state_tips";
/// The name of the one tip an index being built stands for (with a random id): no ref is
/// named so, so a reader never takes it for the ledger.
pub const BUILDING: &str = "(building)";
/// The `meta` key of the writer tips the search text stands for.
pub const SEARCH_TIPS: &str = "search_tips";

/// Open (creating when there is none) the database at `path`. An error means the file
/// cannot be used as it is (the caller removes it and opens again); a database of another
/// schema version is such an error.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Rebuilt from the refs when lost, so durability is not worth an fsync, not even the
    // one a checkpoint makes (a third of its time at 1M). A process killed mid-write loses
    // nothing in WAL mode; a machine that loses power may leave a damaged file, which is
    // met like any other damage: rebuilt from the refs.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    // Pages read through a memory map, not a system call each.
    conn.pragma_update(None, "mmap_size", 1i64 << 32)?;
    // The last connection to close copies the write-ahead log into the database and
    // removes it: the command that wrote pays for its write. Leaving a small log to later
    // commands cost more: each process is the first to map the log's index, which SQLite
    // then rebuilds by reading and summing the whole log (0.33M of a `task add`'s 4.1M
    // instructions at 100k, with 800 KB left).
    prepare(conn)
}

/// Copy the write-ahead log into the database and empty it, when no other connection reads
/// through it. Best effort: a log left as it is costs reads, not correctness.
pub fn checkpoint(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// A database in memory only: for when no file can be written.
pub fn in_memory() -> rusqlite::Result<Connection> {
    prepare(Connection::open_in_memory()?)
}

fn prepare(conn: Connection) -> rusqlite::Result<Connection> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == 0 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL)
                 WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS entity(key INTEGER PRIMARY KEY, id TEXT NOT NULL,
                 brief BLOB NOT NULL, sum INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS entity_data(key INTEGER PRIMARY KEY,
                 hash INTEGER NOT NULL, data BLOB NOT NULL);
             {CREATE_ID_INDEX}
             CREATE TABLE IF NOT EXISTS keyed(kind INTEGER, key INTEGER, pos INTEGER,
                 PRIMARY KEY(kind, key, pos)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS refs(kind INTEGER, target TEXT, pos INTEGER,
                 PRIMARY KEY(kind, target, pos)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS list(key INTEGER PRIMARY KEY, sum INTEGER NOT NULL,
                 bytes BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS search_entity(rowid INTEGER PRIMARY KEY,
                 id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
             CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(title, body,
                 tokenize = 'unicode61 remove_diacritics 2');
             PRAGMA user_version = {SCHEMA_VERSION};
             COMMIT;"
        ))?;
    } else if version != SCHEMA_VERSION {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
            Some(format!("index schema {version}")),
        ));
    }
    // A file that merely starts like a database fails here rather than mid-command.
    conn.query_row("SELECT count(*) FROM meta", [], |_| Ok(()))?;
    Ok(conn)
}

/// Whether an error only means another process holds the database (writing it): wait for
/// it or leave it to them, never take it for damage.
pub fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The writer tips stored under `key`; `None` when there are none.
pub fn tips(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<(String, Oid)>>> {
    let Some(text) = meta(conn, key)? else {
        return Ok(None);
    };
    let mut tips = Vec::new();
    for line in String::from_utf8_lossy(&text).lines() {
        let parsed = line
            .split_once(' ')
            .and_then(|(name, oid)| Some((name.to_string(), Oid::from_str(oid).ok()?)));
        match parsed {
            Some(tip) => tips.push(tip),
            // Tips that do not read mean a damaged index: say so, it is rebuilt.
            None => return Err(rusqlite::Error::InvalidQuery),
        }
    }
    Ok(Some(tips))
}

/// Store `value` under `key` in `meta`.
pub fn set_meta(conn: &Connection, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Store the writer tips under `key`.
pub fn set_tips(conn: &Connection, key: &str, tips: &[(String, Oid)]) -> rusqlite::Result<()> {
    let text: String = tips
        .iter()
        .map(|(name, oid)| format!("{name} {oid}\n"))
        .collect();
    set_meta(conn, key, text.as_bytes())
}

/// The value under `key` in `meta`.
pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()
}

/// Store `bytes` under `key` in `meta`, their XXH3-64 after them (checked when first read,
/// not when the index is opened).
pub fn set_summed(conn: &Connection, key: &str, bytes: &[u8]) -> rusqlite::Result<()> {
    let mut value = bytes.to_vec();
    value.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(bytes).to_le_bytes());
    set_meta(conn, key, &value)
}

/// Bytes stored by [`set_summed`], if they pass their check (`None` when there is none).
pub fn read_summed(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    let Some(mut value) = meta(conn, key)? else {
        return Ok(None);
    };
    let at = value
        .len()
        .checked_sub(8)
        .ok_or(rusqlite::Error::InvalidQuery)?;
    let sum = value
        .get(at..)
        .and_then(|sum| <[u8; 8]>::try_from(sum).ok());
    value.truncate(at);
    match sum {
        Some(sum) if xxhash_rust::xxh3::xxh3_64(&value) == u64::from_le_bytes(sum) => {
            Ok(Some(value))
        }
        _ => Err(rusqlite::Error::InvalidQuery),
    }
}

/// The bytes of one chunk of a kept list: what fits a row in one page of 4 KiB, and a
/// multiple of every list's item size (1 and 8 bytes).
pub const LIST_CHUNK: usize = 4000;

/// The `meta` key of the length of kept list `list`.
fn list_length_key(list: u8) -> String {
    format!("list {list}")
}

/// A chunk's sum covers its row key too, so that chunks cannot trade places unnoticed.
fn chunk_sum(key: i64, bytes: &[u8]) -> i64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(bytes, key as u64) as i64
}

/// Store kept list `list` (a small number naming it), writing only the chunks that differ
/// from those stored: an update that changes a few items rewrites a page or two, not the
/// hundreds of KB a list holds at a million events.
pub fn set_list(conn: &Connection, list: u8, bytes: &[u8]) -> rusqlite::Result<()> {
    // A list's chunks are keyed as a table's entities are: `list << 32 | chunk`.
    let [first, end] = kind_range(list);
    let stored: std::collections::HashMap<i64, i64> = conn
        .prepare_cached("SELECT key, sum FROM list WHERE key >= ?1 AND key < ?2")?
        .query_map([first, end], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut put = conn.prepare_cached(
        "INSERT INTO list(key, sum, bytes) VALUES (?1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET sum = excluded.sum, bytes = excluded.bytes",
    )?;
    let mut key = first;
    for chunk in bytes.chunks(LIST_CHUNK) {
        let sum = chunk_sum(key, chunk);
        if stored.get(&key) != Some(&sum) {
            put.execute(params![key, sum, chunk])?;
        }
        key += 1;
    }
    if stored.keys().any(|&k| k >= key) {
        conn.prepare_cached("DELETE FROM list WHERE key >= ?1 AND key < ?2")?
            .execute([key, end])?;
    }
    set_meta(
        conn,
        &list_length_key(list),
        &(bytes.len() as u64).to_le_bytes(),
    )
}

/// A list stored by [`set_list`], if every chunk passes its check and they add up to its
/// length (`None` when there is none).
pub fn read_list(conn: &Connection, list: u8) -> rusqlite::Result<Option<Vec<u8>>> {
    let damaged = || rusqlite::Error::InvalidQuery;
    let Some(length) = meta(conn, &list_length_key(list))? else {
        return Ok(None);
    };
    let length = <[u8; 8]>::try_from(length.as_slice()).map_err(|_| damaged())?;
    let length = usize::try_from(u64::from_le_bytes(length)).map_err(|_| damaged())?;
    let [first, end] = kind_range(list);
    let mut statement = conn.prepare_cached(
        "SELECT key, sum, bytes FROM list WHERE key >= ?1 AND key < ?2 ORDER BY key",
    )?;
    let mut rows = statement.query([first, end])?;
    let (mut out, mut next) = (Vec::with_capacity(length.min(1 << 24)), first);
    while let Some(row) = rows.next()? {
        let (key, sum): (i64, i64) = (row.get(0)?, row.get(1)?);
        let bytes = row.get_ref(2)?.as_blob()?;
        if key != next || chunk_sum(key, bytes) != sum || out.len() + bytes.len() > length {
            return Err(damaged());
        }
        out.extend_from_slice(bytes);
        next += 1;
    }
    if out.len() != length {
        return Err(damaged());
    }
    Ok(Some(out))
}

/// The row key of the entity at position `pos` of table `kind`.
pub fn row_key(kind: u8, pos: usize) -> i64 {
    (i64::from(kind) << 32) | (pos as i64 & 0xffff_ffff)
}

/// The row keys of table `kind`: from the first, up to (not including) the next table's.
pub fn kind_range(kind: u8) -> [i64; 2] {
    [row_key(kind, 0), row_key(kind.saturating_add(1), 0)]
}

/// The position within its table of the entity with row key `key` (see [`row_key`]).
fn pos_of(key: i64) -> usize {
    (key & 0xffff_ffff) as usize
}

/// An entity's row as the hot views read it: its position, id and brief.
pub type Row = (usize, String, Vec<u8>);

/// The sum stored with a row's id and brief.
pub fn row_sum(id: &str, brief: &[u8]) -> i64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&(id.len() as u64).to_le_bytes());
    hasher.update(id.as_bytes());
    hasher.update(brief);
    hasher.digest() as i64
}

/// A row read as (key or position, id, brief, sum), checked against its sum.
fn checked_row(row: &rusqlite::Row) -> rusqlite::Result<Row> {
    let (at, id, brief, sum): (i64, String, Vec<u8>, i64) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    if row_sum(&id, &brief) != sum {
        return Err(rusqlite::Error::InvalidQuery);
    }
    Ok((pos_of(at), id, brief))
}

/// The database as one read transaction saw it: every read through a snapshot sees the
/// same state, whatever other processes write meanwhile (WAL keeps the pages it reads).
/// Any error is noted as damage (the ledger then reads the refs) and reads as nothing.
#[derive(Clone)]
pub struct Snapshot {
    conn: Arc<Mutex<Connection>>,
    /// Made from the index's dictionary when an entity is first unpacked.
    unpacker: Arc<OnceLock<Option<Unpacker>>>,
    pub damage: Damage,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Snapshot")
    }
}

impl Snapshot {
    /// Start a read transaction on `conn`: what `read` gets (the state's small fields) and
    /// every later read through the snapshot are of one moment.
    pub fn begin<R>(
        conn: Connection,
        damage: &Damage,
        read: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<(Snapshot, R)> {
        conn.execute_batch("BEGIN DEFERRED")?;
        let first = read(&conn)?;
        let snapshot = Snapshot {
            conn: Arc::new(Mutex::new(conn)),
            unpacker: Arc::default(),
            damage: damage.clone(),
        };
        Ok((snapshot, first))
    }

    /// Run a query; an error is damage and reads as `None`.
    fn with<R>(&self, query: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Option<R> {
        let result = match self.conn.lock() {
            Ok(conn) => query(&conn),
            Err(_) => Err(rusqlite::Error::InvalidQuery),
        };
        match result {
            Ok(r) => Some(r),
            Err(_) => {
                self.damage.note();
                None
            }
        }
    }

    /// Kept list `list` (see [`set_list`]), if it passes its checks and is made of
    /// `width`-byte items.
    pub fn list(&self, list: u8, width: usize) -> Option<Vec<u8>> {
        let value = self.with(|conn| read_list(conn, list)).flatten();
        let list = value.filter(|value| value.len().is_multiple_of(width));
        if list.is_none() {
            self.damage.note();
        }
        list
    }

    /// The row of the entity `id` of table `kind`.
    pub fn find(&self, kind: u8, id: &str) -> Option<Row> {
        self.with(|conn| {
            conn.prepare_cached(
                "SELECT key, id, brief, sum FROM entity WHERE key >> 32 = ?1 AND id = ?2",
            )?
            .query_row(params![kind, id], checked_row)
            .optional()
        })?
    }

    /// The id and brief of the entity at `pos`.
    pub fn row(&self, kind: u8, pos: usize) -> Option<Row> {
        self.with(|conn| {
            conn.prepare_cached("SELECT key, id, brief, sum FROM entity WHERE key = ?1")?
                .query_row([row_key(kind, pos)], checked_row)
        })
    }

    /// Every row of table `kind`, in position order.
    pub fn rows(&self, kind: u8) -> Option<Vec<Row>> {
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT key, id, brief, sum FROM entity WHERE key >= ?1 AND key < ?2
                 ORDER BY key",
            )?;
            let rows = query.query_map(kind_range(kind), checked_row)?;
            rows.collect()
        })
    }

    /// The decompressor of the entities' bytes, made from the index's dictionary (read
    /// through this snapshot) the first time.
    fn unpacker(&self) -> Option<&Unpacker> {
        self.unpacker
            .get_or_init(|| {
                let dictionary = self.with(|conn| read_summed(conn, DICTIONARY)).flatten()?;
                let unpacker = zstd::bulk::Decompressor::with_dictionary(&dictionary);
                unpacker.ok().map(Mutex::new)
            })
            .as_ref()
    }

    /// Unpack an entity's bytes read from the index (see [`unpack`]); noted as damage when
    /// they fail.
    fn unpack(&self, unpacker: Option<&Unpacker>, hash: i64, packed: &[u8]) -> Option<Vec<u8>> {
        let data = unpack(unpacker, hash, packed);
        if data.is_none() {
            self.damage.note();
        }
        data
    }

    /// The bytes of the entity at `pos`, if they hash to what was stored with them.
    pub fn data(&self, kind: u8, pos: usize) -> Option<Vec<u8>> {
        let (hash, data): (i64, Vec<u8>) = self.with(|conn| {
            conn.prepare_cached("SELECT hash, data FROM entity_data WHERE key = ?1")?
                .query_row([row_key(kind, pos)], |row| Ok((row.get(0)?, row.get(1)?)))
        })?;
        self.unpack(self.unpacker(), hash, &data)
    }

    /// Every entity's bytes of table `kind` with their positions; those that fail their
    /// check are left out (and noted).
    pub fn all_data(&self, kind: u8, mut each: impl FnMut(usize, Option<Vec<u8>>)) {
        // Made before the scan: making it reads the database too.
        let unpacker = self.unpacker();
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT key, hash, data FROM entity_data WHERE key >= ?1 AND key < ?2
                 ORDER BY key",
            )?;
            let mut rows = query.query(kind_range(kind))?;
            while let Some(row) = rows.next()? {
                let packed = row.get_ref(2)?.as_blob()?;
                each(
                    pos_of(row.get(0)?),
                    self.unpack(unpacker, row.get(1)?, packed),
                );
            }
            Ok(())
        });
    }

    /// The first `n` positions of table `kind` in key set `key`, ascending (read from the
    /// set's own index alone: no entity's row is read).
    pub fn keyed(&self, kind: u8, key: usize, n: usize) -> Option<Vec<u32>> {
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT pos FROM keyed WHERE kind = ?1 AND key = ?2 ORDER BY pos LIMIT ?3",
            )?;
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            let rows = query.query_map(params![kind, key as i64, n], |row| row.get::<_, i64>(0))?;
            rows.map(|p| p.map(|p| p as u32)).collect()
        })
    }

    /// The positions in table `kind` of the entities that refer to `target`, ascending.
    pub fn referring(&self, kind: u8, target: &str) -> Option<Vec<u32>> {
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT pos FROM refs WHERE kind = ?1 AND target = ?2 ORDER BY pos",
            )?;
            let rows = query.query_map(params![kind, target], |row| row.get::<_, i64>(0))?;
            rows.map(|p| p.map(|p| p as u32)).collect()
        })
    }

    /// The rows whose ids sort right before `id` and right from it (`id` itself included).
    pub fn near(&self, kind: u8, id: &str) -> Vec<Row> {
        self.with(|conn| {
            let mut found = Vec::new();
            for sql in [
                "SELECT key, id, brief, sum FROM entity WHERE key >> 32 = ?1 AND id < ?2
                 ORDER BY id DESC LIMIT 1",
                "SELECT key, id, brief, sum FROM entity WHERE key >> 32 = ?1 AND id >= ?2
                 ORDER BY id LIMIT 2",
            ] {
                let mut query = conn.prepare_cached(sql)?;
                let rows = query.query_map(params![kind, id], checked_row)?;
                for row in rows {
                    found.push(row?);
                }
            }
            Ok(found)
        })
        .unwrap_or_default()
    }

    /// Whether a stored id other than `except` starts with `prefix`: a probe of the id index
    /// alone (no row is read or checked; a damaged id can only make the caller look closer).
    pub fn has_other_starting_with(&self, kind: u8, prefix: &str, except: &str) -> bool {
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT id FROM entity WHERE key >> 32 = ?1 AND id >= ?2 ORDER BY id LIMIT 2",
            )?;
            let ids = query.query_map(params![kind, prefix], |row| row.get::<_, String>(0))?;
            for id in ids {
                let id = id?;
                if id != except {
                    return Ok(id.starts_with(prefix));
                }
            }
            Ok(false)
        })
        .unwrap_or(true)
    }

    /// The rows whose ids start with `prefix`, by id.
    pub fn starting_with(&self, kind: u8, prefix: &str) -> Option<Vec<Row>> {
        self.with(|conn| {
            let mut query = conn.prepare_cached(
                "SELECT key, id, brief, sum FROM entity WHERE key >> 32 = ?1 AND id >= ?2
                 ORDER BY id",
            )?;
            let mut rows = query.query(params![kind, prefix])?;
            let mut found = Vec::new();
            while let Some(row) = rows.next()? {
                let row = checked_row(row)?;
                if !row.1.starts_with(prefix) {
                    break;
                }
                found.push(row);
            }
            Ok(found)
        })
    }
}

/// The hash stored with an entity's packed bytes, as SQLite keeps it (a signed integer).
pub fn hash_of(data: &[u8]) -> i64 {
    xxhash_rust::xxh3::xxh3_64(data) as i64
}

/// The largest entity a stored size may announce: far above any real one (each text field
/// is at most a mebibyte), low enough that a forged size cannot exhaust memory.
const MAX_ENTITY_BYTES: usize = 256 << 20;

/// The `meta` key of the dictionary every entity's bytes are compressed with.
pub const DICTIONARY: &str = "dictionary";

/// The most a dictionary holds, and what it is trained on: a spread of up to this many
/// entities, up to this many bytes. Training on 1000 took a tenth of a cold read of 100k
/// events (100 ms); on 400, half that, and the index came out no larger.
const DICTIONARY_BYTES: usize = 16 << 10;
pub const SAMPLE_ENTITIES: usize = 400;
pub const SAMPLE_BYTES: usize = 1 << 20;

/// Zstandard's fastest regular level: with a dictionary, higher levels gain almost nothing
/// on entities this small.
const LEVEL: i32 = 1;

/// A dictionary trained on `samples`, the bytes of a spread of entities (empty with too few
/// to train on).
fn train_dictionary(samples: &[Vec<u8>]) -> Vec<u8> {
    zstd::dict::from_samples(samples, DICTIONARY_BYTES).unwrap_or_default()
}

/// Compresses entities' bytes as the index stores them: the size before compression (four
/// bytes, little-endian), then Zstandard with the index's dictionary.
pub struct Packer {
    compressor: zstd::bulk::Compressor<'static>,
    /// What tells its dictionary from another ([`Parking::packs_as`]).
    dictionary_hash: u64,
    /// Kept from one entity to the next: the bytes serialized, and compressed.
    serialized: Vec<u8>,
    out: Vec<u8>,
}

impl Packer {
    /// For a write of every entity: a dictionary trained on `samples` (the bytes of a spread
    /// of them), stored with the index. With too few samples to train on, no dictionary.
    pub fn train(conn: &Connection, samples: &[Vec<u8>]) -> rusqlite::Result<Packer> {
        Packer::storing(conn, &train_dictionary(samples))
    }

    /// For a write of what changed: the dictionary the index was written with.
    pub fn stored(conn: &Connection) -> rusqlite::Result<Packer> {
        let dictionary = read_summed(conn, DICTIONARY)?.ok_or(rusqlite::Error::InvalidQuery)?;
        Packer::with(&dictionary)
    }

    /// For a write of every entity, some of them parked ([`Parking`]): the parking's
    /// dictionary, stored with the index, so that parked bytes are written as they are.
    pub fn parked(conn: &Connection, parking: &Parking) -> rusqlite::Result<Packer> {
        Packer::storing(conn, &parking.dictionary)
    }

    /// A packer with `dictionary`, stored with the index for its readers and later writes.
    fn storing(conn: &Connection, dictionary: &[u8]) -> rusqlite::Result<Packer> {
        set_summed(conn, DICTIONARY, dictionary)?;
        Packer::with(dictionary)
    }

    fn with(dictionary: &[u8]) -> rusqlite::Result<Packer> {
        let compressor = zstd::bulk::Compressor::with_dictionary(LEVEL, dictionary)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Packer {
            compressor,
            dictionary_hash: xxhash_rust::xxh3::xxh3_64(dictionary),
            serialized: Vec::new(),
            out: Vec::new(),
        })
    }

    /// An entity's bytes as the index stores them.
    pub fn pack(&mut self, data: &[u8]) -> rusqlite::Result<Vec<u8>> {
        let failed = |e: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
        let size = u32::try_from(data.len())
            .ok()
            .filter(|&size| size as usize <= MAX_ENTITY_BYTES)
            .ok_or_else(|| failed(std::io::Error::other("entity too large for the index")))?;
        // Compressed into a buffer kept from call to call, then copied out at its size: one
        // allocation per entity, of the size kept.
        let out = &mut self.out;
        out.clear();
        out.resize(4 + zstd::zstd_safe::compress_bound(data.len()), 0);
        out[..4].copy_from_slice(&size.to_le_bytes());
        let compressed = (self.compressor)
            .compress_to_buffer(data, &mut out[4..])
            .map_err(failed)?;
        Ok(out[..4 + compressed].to_vec())
    }

    /// `value` serialized (MessagePack, field names kept) and packed.
    pub fn pack_value<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> rusqlite::Result<Vec<u8>> {
        let mut data = std::mem::take(&mut self.serialized);
        data.clear();
        let written = rmp_serde::encode::write_named(&mut data, value)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)));
        let packed = written.and_then(|()| self.pack(&data));
        self.serialized = data;
        packed
    }
}

/// Decompresses what a [`Packer`] wrote, with the dictionary of the snapshot's index.
type Unpacker = Mutex<zstd::bulk::Decompressor<'static>>;

/// An entity's bytes from what the index stored, if they hash to what was stored with them
/// and decompress to the size stored before them.
fn unpack(unpacker: Option<&Unpacker>, hash: i64, packed: &[u8]) -> Option<Vec<u8>> {
    if hash_of(packed) != hash {
        return None;
    }
    unpack_unchecked(unpacker, packed)
}

/// How a build of the index keeps the entities it took out of memory (`Table::park`):
/// packed as the index packs them, with a dictionary trained on the first entities folded.
/// The index is then written with that dictionary ([`Packer::parked`]), and a parked
/// entity's bytes go into it as they are.
pub struct Parking {
    dictionary: Vec<u8>,
    /// One per thread a sweep packs on ([`Parking::pack_each`]); never empty.
    packers: Vec<Mutex<Packer>>,
    unpacker: Unpacker,
}

impl std::fmt::Debug for Parking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Parking({} bytes of dictionary)", self.dictionary.len())
    }
}

impl Parking {
    /// A parking whose dictionary is trained on `samples` (none with too few of them).
    pub fn train(samples: &[Vec<u8>]) -> Option<Parking> {
        let dictionary = train_dictionary(samples);
        let packers = (0..crate::cores())
            .map(|_| Packer::with(&dictionary).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()
            .ok()?;
        let unpacker = zstd::bulk::Decompressor::with_dictionary(&dictionary).ok()?;
        Some(Parking {
            dictionary,
            packers,
            unpacker: Mutex::new(unpacker),
        })
    }

    /// Run `pack` on every item, spread over one thread per packer, each with its own: a
    /// sweep serializes and compresses tens of thousands of entities while the fold waits
    /// (and with it the threads that decode commits), so it uses every core. An item whose
    /// packer cannot be had is left as it was.
    pub fn pack_each<I: Send>(&self, items: &mut [I], pack: impl Fn(&mut I, &mut Packer) + Sync) {
        // Below this many a thread costs more than it saves.
        const ALONE: usize = 512;
        let per_thread = items.len().div_ceil(self.packers.len()).max(ALONE);
        let mut chunks = items.chunks_mut(per_thread).zip(&self.packers);
        let Some((own, own_packer)) = chunks.next() else {
            return;
        };
        let pack = &pack;
        let run = move |chunk: &mut [I], packer: &Mutex<Packer>| {
            if let Ok(mut packer) = packer.lock() {
                chunk.iter_mut().for_each(|item| pack(item, &mut packer));
            }
        };
        std::thread::scope(|scope| {
            for (chunk, packer) in chunks {
                scope.spawn(move || run(chunk, packer));
            }
            run(own, own_packer);
        });
    }

    /// Bytes [`Parking::pack_each`] packed, unpacked.
    pub fn unpack(&self, packed: &[u8]) -> Option<Vec<u8>> {
        unpack_unchecked(Some(&self.unpacker), packed)
    }

    /// Whether `packer` packs with this parking's dictionary (bytes parked are then what
    /// it would write).
    pub fn packs_as(&self, packer: &Packer) -> bool {
        self.packers
            .first()
            .and_then(|own| own.lock().ok())
            .is_some_and(|own| own.dictionary_hash == packer.dictionary_hash)
    }
}

/// Packed bytes, unpacked if they decompress to the size stored before them.
fn unpack_unchecked(unpacker: Option<&Unpacker>, packed: &[u8]) -> Option<Vec<u8>> {
    let size = u32::from_le_bytes(packed.get(..4)?.try_into().ok()?) as usize;
    if size > MAX_ENTITY_BYTES {
        return None;
    }
    let mut unpacker = unpacker?.lock().ok()?;
    let data = unpacker.decompress(packed.get(4..)?, size).ok()?;
    (data.len() == size).then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `set_list` changed: chunks written or deleted, and the length in `meta`.
    fn changes(conn: &Connection, f: impl FnOnce(&Connection)) -> u64 {
        let before = conn.total_changes();
        f(conn);
        conn.total_changes() - before
    }

    #[test]
    fn a_kept_list_is_rewritten_only_where_it_changed() {
        let conn = in_memory().expect("database");
        let mut list: Vec<u8> = (0..LIST_CHUNK * 2 + 1).map(|i| i as u8).collect();
        let written = changes(&conn, |c| set_list(c, 7, &list).expect("write"));
        assert_eq!(written, 3 + 1, "three chunks and the length");
        assert_eq!(read_list(&conn, 7).expect("read"), Some(list.clone()));

        list[LIST_CHUNK + 5] ^= 0xff;
        let written = changes(&conn, |c| set_list(c, 7, &list).expect("write"));
        assert_eq!(written, 1 + 1, "the chunk changed and the length");
        assert_eq!(read_list(&conn, 7).expect("read"), Some(list.clone()));

        list.truncate(10);
        let written = changes(&conn, |c| set_list(c, 7, &list).expect("write"));
        assert_eq!(
            written,
            1 + 2 + 1,
            "the first chunk, two deleted, the length"
        );
        assert_eq!(read_list(&conn, 7).expect("read"), Some(list.clone()));
        assert_eq!(read_list(&conn, 8).expect("read"), None, "another list");

        set_list(&conn, 7, &[]).expect("write");
        assert_eq!(read_list(&conn, 7).expect("read"), Some(Vec::new()));
    }

    #[test]
    fn a_kept_list_with_a_chunk_changed_moved_or_lost_does_not_read() {
        let damages = [
            "UPDATE list SET bytes = x'00' || bytes WHERE key = (1 << 32) + 1",
            "UPDATE list SET key = key + 10 WHERE key = (1 << 32) + 1",
            "DELETE FROM list WHERE key = (1 << 32) + 1",
            "UPDATE meta SET value = x'0100000000000000' WHERE key = 'list 1'",
        ];
        for damage in damages {
            let conn = in_memory().expect("database");
            set_list(&conn, 1, &[3; LIST_CHUNK * 3]).expect("write");
            conn.execute_batch(damage).expect(damage);
            assert!(read_list(&conn, 1).is_err(), "{damage}");
        }
    }

    #[test]
    fn a_sweep_packs_every_item_on_its_threads_as_one_packer_would() {
        let items: Vec<Vec<u8>> = (0..3000)
            .map(|i| format!("{{\"id\":\"t-{i:05}\",\"title\":\"task number {i}\"}}").into_bytes())
            .collect();
        let parking = Parking::train(&items).expect("a dictionary");
        let mut alone = Packer::with(&parking.dictionary).expect("packer");
        let mut slots: Vec<(&[u8], Option<Vec<u8>>)> =
            items.iter().map(|data| (data.as_slice(), None)).collect();
        parking.pack_each(&mut slots, |(data, packed), packer| {
            *packed = packer.pack(data).ok();
        });
        for (data, packed) in &slots {
            let packed = packed.as_deref().expect("every item packed");
            assert_eq!(packed, alone.pack(data).expect("pack").as_slice());
            assert_eq!(parking.unpack(packed).as_deref(), Some(*data));
        }
    }
}
