//! Where documents' bytes live: in the database's `documents` row (the default), or in an
//! S3-compatible object store (`documents_url = "s3://bucket/prefix"`), content-addressed
//! by SHA-256: `{prefix}/documents/{sha256}.pdf` and `{prefix}/documents/{sha256}.p7s`.
//!
//! The objects are written before the row that names them is committed, so a row never
//! lacks its bytes; an object whose row never committed is harmless (same bytes, same
//! key). Bytes read back are hashed against the row's SHA-256 before they are served.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

use super::{Result, StoreError};

#[derive(Clone, Debug, Default)]
pub enum Blobs {
    #[default]
    Database,
    ObjectStore {
        store: Arc<dyn ObjectStore>,
        prefix: String,
    },
}

/// The object key of bytes with SHA-256 `sha256` (`pdf` or `p7s`).
fn key(prefix: &str, sha256: &str, extension: &str) -> Path {
    let name = format!("documents/{sha256}.{extension}");
    Path::from(if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    })
}

impl Blobs {
    /// The store `documents_url` names: `None` or empty for the database, `s3://bucket`
    /// or `s3://bucket/prefix` for S3, with `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and `AWS_ALLOW_HTTP` from the environment.
    pub fn from_url(url: Option<&str>) -> Result<Self> {
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return Ok(Self::Database);
        };
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            StoreError::FailedPrecondition(format!(
                "documents_url {url:?}: only s3://bucket/prefix is supported"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::FailedPrecondition(format!(
                "documents_url {url:?} names no bucket"
            )));
        }
        use object_store::aws::AmazonS3ConfigKey;
        use object_store::{ClientConfigKey, RetryConfig};
        // A store that does not answer fails the call within seconds (UNAVAILABLE, the
        // client retries), rather than holding it for the crate's default 3 minutes.
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            )
            .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), "30s")
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(15),
                ..RetryConfig::default()
            })
            .build()
            .map_err(|e| StoreError::FailedPrecondition(format!("documents_url {url:?}: {e}")))?;
        Ok(Self::ObjectStore {
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    pub fn in_database(&self) -> bool {
        matches!(self, Self::Database)
    }

    /// Writes a document's PDF and CMS to the object store (nothing for the database).
    pub async fn put(&self, pdf: &[u8], cms: &[u8]) -> Result<()> {
        let Self::ObjectStore { store, prefix } = self else {
            return Ok(());
        };
        for (bytes, extension) in [(pdf, "pdf"), (cms, "p7s")] {
            let sha256 = hex::encode(Sha256::digest(bytes));
            store
                .put(
                    &key(prefix, &sha256, extension),
                    PutPayload::from(bytes.to_vec()),
                )
                .await
                .map_err(|e| StoreError::Unavailable(format!("object store: {e}")))?;
        }
        Ok(())
    }

    /// The bytes with SHA-256 `sha256` (`pdf` or `p7s`), checked against it.
    pub async fn get(&self, sha256: &str, extension: &str) -> Result<Vec<u8>> {
        let Self::ObjectStore { store, prefix } = self else {
            return Err(StoreError::Corrupt(format!(
                "a document stored in an object store, but no documents_url is configured \
                 (bytes {sha256}.{extension})"
            )));
        };
        let bytes = store
            .get(&key(prefix, sha256, extension))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    StoreError::Corrupt(format!("object {sha256}.{extension} is missing"))
                }
                e => StoreError::Unavailable(format!("object store: {e}")),
            })?
            .bytes()
            .await
            .map_err(|e| StoreError::Unavailable(format!("object store: {e}")))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(StoreError::Corrupt(format!(
                "object {sha256}.{extension} does not hash to its name"
            )));
        }
        Ok(bytes.to_vec())
    }
}
