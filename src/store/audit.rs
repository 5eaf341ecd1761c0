//! The audit trail: one record per state change, written inside the change's own
//! transaction, each hashed over its fields and its predecessor's hash.

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use chrono::{DateTime, Utc};

use super::{Result, Store, StoreError, WriteTx, parse_ts, ts};
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

/// The last record of the chain: the one the next record's `prev_hash` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    fn genesis() -> Self {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// The chain's head as stored.
async fn read_head(conn: &mut AnyConnection) -> Result<Head> {
    let last = sqlx::query("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match last {
        Some(r) => Head {
            seq: r.try_get("seq")?,
            hash: r.try_get("hash")?,
        },
        None => Head::genesis(),
    })
}

/// Appends a record for a change of `resource` to the chain, in the caller's write
/// transaction (SQLite's write lock, or PostgreSQL's advisory lock that every replica
/// takes, so the chain cannot fork).
///
/// The head it extends is the one this process's writers last left, without reading it:
/// the insert itself checks that it is still the stored head, and only when it is not
/// (another process or replica wrote since, or nothing is known yet) is the head read
/// and the record made again. A record is never stored after any but the current head.
pub(crate) async fn record<B: std::fmt::Debug + ?Sized, A: std::fmt::Debug + ?Sized>(
    tx: &mut WriteTx,
    actor: &Actor,
    resource: &str,
    region: Option<&str>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<()> {
    let (before_digest, after_digest) = (digest(before), digest(after));
    let time = actor.clock.now();
    let mut known = tx.known_head().cloned();
    loop {
        let (head, read) = match known.take() {
            Some(head) => (head, false),
            None => (read_head(tx).await?, true),
        };
        let mut rec = AuditRecord {
            seq: head.seq + 1,
            time,
            who: actor.who.clone(),
            role: actor.role.clone(),
            method: actor.method.clone(),
            resource: resource.to_owned(),
            region: region.map(str::to_owned),
            before_digest: before_digest.clone(),
            after_digest: after_digest.clone(),
            prev_hash: head.hash,
            hash: String::new(),
        };
        rec.hash = rec.compute_hash();
        let inserted = sqlx::query(
            "INSERT INTO audit_records (seq, time, who, role, method, resource, region_code,
                 before_digest, after_digest, prev_hash, hash)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
             WHERE COALESCE((SELECT hash FROM audit_records ORDER BY seq DESC LIMIT 1), $12) = $13",
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
        .bind(GENESIS)
        .bind(&rec.prev_hash)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 1 {
            tx.set_head(Head {
                seq: rec.seq,
                hash: rec.hash,
            });
            return Ok(());
        }
        if read {
            // Read under the write lock, and yet not the head: another writer without it.
            return Err(StoreError::Busy);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn append(store: &Store, n: i64) {
        let actor = Actor::system("test", Clock::System);
        let mut tx = store.write_tx().await.unwrap();
        for i in 0..n {
            record(&mut tx, &actor, "tests/x", None, None::<&()>, Some(&i))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// What `store`'s writers know of the head, and what is stored.
    async fn heads(store: &Store) -> (Option<Head>, Head) {
        let known = store.writer.lock().await.clone();
        let mut conn = store.pool().acquire().await.unwrap();
        (known, read_head(&mut conn).await.unwrap())
    }

    /// Records extend the head their process last left without reading it, and yet the
    /// chain holds when two processes write to one file (each process's known head goes
    /// stale when the other writes), when a transaction rolls back after its record, and
    /// with many writers of both at once.
    #[tokio::test]
    async fn records_extend_the_known_head_only_while_it_is_the_stored_one() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("a.db").display());
        let (a, b) = (
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        );
        append(&a, 2).await;
        let (known, stored) = heads(&a).await;
        assert_eq!(stored.seq, 2);
        assert_eq!(known, Some(stored));
        // `b` knows nothing yet; then `a`'s head is stale.
        append(&b, 1).await;
        append(&a, 1).await;
        append(&b, 2).await;
        // Rolled back after its record: the head known stays the committed one.
        {
            let actor = Actor::system("test", Clock::System);
            let mut tx = a.write_tx().await.unwrap();
            record(&mut tx, &actor, "tests/x", None, None::<&()>, Some(&0))
                .await
                .unwrap();
        }
        append(&a, 1).await;
        let (known, stored) = heads(&a).await;
        assert_eq!((stored.seq, known), (7, Some(stored)));
        let writers = (0..24).map(|i| {
            let store = if i % 3 == 0 { b.clone() } else { a.clone() };
            tokio::spawn(async move { append(&store, 1 + i % 2).await })
        });
        for w in writers.collect::<Vec<_>>() {
            w.await.unwrap();
        }
        assert_eq!(a.verify_audit_chain().await.unwrap(), (7 + 36, None));
        let (known, stored) = heads(&b).await;
        assert_eq!(stored.seq, 43);
        // `b` wrote last or `a` did; the other's head is stale or current.
        assert!(known.is_some_and(|k| k.seq <= 43));
    }
}
