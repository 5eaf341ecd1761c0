-- PostgreSQL twin of ../20261203000200_extension.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- PAdES B-LT / B-LTA: the level a document was extended to ('' none, 'B-LT', 'B-LTA') and,
-- for B-LTA, when the certificate of its last document timestamp expires (RFC 3339): the
-- archive job renews the timestamp before then.
ALTER TABLE documents ADD COLUMN extension_level TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN archive_expire_time TEXT;
CREATE INDEX documents_archive_expire ON documents (archive_expire_time)
    WHERE archive_expire_time IS NOT NULL;
