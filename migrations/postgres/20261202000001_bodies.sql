-- PostgreSQL twin of ../20261202000001_bodies.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- The state bodies' profiles: who issues and signs the documents of the quota process.
-- The ministry (the authorised body) and the 20 regions' local executive bodies exist
-- from the first start with their names; the head's position and name are set by the
-- bodies themselves (BodyService.UpdateBody) before they issue documents.
CREATE TABLE bodies (
    -- "ministry" or the region's KATO code.
    id               TEXT PRIMARY KEY NOT NULL,
    region_code      TEXT UNIQUE REFERENCES regions (kato),
    legal_name_ru    TEXT NOT NULL CHECK (legal_name_ru <> ''),
    legal_name_kk    TEXT NOT NULL CHECK (legal_name_kk <> ''),
    -- Whose signatories may sign the body's documents; '' = the configured default.
    bin              TEXT NOT NULL,
    address_ru       TEXT NOT NULL,
    head_position_ru TEXT NOT NULL,
    head_full_name   TEXT NOT NULL,
    revision         BIGINT NOT NULL,
    update_time      TEXT NOT NULL,
    sort_order       BIGINT NOT NULL,
    CHECK ((id = 'ministry') = (region_code IS NULL)),
    CHECK (region_code IS NULL OR id = region_code)
);

INSERT INTO bodies VALUES (
    'ministry', NULL,
    'Министерство труда и социальной защиты населения Республики Казахстан',
    'Қазақстан Республикасы Еңбек және халықты әлеуметтік қорғау министрлігі',
    '', 'г. Астана', '', '', 1, '2026-12-02T00:00:00.000000Z', 0);

-- A region's local executive body; Kazakh: "Ақмола облысы" → "Ақмола облысының
-- жергілікті атқарушы органы" (every name_kk ends in "облысы" or "қаласы").
INSERT INTO bodies
SELECT kato, kato, body_name_ru,
       substr(name_kk, 1, length(name_kk) - 1) || 'ының жергілікті атқарушы органы',
       '', 'г. ' || admin_center_ru, '', '', 1, '2026-12-02T00:00:00.000000Z', sort_order
FROM regions;
