-- Digital signatures of approved reports (ký số). A row is written with
-- each final approval (report_writer.rs), pending; a server holding the
-- organisation's key signs the report's canonical content and keeps both,
-- as they were signed. A report reopened before it was signed is not
-- signed (superseded); its next approval writes a new row.
CREATE TABLE report_signatures (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES reports (id),
    revision    INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'signed', 'superseded')),
    -- The canonical JSON signed, and the CMS detached signature (DER).
    content     TEXT,
    signature   BLOB,
    signer      TEXT,
    signed_at   TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX report_signatures_report ON report_signatures (report_id, state);
CREATE INDEX report_signatures_pending ON report_signatures (state, id);
