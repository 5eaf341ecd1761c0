-- PostgreSQL twin of ../20261125000001_initial.sql: the same tables and columns (tests/api/schema.rs
-- compares them); INTEGER is BIGINT, BLOB is BYTEA, SQLite-only checks rewritten.
-- Kvota's first schema: regions (seeded), employer applications, documents.
-- Migrations are append-only: change the schema with a new file.

-- The 20 regions among which the quota is distributed (Rules p. 19, 20): 17 oblasts, the
-- cities of republican significance Almaty and Shymkent, and the capital Astana. Copied
-- from the project's reference data (KATO codes) so a clone needs nothing else.
CREATE TABLE regions (
    kato             TEXT PRIMARY KEY NOT NULL CHECK (length(kato) = 9),
    kato_prefix      TEXT NOT NULL,
    iso3166_2        TEXT NOT NULL,
    name_ru          TEXT NOT NULL,
    name_kk          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('oblast', 'city', 'capital')),
    admin_center_ru  TEXT NOT NULL,
    -- "Акмолинской области": the region in the genitive, for the forms' wording.
    name_genitive_ru TEXT NOT NULL,
    -- The addressee of Appendix 1: the region's local executive body.
    body_name_ru     TEXT NOT NULL,
    sort_order       BIGINT NOT NULL
);

INSERT INTO regions (kato, kato_prefix, iso3166_2, name_ru, name_kk, name_en, kind,
                     admin_center_ru, name_genitive_ru, body_name_ru, sort_order) VALUES
  ('100000000', '10', 'KZ-10', 'область Абай', 'Абай облысы', 'Abai Region', 'oblast', 'Семей', 'области Абай', 'Местный исполнительный орган области Абай', 1),
  ('110000000', '11', 'KZ-11', 'Акмолинская область', 'Ақмола облысы', 'Akmola Region', 'oblast', 'Кокшетау', 'Акмолинской области', 'Местный исполнительный орган Акмолинской области', 2),
  ('150000000', '15', 'KZ-15', 'Актюбинская область', 'Ақтөбе облысы', 'Aktobe Region', 'oblast', 'Актобе', 'Актюбинской области', 'Местный исполнительный орган Актюбинской области', 3),
  ('190000000', '19', 'KZ-19', 'Алматинская область', 'Алматы облысы', 'Almaty Region', 'oblast', 'Конаев', 'Алматинской области', 'Местный исполнительный орган Алматинской области', 4),
  ('230000000', '23', 'KZ-23', 'Атырауская область', 'Атырау облысы', 'Atyrau Region', 'oblast', 'Атырау', 'Атырауской области', 'Местный исполнительный орган Атырауской области', 5),
  ('270000000', '27', 'KZ-27', 'Западно-Казахстанская область', 'Батыс Қазақстан облысы', 'West Kazakhstan Region', 'oblast', 'Уральск', 'Западно-Казахстанской области', 'Местный исполнительный орган Западно-Казахстанской области', 6),
  ('310000000', '31', 'KZ-31', 'Жамбылская область', 'Жамбыл облысы', 'Zhambyl Region', 'oblast', 'Тараз', 'Жамбылской области', 'Местный исполнительный орган Жамбылской области', 7),
  ('330000000', '33', 'KZ-33', 'область Жетісу', 'Жетісу облысы', 'Jetisu Region', 'oblast', 'Талдыкорган', 'области Жетісу', 'Местный исполнительный орган области Жетісу', 8),
  ('350000000', '35', 'KZ-35', 'Карагандинская область', 'Қарағанды облысы', 'Karaganda Region', 'oblast', 'Караганда', 'Карагандинской области', 'Местный исполнительный орган Карагандинской области', 9),
  ('390000000', '39', 'KZ-39', 'Костанайская область', 'Қостанай облысы', 'Kostanay Region', 'oblast', 'Костанай', 'Костанайской области', 'Местный исполнительный орган Костанайской области', 10),
  ('430000000', '43', 'KZ-43', 'Кызылординская область', 'Қызылорда облысы', 'Kyzylorda Region', 'oblast', 'Кызылорда', 'Кызылординской области', 'Местный исполнительный орган Кызылординской области', 11),
  ('470000000', '47', 'KZ-47', 'Мангистауская область', 'Маңғыстау облысы', 'Mangystau Region', 'oblast', 'Актау', 'Мангистауской области', 'Местный исполнительный орган Мангистауской области', 12),
  ('550000000', '55', 'KZ-55', 'Павлодарская область', 'Павлодар облысы', 'Pavlodar Region', 'oblast', 'Павлодар', 'Павлодарской области', 'Местный исполнительный орган Павлодарской области', 13),
  ('590000000', '59', 'KZ-59', 'Северо-Казахстанская область', 'Солтүстік Қазақстан облысы', 'North Kazakhstan Region', 'oblast', 'Петропавловск', 'Северо-Казахстанской области', 'Местный исполнительный орган Северо-Казахстанской области', 14),
  ('610000000', '61', 'KZ-61', 'Туркестанская область', 'Түркістан облысы', 'Turkistan Region', 'oblast', 'Туркестан', 'Туркестанской области', 'Местный исполнительный орган Туркестанской области', 15),
  ('620000000', '62', 'KZ-62', 'область Ұлытау', 'Ұлытау облысы', 'Ulytau Region', 'oblast', 'Жезказган', 'области Ұлытау', 'Местный исполнительный орган области Ұлытау', 16),
  ('630000000', '63', 'KZ-63', 'Восточно-Казахстанская область', 'Шығыс Қазақстан облысы', 'East Kazakhstan Region', 'oblast', 'Усть-Каменогорск', 'Восточно-Казахстанской области', 'Местный исполнительный орган Восточно-Казахстанской области', 17),
  ('710000000', '71', 'KZ-71', 'город Астана', 'Астана қаласы', 'Astana', 'capital', 'Астана', 'города Астаны', 'Местный исполнительный орган города Астаны', 18),
  ('750000000', '75', 'KZ-75', 'город Алматы', 'Алматы қаласы', 'Almaty', 'city', 'Алматы', 'города Алматы', 'Местный исполнительный орган города Алматы', 19),
  ('790000000', '79', 'KZ-79', 'город Шымкент', 'Шымкент қаласы', 'Shymkent', 'city', 'Шымкент', 'города Шымкента', 'Местный исполнительный орган города Шымкента', 20);

