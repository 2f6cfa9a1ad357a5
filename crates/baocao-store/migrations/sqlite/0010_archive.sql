-- Archive packages (BagIt bags) loaded for consultation: each file as it
-- was in the bag, with its checksum. Loaded, never changed.
CREATE TABLE archive_packages (
    id          INTEGER PRIMARY KEY,
    group_key   TEXT NOT NULL,
    unit_code   TEXT NOT NULL,
    unit_name   TEXT NOT NULL,
    oxum        TEXT NOT NULL,
    info        TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,
    UNIQUE (group_key, unit_code)
);

CREATE TABLE archive_files (
    package_id  INTEGER NOT NULL REFERENCES archive_packages (id),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     BLOB NOT NULL,
    PRIMARY KEY (package_id, path)
);
