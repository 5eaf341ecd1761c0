//! Persistence over SQLite (the embedded default) or PostgreSQL. Only this module speaks
//! SQL; each command runs in one transaction so nothing is half-written.
//!
//! Both backends run the same query texts through sqlx's `Any` driver: the queries are
//! plain SQL both engines accept (parameters numbered `$1`, `$2`, …; times as RFC 3339
//! text; integers, text and bytes only), and the few places that differ (the write lock,
//! busy errors, backups) branch on [`Backend`].

pub mod applications;
pub mod audit;
pub mod blobs;
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
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, postgres::PgPoolOptions};

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
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    /// SQLite's BUSY and LOCKED (and their extended codes) after the busy timeout, and
    /// PostgreSQL's serialization failure, deadlock and lock timeout, mean "retry", not a
    /// fault: they become [`StoreError::Busy`].
    fn from(e: sqlx::Error) -> Self {
        let busy = matches!(&e, sqlx::Error::Database(d) if match d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
            Some(_) => d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6)),
            None => d.code().is_some_and(|c| matches!(&*c, "40001" | "40P01" | "55P03")),
        });
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

/// The engine behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The key of the PostgreSQL advisory lock every write transaction takes: writers
/// serialise across replicas as they do on SQLite's single write lock, so each command's
/// checks and the audit chain's head are read and extended by one writer at a time.
const WRITE_LOCK_KEY: i64 = 0x4b766f7461; // "Kvota"

#[derive(Clone, Debug)]
pub struct Store {
    /// Readers' connections.
    pool: AnyPool,
    /// The connection write transactions run on (SQLite); on PostgreSQL, `pool`.
    write_pool: AnyPool,
    backend: Backend,
    /// Where documents' bytes live.
    blobs: blobs::Blobs,
    /// One writer at a time in this process (see [`Store::write_tx`]), and the audit
    /// chain's head as the last of them left it, if known.
    writer: std::sync::Arc<tokio::sync::Mutex<Option<audit::Head>>>,
}

impl Store {
    /// Opens the database and applies its migrations. SQLite (created if missing) runs in
    /// WAL mode with foreign keys on; PostgreSQL (`postgres://…`) must exist.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if is_postgres(url) {
            Self::migrate_postgres(url).await?;
            Backend::Postgres
        } else {
            // The file is made, set to WAL and migrated by the SQLite driver itself, whose
            // options the `Any` driver's URL cannot carry.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(Self::sqlite_options(url)?)
                .await?;
            sqlx::migrate!("./migrations").run(&pool).await?;
            pool.close().await;
            Backend::Sqlite
        };
        // Readers share a pool; write transactions have a connection of their own. On
        // SQLite a connection drops its page cache whenever another connection has
        // committed since it last read, so with writes spread over the readers' pool every
        // write transaction began by reading its tables' pages from the file again (~90
        // reads per create + submit, ~40 with the writer's cache kept). Writers take turns
        // anyway (see [`Store::write_tx`]). PostgreSQL serves both from one pool.
        let connect = |max_connections: u32| {
            // A pool checks an idle connection with a ping before handing it out; on
            // SQLite that is a round trip to the connection's thread for a file that
            // cannot hang up (four per create + submit). PostgreSQL's can, over the network.
            let options = AnyPoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(backend == Backend::Postgres);
            match backend {
                Backend::Sqlite => options.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA synchronous = NORMAL",
                        )
                        .await?;
                        Ok(())
                    })
                }),
                Backend::Postgres => options,
            }
            .connect(url)
        };
        let (pool, write_pool) = match backend {
            Backend::Sqlite => (connect(8).await?, connect(1).await?),
            Backend::Postgres => {
                let pool = connect(16).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            pool,
            write_pool,
            backend,
            blobs: blobs::Blobs::Database,
            writer: Default::default(),
        })
    }

    fn sqlite_options(url: &str) -> Result<SqliteConnectOptions> {
        Ok(SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10)))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The store with documents' bytes kept in `blobs` from now on (those kept in the
    /// database stay readable).
    pub fn with_blobs(mut self, blobs: blobs::Blobs) -> Self {
        self.blobs = blobs;
        self
    }

    pub fn blobs(&self) -> &blobs::Blobs {
        &self.blobs
    }

    /// Writes new documents' bytes to the object store, if one is configured, before the
    /// transaction that names them begins.
    pub(crate) async fn stage(&self, docs: &[&NewDocument]) -> Result<()> {
        for d in docs {
            self.blobs.put(&d.pdf, &d.cms).await?;
        }
        Ok(())
    }

    /// Applies the migrations for the database at `url` and returns how many it holds:
    /// SQLite's from `migrations/`, PostgreSQL's (`postgres://…`) from
    /// `migrations/postgres/`, their twins table for table and column for column.
    pub async fn migrate(url: &str) -> Result<usize> {
        if is_postgres(url) {
            return Self::migrate_postgres(url).await;
        }
        let store = Self::open(url).await?;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(store.pool())
            .await?;
        store.pool.close().await;
        Ok(n as usize)
    }

    async fn migrate_postgres(url: &str) -> Result<usize> {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&pool)
            .await?;
        pool.close().await;
        Ok(n as usize)
    }

    /// The file a SQLite URL names, or `None` for an in-memory or a PostgreSQL database;
    /// commands that only read an existing database check it is there before
    /// [`Store::open`] creates it.
    pub fn database_file(url: &str) -> Result<Option<std::path::PathBuf>> {
        if is_postgres(url) {
            return Ok(None);
        }
        let options = SqliteConnectOptions::from_str(url)?;
        let file = options.get_filename();
        Ok((file != std::path::Path::new(":memory:")).then(|| file.to_owned()))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A consistent copy of the whole database at `path` (SQLite's `VACUUM INTO`), taken
    /// while the service keeps serving; refused if `path` exists. PostgreSQL is backed
    /// up with its own tools (`pg_dump`, or continuous archiving).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if self.backend == Backend::Postgres {
            return Err(StoreError::FailedPrecondition(
                "kvota backup copies a SQLite database; back PostgreSQL up with pg_dump or \
                 its continuous archiving"
                    .into(),
            ));
        }
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

    /// A write transaction, one writer at a time.
    ///
    /// On SQLite it takes the write lock at once: a plain `BEGIN` that reads and then
    /// writes fails with SQLITE_BUSY when another connection wrote meanwhile; `BEGIN
    /// IMMEDIATE` waits (busy_timeout) instead, so concurrent commands serialise. On
    /// PostgreSQL the same is a transaction-scoped advisory lock, which serialises the
    /// writers of every replica on the database; each statement after it reads what
    /// the writers before committed (READ COMMITTED).
    ///
    /// Writers also queue in the process first: SQLite's busy handler waits by sleeping
    /// (up to 100 ms a turn), so under many concurrent writers the database would idle
    /// while they sleep; a fair in-process queue hands the lock straight to the next one.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        let tx = match self.backend {
            Backend::Sqlite => self.write_pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.write_pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(WriteTx {
            tx,
            writer: guard,
            head: None,
        })
    }
}

