-- Digital signatures of approved reports (ký số). A row is written with
-- each final approval (report_writer.rs), pending; a server holding the
-- organisation's key signs the report's canonical content and keeps both,
-- as they were signed. A report reopened before it was signed is not
-- signed (superseded); its next approval writes a new row.
CREATE TABLE report_signatures (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   BIGINT NOT NULL REFERENCES reports (id),
    revision    BIGINT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'signed', 'superseded')),
    -- The canonical JSON signed, and the CMS detached signature (DER).
    content     TEXT,
    signature   BYTEA,
    signer      TEXT,
    signed_at   TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX report_signatures_report ON report_signatures (report_id, state);
CREATE INDEX report_signatures_pending ON report_signatures (state, id);
