//! The PostgreSQL migrations (`migrations/postgres/`) are the SQLite ones' twins: after
//! `kvota migrate` on each, the same tables with the same columns, of the same kind and
//! nullability, and the same seeded reference rows.

use std::collections::BTreeMap;
use std::process::Command;

use sqlx::Row;

use crate::helpers::*;
use crate::postgres::Postgres;

/// Table → column → (type, NOT NULL), types named as SQLite declares them.
type Schema = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn migrate(envs: &[(&str, &std::ffi::OsStr)]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_kvota"))
        .arg("migrate")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

async fn sqlite_schema(url: &str) -> Schema {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk
         FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Schema::new();
    for r in rows {
        // A primary key column is NOT NULL in PostgreSQL whatever it says.
        let not_null = r.get::<i64, _>("nn") == 1 || r.get::<i64, _>("pk") > 0;
        out.entry(r.get("t")).or_default().insert(
            r.get("c"),
            (r.get::<String, _>("ty").to_uppercase(), not_null),
        );
    }
    out
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty,
                is_nullable::text AS nullable
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = Schema::new();
    for r in rows {
        let ty = match r.get::<String, _>("ty").as_str() {
            "bigint" => "INTEGER".to_owned(),
            "text" => "TEXT".to_owned(),
            "bytea" => "BLOB".to_owned(),
            other => other.to_owned(),
        };
        out.entry(r.get("t"))
            .or_default()
            .insert(r.get("c"), (ty, r.get::<String, _>("nullable") == "NO"));
    }
    out
}

#[tokio::test]
async fn the_postgresql_migrations_make_the_sqlite_schema_table_for_table() {
    let pg = Postgres::start();
    let url = pg.url();
    let said = migrate(&[("KVOTA_DATABASE_URL", std::ffi::OsStr::new(&url))]);
    let count = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert!(
        said.contains(&format!("{count} migrations applied")),
        "{said}"
    );
    // Applying again changes nothing.
    migrate(&[("KVOTA_DATABASE_URL", std::ffi::OsStr::new(&url))]);
    let dir = tempfile::tempdir().unwrap();
    let said = migrate(&[("KVOTA_DATA_DIR", dir.path().as_os_str())]);
    assert!(
        said.contains(&format!("{count} migrations applied")),
        "{said}"
    );
    let sqlite_url = format!("sqlite://{}", dir.path().join("kvota.db").display());

    let lite = sqlite_schema(&sqlite_url).await;
    let pg_schema = postgres_schema(&url).await;
    assert!(lite.len() >= 25, "{:?}", lite.keys());
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg_schema.keys().collect::<Vec<_>>()
    );
    for (table, columns) in &lite {
        assert_eq!(columns, &pg_schema[table], "table {table}");
    }

    // The same reference data.
    let lite_pool = sqlx::SqlitePool::connect(&sqlite_url).await.unwrap();
    let pg_pool = sqlx::PgPool::connect(&url).await.unwrap();
    for table in [
        "regions",
        "bodies",
        "holiday_rules",
        "dated_days_off",
        "day_transfers",
        "treaty_countries",
    ] {
        // The table names are this list's own.
        let q = || sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
        let a: i64 = sqlx::query_scalar(q()).fetch_one(&lite_pool).await.unwrap();
        let b: i64 = sqlx::query_scalar(q()).fetch_one(&pg_pool).await.unwrap();
        assert_eq!(a, b, "{table}");
        assert!(a > 0, "{table}");
    }
    let kk: String = sqlx::query_scalar("SELECT legal_name_kk FROM bodies WHERE id = '110000000'")
        .fetch_one(&pg_pool)
        .await
        .unwrap();
    assert_eq!(kk, "Ақмола облысының жергілікті атқарушы органы");

    // The checks hold on PostgreSQL too: an impossible date, a Saturday "day off".
    for bad in [
        "INSERT INTO dated_days_off VALUES ('2027-02-30', 'x', 0)",
        "INSERT INTO day_transfers VALUES ('2027-01-09', 'DAY_OFF', 'a Saturday')",
        "INSERT INTO holiday_rules (month, day, name_ru, shifts_if_weekend) VALUES (2, 30, 'x', 0)",
    ] {
        assert!(
            sqlx::query(bad).execute(&pg_pool).await.is_err(),
            "{bad} was accepted"
        );
    }
}

#[tokio::test]
async fn kvota_copy_moves_a_season_to_postgresql_and_verifies_it() {
    // The copy's source is SQLite whichever backend the run tests.
    crate::postgres::on_sqlite(copy_moves_a_season()).await;
}

async fn copy_moves_a_season() {
    let app = crate::seed::twenty_regions_file().await;
    let from = app.config.database_url();
    let pg = Postgres::start();
    let copy = |to: &str| {
        Command::new(env!("CARGO_BIN_EXE_kvota"))
            .args(["copy", "--from", &from, "--to", to])
            .output()
            .unwrap()
    };
    let o = copy(&pg.url());
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("audit chain of") && out.contains("intact"),
        "{out}"
    );
    assert!(out.contains("applications: 20 rows"), "{out}");
    // Row for row: every table's count is SQLite's.
    let lite = sqlx::SqlitePool::connect(&from).await.unwrap();
    let pg_pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
    for table in [
        "applications",
        "application_lines",
        "documents",
        "audit_records",
        "bodies",
    ] {
        let q = || sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"));
        let a: i64 = sqlx::query_scalar(q()).fetch_one(&lite).await.unwrap();
        let b: i64 = sqlx::query_scalar(q()).fetch_one(&pg_pool).await.unwrap();
        assert_eq!(a, b, "{table}");
        assert!(out.contains(&format!("{table}: {a} rows")), "{out}");
    }
    // The same bytes: a sealed PDF read back from PostgreSQL is the one served.
    let (id, pdf): (String, Vec<u8>) = sqlx::query_as("SELECT id, pdf FROM documents LIMIT 1")
        .fetch_one(&pg_pool)
        .await
        .unwrap();
    assert_eq!(
        app.download(
            &format!("documents/{id}"),
            kvota::api::pb::DocumentFormat::Pdf
        )
        .await,
        pdf
    );
    // A second copy into the now filled database is refused, and changes nothing.
    let o = copy(&pg.url());
    assert!(!o.status.success());
    assert!(text(&o).contains("copy into an empty one"), "{}", text(&o));
    app.stop().await;
}