/// A write transaction holding the process's writer turn until it commits or drops.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// The turn, and the audit chain's head as of the last commit.
    writer: tokio::sync::OwnedMutexGuard<Option<audit::Head>>,
    /// The head this transaction's own records made, kept once it commits.
    head: Option<audit::Head>,
}

impl WriteTx {
    pub(crate) async fn commit(mut self) -> Result<()> {
        let head = self.head.take();
        let committed = self.tx.commit().await;
        // Unknown after a failed commit (it may have happened): read again next time.
        *self.writer = match committed {
            Ok(()) => head.or_else(|| self.writer.take()),
            Err(_) => None,
        };
        Ok(committed?)
    }

    /// The chain's head this transaction would extend, as far as the process knows
    /// without reading: its own last record's, else the last commit's.
    pub(crate) fn known_head(&self) -> Option<&audit::Head> {
        self.head.as_ref().or(self.writer.as_ref())
    }

    pub(crate) fn set_head(&mut self, head: audit::Head) {
        self.head = Some(head);
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
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

/// Whether an error is the database's refusal of a duplicate in a unique index.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, SqliteConnection};

    use super::StoreError;

    /// Write transactions run on one connection of their own (its page cache kept from
    /// one to the next): a temporary table, which only its connection sees, made in one
    /// write transaction is there in the next ones, also when they come concurrently;
    /// the readers' connections do not see it, yet see every committed write.
    #[tokio::test]
    async fn write_transactions_share_one_connection_and_readers_see_their_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let store = super::Store::open(&url).await.unwrap();
        // Several readers' connections open and idle, as in a busy service.
        drop(readers(&store).await);
        let mut tx = store.write_tx().await.unwrap();
        sqlx::query("CREATE TEMP TABLE writer_mark (n INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS main.t (n INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let writes = (0..16).map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.write_tx().await.unwrap();
                sqlx::query("INSERT INTO writer_mark VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO main.t VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        });
        for w in writes.collect::<Vec<_>>() {
            w.await.unwrap();
        }
        let mut tx = store.write_tx().await.unwrap();
        let marks: i64 = sqlx::query_scalar("SELECT count(*) FROM writer_mark")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(marks, 16);
        drop(tx);
        for mut r in readers(&store).await {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM main.t")
                .fetch_one(&mut *r)
                .await
                .unwrap();
            assert_eq!(n, 16);
            let temp = sqlx::query("SELECT count(*) FROM writer_mark")
                .fetch_one(&mut *r)
                .await;
            assert!(temp.is_err(), "a reader saw the writer's temporary table");
        }
    }

    /// Four of the readers' connections at once.
    async fn readers(store: &super::Store) -> Vec<sqlx::pool::PoolConnection<sqlx::Any>> {
        let mut readers = Vec::new();
        for _ in 0..4 {
            readers.push(store.pool().acquire().await.unwrap());
        }
        readers
    }

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
