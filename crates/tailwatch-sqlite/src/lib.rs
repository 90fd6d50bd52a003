//! tailwatch-sqlite: one way to open tailwatch's SQLite files (the ledger, the watch server's
//! database). A file is ours when its `application_id` is the schema's; its `user_version` is the
//! number of migrations applied. Opening checks both, applies the missing migrations in one
//! transaction, and sets the pragmas every tailwatch database runs with. A file that is not ours,
//! or is from a newer tailwatch, is refused and left untouched.
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// A database kind: its application id and its migrations, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// `PRAGMA application_id` of this kind of file.
    pub application_id: i32,
    /// Migration `i` takes the schema from version `i` to `i + 1`.
    pub migrations: &'static [&'static str],
}

impl Schema {
    /// The schema version this build writes: the number of migrations.
    pub fn version(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// Where a database lives.
#[derive(Debug, Clone, Copy)]
pub enum Location<'a> {
    /// A file; created (as a new, empty database of the schema) only when `create` is set.
    File {
        /// The file.
        path: &'a Path,
        /// Create it when it does not exist.
        create: bool,
    },
    /// In memory (tests).
    Memory,
}

/// Why a database cannot be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file does not exist (and was not to be created).
    #[error("`{}` does not exist", .path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file is not an SQLite database.
    #[error("`{}` is not an SQLite database", .path.display())]
    NotSqlite {
        /// The file.
        path: PathBuf,
    },
    /// An SQLite database of another application (or another kind of tailwatch file).
    #[error("`{}` has SQLite application id {found:#x}, expected {expected:#x}", .path.display())]
    OtherApplication {
        /// The file.
        path: PathBuf,
        /// Its application id.
        found: i32,
        /// The schema's.
        expected: i32,
    },
    /// Written by a newer tailwatch.
    #[error("`{}` has schema version {found}; this build reads up to {supported}", .path.display())]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// SQLite failed.
    #[error("`{}`: {source}", .path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// The file could not be read.
    #[error("`{}`: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// An open database, and whether opening created it.
#[derive(Debug)]
pub struct Opened {
    /// The connection, with tailwatch's pragmas set.
    pub conn: Connection,
    /// Whether the database was new (the file was created, or was empty).
    pub created: bool,
}

/// Open a database of `schema` at `location`: check that it is ours and not newer, apply the
/// missing migrations in one transaction, and set WAL journaling, `synchronous = NORMAL` (a
/// committed transaction survives a killed process; only power loss can lose the last ones),
/// foreign keys and a 10 s busy timeout.
pub fn open(location: Location<'_>, schema: &Schema) -> Result<Opened, Error> {
    let (path, conn) = match location {
        Location::Memory => {
            let path = PathBuf::from(":memory:");
            let conn = Connection::open_in_memory()
                .map_err(|source| Error::Sqlite { path: path.clone(), source })?;
            (path, conn)
        }
        Location::File { path, create } => {
            let exists = path.exists();
            if !exists && !create {
                return Err(Error::Missing { path: path.to_path_buf() });
            }
            if exists && !is_sqlite_or_empty(path)? {
                return Err(Error::NotSqlite { path: path.to_path_buf() });
            }
            let flags = if create {
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            } else {
                OpenFlags::SQLITE_OPEN_READ_WRITE
            };
            let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| Error::Sqlite { path: path.to_path_buf(), source })?;
            (path.to_path_buf(), conn)
        }
    };
    prepare(conn, &path, schema)
}

fn is_sqlite_or_empty(path: &Path) -> Result<bool, Error> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut head = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]).map_err(io)? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read == 0 || (read == 16 && &head == b"SQLite format 3\0"))
}

fn prepare(mut conn: Connection, path: &Path, schema: &Schema) -> Result<Opened, Error> {
    let sqlite = |source| Error::Sqlite { path: path.to_path_buf(), source };
    conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(sqlite)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sqlite)?;
    let tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(sqlite)?;
    let created = app == 0 && version == 0 && tables == 0;
    if app != schema.application_id && !created {
        return Err(Error::OtherApplication {
            path: path.to_path_buf(),
            found: app,
            expected: schema.application_id,
        });
    }
    if version > schema.version() {
        return Err(Error::Newer { path: path.to_path_buf(), found: version, supported: schema.version() });
    }
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(sqlite)?;
    if version < schema.version() {
        let tx = conn.transaction().map_err(sqlite)?;
        for migration in &schema.migrations[version as usize..] {
            tx.execute_batch(migration).map_err(sqlite)?;
        }
        tx.pragma_update(None, "application_id", schema.application_id).map_err(sqlite)?;
        tx.pragma_update(None, "user_version", schema.version()).map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
    }
    Ok(Opened { conn, created })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "CREATE TABLE a (x INTEGER);";
    const V2: &str = "ALTER TABLE a ADD COLUMN y TEXT;";
    const ONE: Schema = Schema { application_id: 0x1234, migrations: &[V1] };
    const TWO: Schema = Schema { application_id: 0x1234, migrations: &[V1, V2] };

    #[test]
    fn creates_migrates_and_refuses_what_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let missing = open(Location::File { path: &path, create: false }, &ONE);
        assert!(matches!(missing, Err(Error::Missing { .. })));
        let first = open(Location::File { path: &path, create: true }, &ONE).unwrap();
        assert!(first.created);
        drop(first);
        // a newer build migrates it; the older one then refuses it
        let second = open(Location::File { path: &path, create: false }, &TWO).unwrap();
        assert!(!second.created);
        second.conn.execute("INSERT INTO a (x, y) VALUES (1, 'b')", []).unwrap();
        drop(second);
        let older = open(Location::File { path: &path, create: false }, &ONE);
        assert!(matches!(older, Err(Error::Newer { found: 2, supported: 1, .. })), "{older:?}");
        // another application's database, and a file that is not SQLite, are left alone
        let other = Schema { application_id: 0x9999, migrations: &[V1] };
        let refused = open(Location::File { path: &path, create: false }, &other);
        assert!(matches!(refused, Err(Error::OtherApplication { found: 0x1234, .. })), "{refused:?}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database").unwrap();
        let refused = open(Location::File { path: &text, create: true }, &ONE);
        assert!(matches!(refused, Err(Error::NotSqlite { .. })), "{refused:?}");
        assert_eq!(std::fs::read(&text).unwrap(), b"not a database");
        assert!(open(Location::Memory, &TWO).unwrap().created);
    }
}
