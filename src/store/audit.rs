//! The audit trail: one record per state change, written inside the change's own
//! transaction, each hashed over its fields and its predecessor's hash.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use chrono::{DateTime, Utc};

use super::{Result, Store, parse_ts, ts};
use crate::clock::Clock;
use crate::identity::Caller;

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who changes what, named in each audit record: handed explicitly to every write of
/// the store, by the service for a call or by a CLI command.
#[derive(Debug, Clone)]
pub struct Actor {
    pub who: String,
    pub role: String,
    /// The RPC (`kvota.v1.Service/Method`) or command.
    pub method: String,
    /// The service clock, so a record's time agrees with the times the change itself
    /// stores (a fixed clock fixes both).
    pub clock: Clock,
}

impl Actor {
    pub fn caller(caller: &Caller, method: impl Into<String>, clock: Clock) -> Self {
        Actor {
            who: caller.identity(),
            role: caller.role.as_str().to_owned(),
            method: method.into(),
            clock,
        }
    }

    /// The service itself (migrations, background jobs): "system".
    pub fn system(method: impl Into<String>, clock: Clock) -> Self {
        Actor {
            who: "system".into(),
            role: "SYSTEM".into(),
            method: method.into(),
            clock,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    /// When the change was made; hashed in its stored form (RFC 3339, microseconds).
    pub time: DateTime<Utc>,
    pub who: String,
    pub role: String,
    pub method: String,
    pub resource: String,
    pub region: Option<String>,
    pub before_digest: String,
    pub after_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record must carry: SHA-256 over its fields and the previous hash,
    /// each length-prefixed so no two field lists hash alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let time = ts(self.time);
        for field in [
            self.seq.to_string().as_str(),
            &time,
            &self.who,
            &self.role,
            &self.method,
            &self.resource,
            self.region.as_deref().unwrap_or(""),
            &self.before_digest,
            &self.after_digest,
            &self.prev_hash,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// The digest of a state: SHA-256 of its debug form, or "" for none (created/deleted).
pub fn digest<T: std::fmt::Debug + ?Sized>(state: Option<&T>) -> String {
    state
        .map(|s| hex::encode(Sha256::digest(format!("{s:?}").as_bytes())))
        .unwrap_or_default()
}

/// Appends a record for a change of `resource` to the chain, in the caller's transaction
/// (a write transaction: SQLite's write lock, or PostgreSQL's advisory lock that every
/// replica takes, so the chain cannot fork).
pub async fn record<B: std::fmt::Debug + ?Sized, A: std::fmt::Debug + ?Sized>(
    conn: &mut AnyConnection,
    actor: &Actor,
    resource: &str,
    region: Option<&str>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let last = sqlx::query("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev_hash) = match last {
        Some(r) => (
            r.try_get::<i64, _>("seq")? + 1,
            r.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS.to_owned()),
    };
    let mut rec = AuditRecord {
        seq,
        time: actor.clock.now(),
        who: actor.who.clone(),
        role: actor.role.clone(),
        method: actor.method.clone(),
        resource: resource.to_owned(),
        region: region.map(str::to_owned),
        before_digest: digest(before),
        after_digest: digest(after),
        prev_hash,
        hash: String::new(),
    };
    rec.hash = rec.compute_hash();
    sqlx::query(
        "INSERT INTO audit_records (seq, time, who, role, method, resource, region_code,
             before_digest, after_digest, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(rec.seq)
    .bind(ts(rec.time))
    .bind(&rec.who)
    .bind(&rec.role)
    .bind(&rec.method)
    .bind(&rec.resource)
    .bind(&rec.region)
    .bind(&rec.before_digest)
    .bind(&rec.after_digest)
    .bind(&rec.prev_hash)
    .bind(&rec.hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        time: parse_ts(&r.try_get::<String, _>("time")?)?,
        who: r.try_get("who")?,
        role: r.try_get("role")?,
        method: r.try_get("method")?,
        resource: r.try_get("resource")?,
        region: r.try_get("region_code")?,
        before_digest: r.try_get("before_digest")?,
        after_digest: r.try_get("after_digest")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

impl Store {
    /// Records after `after_seq`, oldest first, optionally of one region only.
    pub async fn list_audit_records(
        &self,
        region: Option<&str>,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_records
             WHERE seq > $1 AND ($2 IS NULL OR region_code = $3)
             ORDER BY seq LIMIT $4",
        )
        .bind(after_seq)
        .bind(region)
        .bind(region)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Walks the whole chain; the first broken link, if any, and how many records held.
    pub async fn verify_audit_chain(&self) -> Result<(i64, Option<BrokenLink>)> {
        let mut conn = self.pool().acquire().await?;
        let mut prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut last_seq = 0;
        loop {
            let rows =
                sqlx::query("SELECT * FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT 1000")
                    .bind(last_seq)
                    .fetch_all(&mut *conn)
                    .await?;
            if rows.is_empty() {
                return Ok((expected_seq - 1, None));
            }
            for r in rows.iter().map(from_row) {
                let r = r?;
                let broken = |reason: String| {
                    Ok((expected_seq - 1, Some(BrokenLink { seq: r.seq, reason })))
                };
                if r.seq != expected_seq {
                    return broken(format!(
                        "record {expected_seq} is missing (the next one is {})",
                        r.seq
                    ));
                }
                if r.prev_hash != prev {
                    return broken(format!(
                        "its prev_hash {} is not the hash of record {} ({prev})",
                        r.prev_hash,
                        r.seq - 1
                    ));
                }
                let h = r.compute_hash();
                if r.hash != h {
                    return broken(format!(
                        "its fields do not hash to its stored hash (stored {}, computed {h})",
                        r.hash
                    ));
                }
                prev = r.hash.clone();
                last_seq = r.seq;
                expected_seq += 1;
            }
        }
    }
}
