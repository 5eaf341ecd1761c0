//! Persistence over SQLite. Only this module speaks SQL; each command runs in one
//! transaction so nothing is half-written.

pub mod applications;
pub mod audit;
pub mod bodies;
pub mod calendar;
pub mod copy;
pub mod documents;
pub mod principals;
pub mod quota;
pub mod regional;
pub mod regions;
pub mod signing;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use applications::{ApplicationRow, ApplicationState, LineRow, ListFilter};
pub use documents::{DocumentRow, NewDocument};
pub use regions::RegionRow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("the etag does not match the stored {0}: read it again and retry")]
    EtagMismatch(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("the database is busy; retry")]
    Busy,
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    /// SQLite's BUSY and LOCKED (and their extended codes) after the busy timeout mean
    /// "retry", not a fault: they become [`StoreError::Busy`].
    fn from(e: sqlx::Error) -> Self {
        let busy = matches!(&e, sqlx::Error::Database(d)
            if d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6)));
        if busy {
            StoreError::Busy
        } else {
            StoreError::Db(e)
        }
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// One writer at a time (see [`Store::write_tx`]).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating if missing) the database, in WAL mode with foreign keys on, and
    /// applies the migrations compiled from `migrations/`.
    pub async fn open(url: &str) -> Result<Self> {
        if is_postgres(url) {
            return Err(StoreError::FailedPrecondition(
                "the service stores in SQLite only for now; `kvota migrate` prepares a \
                 PostgreSQL database's schema"
                    .into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            writer: Default::default(),
        })
    }

    /// Applies the migrations for the database at `url` and returns how many it holds:
    /// SQLite's from `migrations/`, PostgreSQL's (`postgres://…`) from
    /// `migrations/postgres/`, their twins table for table and column for column.
    pub async fn migrate(url: &str) -> Result<usize> {
        if is_postgres(url) {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
                .fetch_one(&pool)
                .await?;
            pool.close().await;
            return Ok(n as usize);
        }
        let store = Self::open(url).await?;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(store.pool())
            .await?;
        store.pool.close().await;
        Ok(n as usize)
    }

    /// The file a SQLite URL names, or `None` for an in-memory database; commands that
    /// only read an existing database check it is there before [`Store::open`] creates it.
    pub fn database_file(url: &str) -> Result<Option<std::path::PathBuf>> {
        let options = SqliteConnectOptions::from_str(url)?;
        let file = options.get_filename();
        Ok((file != std::path::Path::new(":memory:")).then(|| file.to_owned()))
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A consistent copy of the whole database at `path` (SQLite's `VACUUM INTO`), taken
    /// while the service keeps serving; refused if `path` exists.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(format!(
                "{} exists",
                path.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A transaction that takes SQLite's write lock at once. A plain `BEGIN` that reads
    /// and then writes fails with SQLITE_BUSY when another connection wrote meanwhile;
    /// `BEGIN IMMEDIATE` waits (busy_timeout) instead, so concurrent commands serialise.
    ///
    /// Writers also queue in the process first: SQLite's busy handler waits by sleeping
    /// (up to 100 ms a turn), so under many concurrent writers the database would idle
    /// while they sleep; a fair in-process queue hands the lock straight to the next one.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        Ok(WriteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _guard: guard,
        })
    }
}

/// A write transaction holding the process's writer turn until it commits or drops.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

/// Whether an error is SQLite's refusal of a duplicate in a unique index.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::StoreError;

    /// A write that waits out its busy timeout behind another connection's write lock
    /// comes back as `Busy` (retry), not as a database fault.
    #[tokio::test]
    async fn a_write_behind_another_writers_lock_is_busy_not_a_fault() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
        let mut holder = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut holder)
            .await
            .unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();

        let mut waiter = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut waiter)
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut waiter)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(e), StoreError::Busy));

        let other = sqlx::query("SELECT * FROM missing_table")
            .execute(&mut waiter)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(other), StoreError::Db(_)));
    }
}