-- Documents the service rendered and sealed: the PDF/A with its embedded PAdES signature
-- and the detached CMS over the same bytes.
CREATE TABLE documents (
    id                 TEXT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL,
    title              TEXT NOT NULL,
    subject            TEXT NOT NULL,
    pdf                BYTEA NOT NULL,
    cms                BYTEA NOT NULL,
    sha256             TEXT NOT NULL,
    cms_sha256         TEXT NOT NULL,
    signer             TEXT NOT NULL,
    certificate_serial TEXT NOT NULL,
    signer_iin         TEXT,
    signer_bin         TEXT,
    signing_time       TEXT NOT NULL,
    create_time        TEXT NOT NULL,
    seq                BIGINT NOT NULL UNIQUE
);
CREATE INDEX documents_subject ON documents (subject, seq);
CREATE INDEX documents_sha256 ON documents (sha256);

-- Employers' applications (Appendix 1, p. 6).
CREATE TABLE applications (
    id               TEXT PRIMARY KEY NOT NULL,
    seq              BIGINT NOT NULL UNIQUE,
    quota_year       BIGINT NOT NULL,
    region_code      TEXT NOT NULL REFERENCES regions (kato),
    employer_bin     TEXT NOT NULL CHECK (length(employer_bin) = 12),
    employer_name    TEXT NOT NULL,
    employer_address TEXT NOT NULL,
    justification    TEXT NOT NULL,
    head_position    TEXT NOT NULL,
    head_full_name   TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('DRAFT', 'SUBMITTED', 'WITHDRAWN')),
    revision         BIGINT NOT NULL,
    etag             TEXT NOT NULL,
    create_time      TEXT NOT NULL,
    update_time      TEXT NOT NULL,
    submit_time      TEXT,
    document_id      TEXT REFERENCES documents (id)
);
-- p. 6: one live application per employer, region and quota year; an employer working in
-- several regions files with each of them.
CREATE UNIQUE INDEX applications_one_live
    ON applications (employer_bin, region_code, quota_year)
    WHERE state <> 'WITHDRAWN';
CREATE INDEX applications_list ON applications (quota_year, region_code, seq);

CREATE TABLE application_lines (
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    occupation_code TEXT NOT NULL,
    occupation_name TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('1', '2', '3', '4', 'seasonal')),
    current_count   BIGINT NOT NULL CHECK (current_count BETWEEN 0 AND 100000),
    requested_count BIGINT NOT NULL CHECK (requested_count BETWEEN 0 AND 100000),
    PRIMARY KEY (application_id, position)
);

-- AIP-155: a CreateApplication repeated with the same request_id returns the first result.
CREATE TABLE request_ids (
    request_id     TEXT PRIMARY KEY NOT NULL,
    method         TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    create_time    TEXT NOT NULL
);
