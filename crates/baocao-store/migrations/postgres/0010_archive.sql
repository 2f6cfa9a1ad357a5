-- Archive packages (BagIt bags) loaded for consultation: each file as it
-- was in the bag, with its checksum. Loaded, never changed.
CREATE TABLE archive_packages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_key   TEXT NOT NULL,
    unit_code   TEXT NOT NULL,
    unit_name   TEXT NOT NULL,
    oxum        TEXT NOT NULL,
    info        TEXT NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (group_key, unit_code)
);

CREATE TABLE archive_files (
    package_id  BIGINT NOT NULL REFERENCES archive_packages (id),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     BYTEA NOT NULL,
    PRIMARY KEY (package_id, path)
);
