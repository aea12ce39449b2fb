-- +goose Up
-- Search (issue 20, docs/api.md "Search"): ?q= finds events by their titles
-- and descriptions in every language and by the organisation's name, in
-- PostgreSQL with a trigram index, ignoring case and diacritics.
--
-- Both extensions are trusted in PostgreSQL 13 and later: a database owner
-- without superuser rights may create them (docs/deployment.md). The
-- functions' SQL-standard bodies need PostgreSQL 14.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- search_fold is the one normal form that the indexed text and the query
-- both pass through. unaccent() is only STABLE because it reads its
-- dictionary through search_path; naming function and dictionary makes the
-- result depend on the arguments alone, so the wrapper may be IMMUTABLE and
-- used in an index and a generated column.
-- Beyond unaccent: Arabic harakat (U+064B..U+065F, U+0670) and the tatweel
-- (U+0640) go; Persian and Arabic spellings of yeh and kaf, and alef with
-- hamza or madda, and teh marbuta and heh, become one letter, so that a Persian keyboard finds Arabic
-- text and back.
-- +goose StatementBegin
CREATE FUNCTION search_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN lower(translate(
    regexp_replace(public.unaccent('public.unaccent'::regdictionary, t), '[\u064B-\u065F\u0670\u0640]', '', 'g'),
    'يىكأإآة', 'ییکاااه'));
-- +goose StatementEnd

-- search_events_text is what ?q= searches in an event: its titles and
-- descriptions in all languages, folded. (The organisation's name lives in
-- another table; the query looks it up there, by the same fold.)
-- +goose StatementBegin
CREATE FUNCTION search_events_text(title jsonb, description jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN search_fold(concat_ws(' ',
    (SELECT string_agg(v, ' ') FROM jsonb_each_text(COALESCE(title, '{}')) AS t(k, v)),
    (SELECT string_agg(v, ' ') FROM jsonb_each_text(COALESCE(description, '{}')) AS d(k, v))));
-- +goose StatementEnd

ALTER TABLE events ADD COLUMN search_text text NOT NULL
    GENERATED ALWAYS AS (search_events_text(title, description)) STORED;

-- The planner guesses how many events contain '%word%' from the column's
-- histogram, read only when it has 100 entries or more; with the default
-- statistics it guesses about a tenth of the table and scans it all, which
-- takes a multiple of the index's time (docs/performance.md "Search").
ALTER TABLE events ALTER COLUMN search_text SET STATISTICS 1000;

-- fastupdate off: events are written now and then by organisers, read on
-- every list. With the pending list a bulk of new events is not in the
-- index proper until the next vacuum, and until then the planner prices
-- the index above a scan of the table (30 ms instead of 2 at 10,000
-- events, docs/performance.md "Search").
CREATE INDEX events_search_trgm ON events USING gin (search_text gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX organisations_name_search_trgm ON organisations USING gin (search_fold(name) gin_trgm_ops) WITH (fastupdate = off);

-- +goose Down
DROP INDEX organisations_name_search_trgm;
DROP INDEX events_search_trgm;
ALTER TABLE events DROP COLUMN search_text;
DROP FUNCTION search_events_text(jsonb, jsonb);
DROP FUNCTION search_fold(text);
