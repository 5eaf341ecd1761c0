-- PostgreSQL twin of ../20261203000300_object_store.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- Documents in an object store (documents_url = "s3://bucket/prefix"): such a row keeps
-- its PDF and CMS empty and names them by their SHA-256 (object keys
-- {prefix}/documents/{sha256}.pdf and .p7s); pdf_size keeps the PDF's length either way.
ALTER TABLE documents ADD COLUMN in_object_store BIGINT NOT NULL DEFAULT 0
    CHECK (in_object_store IN (0, 1));
ALTER TABLE documents ADD COLUMN pdf_size BIGINT NOT NULL DEFAULT 0;
UPDATE documents SET pdf_size = length(pdf);
