-- Who may do what (issue 6): the principal registry, and the tamper-evident audit trail.

-- Binds certificate identities to the state bodies' roles. An entry with an IIN names a
-- person (optionally only at one BIN); an entry with only a BIN names every certificate
-- of that organisation. Certificates without an entry act as employers for themselves.
CREATE TABLE principals (
    id          INTEGER PRIMARY KEY,
    iin         TEXT CHECK (iin IS NULL OR (length(iin) = 12 AND iin NOT GLOB '*[^0-9]*')),
    bin         TEXT CHECK (bin IS NULL OR (length(bin) = 12 AND bin NOT GLOB '*[^0-9]*')),
    role        TEXT NOT NULL CHECK (role IN ('EMPLOYER', 'REGIONAL_BODY', 'COMMISSION', 'CENTRAL_BODY', 'MINISTRY')),
    region_code TEXT REFERENCES regions (kato),
    note        TEXT NOT NULL DEFAULT '',
    create_time TEXT NOT NULL,
    CHECK (iin IS NOT NULL OR bin IS NOT NULL),
    CHECK ((role IN ('REGIONAL_BODY', 'COMMISSION')) = (region_code IS NOT NULL))
);
CREATE UNIQUE INDEX principals_identity ON principals (coalesce(iin, ''), coalesce(bin, ''));

-- One record per state change, written in the change's own transaction. Each record's
-- hash covers its fields and the previous record's hash, so an edit or a deletion
-- anywhere breaks the chain from there on (`kvota audit verify`).
CREATE TABLE audit_records (
    seq           INTEGER PRIMARY KEY,
    time          TEXT NOT NULL,
    who           TEXT NOT NULL,
    role          TEXT NOT NULL,
    method        TEXT NOT NULL,
    resource      TEXT NOT NULL,
    region_code   TEXT,
    before_digest TEXT NOT NULL,
    after_digest  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_records_region ON audit_records (region_code, seq);
