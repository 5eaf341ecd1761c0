-- PostgreSQL twin of ../20261203000100_public_codes.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- The short, unguessable code under which anyone verifies a document on the public
-- pages: its QR code opens {public_base_url}/v/{code} (issue 13). Documents issued
-- before get one too (their QR codes still carry their names).
ALTER TABLE documents ADD COLUMN public_code TEXT;
-- 80 bits from gen_random_uuid's 122 random ones (pgcrypto is not assumed).
UPDATE documents SET public_code = substr(md5(gen_random_uuid()::text), 1, 20) WHERE public_code IS NULL;
CREATE UNIQUE INDEX documents_public_code ON documents (public_code);
