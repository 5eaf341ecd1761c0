-- Kazakhstan's working-day calendar: the facts behind "working days" (рабочие дни) in the
-- Rules' deadlines (p. 11, 19). Saturday and Sunday are the weekly days off; the rest is here:
--   * holiday_rules: days off that recur every year, valid from from_year to to_year
--     inclusive (NULL = unbounded): the public holidays (Law RK "On holidays in RK" No. 267-II
--     of 13.12.2001, art. 5) and 7 January (Labour Code RK art. 84 p. 5). shifts_if_weekend = 1:
--     when the holiday falls on a Saturday or Sunday the day off moves to the next working day
--     (Law "On holidays", art. 5); 0 for 7 January, which never moves.
--   * dated_days_off: days off on one date only, such as the first day of Kurban ait, whose
--     date is set every year (lunar calendar) and which never moves (Labour Code art. 84 p. 5).
--   * day_transfers: the yearly transfers of days off (Labour Code art. 85 p. 3), one row per
--     date: DAY_OFF on a weekday, WORKING_DAY on a Saturday or Sunday. A transfer on a holiday
--     is refused by Calendar::new; a CHECK here cannot see the other tables.
-- The rules that combine these facts live in src/domain/calendar.rs; the same facts are
-- embedded in src/domain/calendar_reference.json so the domain needs no database. Seeded from
-- the project's reference data (reference/kazakhstan.json, key "holidays"); the API adds
-- later years' Kurban ait dates and transfers.

CREATE TABLE holiday_rules (
    id                INTEGER PRIMARY KEY,
    month             INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    day               INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),
    name_ru           TEXT NOT NULL CHECK (length(trim(name_ru)) > 0),
    shifts_if_weekend INTEGER NOT NULL CHECK (shifts_if_weekend IN (0, 1)),
    from_year         INTEGER,
    to_year           INTEGER,
    -- A day that exists in every year: no 30 February, and no 29 February either (a one-off
    -- date belongs in dated_days_off). date(x, '+0 days') rewrites 2001-02-30 as 2001-03-02,
    -- so a day that does not exist is not its own normal form.
    CHECK (date(printf('2001-%02d-%02d', month, day), '+0 days') IS printf('2001-%02d-%02d', month, day)),
    CHECK (from_year IS NULL OR to_year IS NULL OR from_year <= to_year)
) STRICT;

CREATE TABLE dated_days_off (
    -- 'YYYY-MM-DD', a date that exists.
    date              TEXT PRIMARY KEY NOT NULL CHECK (date(date, '+0 days') IS date),
    name_ru           TEXT NOT NULL CHECK (length(trim(name_ru)) > 0),
    shifts_if_weekend INTEGER NOT NULL CHECK (shifts_if_weekend IN (0, 1))
) STRICT;

CREATE TABLE day_transfers (
    date    TEXT PRIMARY KEY NOT NULL CHECK (date(date, '+0 days') IS date),
    kind    TEXT NOT NULL CHECK (kind IN ('DAY_OFF', 'WORKING_DAY')),
    note_ru TEXT NOT NULL,
    -- strftime('%w'): 0 = Sunday, 6 = Saturday. A transfer makes a weekday a day off or a
    -- weekend day a working day; anything else is a typo.
    CHECK ((kind = 'DAY_OFF') = (strftime('%w', date) NOT IN ('0', '6')))
) STRICT;

INSERT INTO holiday_rules (month, day, name_ru, shifts_if_weekend, from_year, to_year) VALUES
  (1, 1, 'Новый год', 1, NULL, NULL),
  (1, 2, 'Новый год', 1, NULL, NULL),
  (1, 7, 'Православное Рождество', 0, NULL, NULL),
  (3, 8, 'Международный женский день', 1, NULL, NULL),
  (3, 15, 'День Конституции (с 2027)', 1, 2027, NULL),
  (3, 21, 'Наурыз мейрамы', 1, NULL, NULL),
  (3, 22, 'Наурыз мейрамы', 1, NULL, NULL),
  (3, 23, 'Наурыз мейрамы', 1, NULL, NULL),
  (5, 1, 'Праздник единства народа Казахстана', 1, NULL, NULL),
  (5, 7, 'День защитника Отечества', 1, NULL, NULL),
  (5, 9, 'День Победы', 1, NULL, NULL),
  (7, 6, 'День Столицы', 1, NULL, NULL),
  (8, 30, 'День Конституции (до 2025 включительно)', 1, NULL, 2025),
  (10, 25, 'День Республики', 1, NULL, NULL),
  (12, 16, 'День Независимости', 1, NULL, NULL);

INSERT INTO dated_days_off (date, name_ru, shifts_if_weekend) VALUES
  ('2024-06-16', 'Курбан айт (первый день)', 0),
  ('2025-06-06', 'Курбан айт (первый день)', 0),
  ('2026-05-27', 'Курбан айт (первый день)', 0);

INSERT INTO day_transfers (date, kind, note_ru) VALUES
  ('2024-05-04', 'WORKING_DAY', 'Рабочий день: выходной перенесён на среду 8 мая 2024 года'),
  ('2024-05-08', 'DAY_OFF', 'Перенос выходного дня с субботы 4 мая 2024 года на среду 8 мая 2024 года'),
  ('2025-01-03', 'DAY_OFF', 'Перенос выходного дня с воскресенья 5 января 2025 года на пятницу 3 января 2025 года'),
  ('2025-01-05', 'WORKING_DAY', 'Рабочий день: выходной перенесён на пятницу 3 января 2025 года');
