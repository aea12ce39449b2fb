-- +goose Up
-- An event's picture (issue 20, docs/organisers.md "Pictures"): the
-- upload is decoded, scaled to a few widths and re-encoded, which drops
-- every byte of metadata (EXIF, GPS, XMP); only the re-encoded copies are
-- kept, in PostgreSQL, so that there is no second store to run or back up.
CREATE TABLE event_images (
    event_id   bigint PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    -- Alt text per language; the event's default language is required.
    alt        jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_image_files (
    event_id     bigint NOT NULL REFERENCES event_images(event_id) ON DELETE CASCADE,
    width        int NOT NULL CHECK (width > 0),
    height       int NOT NULL CHECK (height > 0),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    -- sha256 of data, hex: the URL names the bytes, so they may be cached
    -- for ever; a new picture has new URLs.
    hash         text NOT NULL,
    data         bytea NOT NULL,
    PRIMARY KEY (event_id, width)
);
CREATE INDEX event_image_files_hash ON event_image_files (hash);

-- +goose Down
DROP TABLE event_image_files;
DROP TABLE event_images;
