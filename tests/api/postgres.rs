//! A real PostgreSQL for the tests: Debian's server (`postgresql`), a cluster made by
//! `initdb` in a temporary directory and started by `pg_ctl` on a free loopback port,
//! stopped and removed when dropped. Run as the `postgres` user when the tests run as
//! root (the server refuses root).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The server's programs: `pg_config --bindir`, else the newest under
/// /usr/lib/postgresql.
fn bindir() -> PathBuf {
    if let Ok(o) = Command::new("pg_config").arg("--bindir").output()
        && o.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed (Debian's postgresql; .ci/test installs it)")
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql")
}

fn as_server_user(program: &Path) -> Command {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc_geteuid() } == 0;
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

impl Postgres {
    pub fn start() -> Self {
        let bin = bindir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // SAFETY: as above.
        if unsafe { libc_geteuid() } == 0 {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster's directory");
        }
        let o = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "kvota",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            dir.path().display()
        );
        let o = as_server_user(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-w", "-l"])
            .arg(dir.path().join("server.log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&o.stdout),
            std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
        );
        let pg = Self { dir, bin, port };
        pg.psql("CREATE DATABASE kvota");
        pg
    }

    /// Runs one SQL command in the maintenance database.
    pub fn psql(&self, sql: &str) {
        let o = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "kvota",
            ])
            .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    fn stop(&self) {
        let _ = as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }

    /// The test database's URL.
    pub fn url(&self) -> String {
        format!("postgres://kvota@127.0.0.1:{}/kvota", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether this run tests on PostgreSQL (`KVOTA_TEST_DB=postgres`): then every service a
/// test spawns stores in a database of its own on one cluster the run shares.
pub fn selected() -> bool {
    std::env::var("KVOTA_TEST_DB").is_ok_and(|v| v == "postgres")
}

static SHARED: std::sync::OnceLock<Postgres> = std::sync::OnceLock::new();

unsafe extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

/// Stops the shared cluster when the test binary exits (the harness ends with `exit`).
extern "C" fn stop_shared() {
    if let Some(pg) = SHARED.get() {
        pg.stop();
    }
}

/// A new, empty database on the run's shared cluster (started on first use): its URL.
pub fn fresh_database() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let pg = SHARED.get_or_init(|| {
        let pg = Postgres::start();
        // SAFETY: registers a plain function; it runs once, at exit.
        unsafe { atexit(stop_shared) };
        pg
    });
    let name = format!(
        "kvota_{}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    pg.psql(&format!("CREATE DATABASE {name}"));
    format!("postgres://kvota@127.0.0.1:{}/{name}", pg.port)
}

tokio::task_local! {
    static ON_SQLITE: ();
}

/// Runs `test` with its services on SQLite whatever `KVOTA_TEST_DB` says: for what only
/// SQLite has (`kvota backup`'s file copy, the source of `kvota copy`).
pub async fn on_sqlite<F: std::future::Future>(test: F) -> F::Output {
    ON_SQLITE.scope((), test).await
}

/// Whether the services spawned here store in PostgreSQL.
pub fn in_use() -> bool {
    selected() && ON_SQLITE.try_with(|_| ()).is_err()
}
