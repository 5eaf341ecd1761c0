-- PostgreSQL twin of ../20261125000005_signing.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- Signatures by the parties themselves, made in two steps (prepare, complete).

CREATE TABLE signing_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    document_id    TEXT NOT NULL REFERENCES documents (id),
    -- The document with the new signature's placeholder appended.
    prepared_pdf   BYTEA NOT NULL,
    contents_start BIGINT NOT NULL,
    contents_end   BIGINT NOT NULL,
    digest         TEXT NOT NULL,
    -- The document's SHA-256 when the session began: a change meanwhile ends it.
    base_sha256    TEXT NOT NULL,
    expire_time    TEXT NOT NULL,
    create_time    TEXT NOT NULL,
    complete_time  TEXT
);

-- Party signatures embedded in a document, in order after the service's seal.
CREATE TABLE document_signatures (
    document_id        TEXT NOT NULL REFERENCES documents (id),
    position           BIGINT NOT NULL,
    role               TEXT NOT NULL,
    signer             TEXT NOT NULL,
    signer_iin         TEXT,
    signer_bin         TEXT,
    certificate_serial TEXT NOT NULL,
    signing_time       TEXT NOT NULL,
    cms                BYTEA NOT NULL,
    -- The verification report at acceptance, as JSON.
    report_json        TEXT NOT NULL,
    PRIMARY KEY (document_id, position)
);
