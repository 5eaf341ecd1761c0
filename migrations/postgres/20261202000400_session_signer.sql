-- PostgreSQL twin of ../20261202000400_session_signer.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- The certificate a signing session was prepared for (SHA-256 of its DER): its
-- visible box names that signer, so only a CMS by the same certificate completes it.
ALTER TABLE signing_sessions ADD COLUMN signer_certificate_sha256 TEXT;
