-- 0004: the operator's side: the audit log, the analytics roll-ups, the
-- keys that seal decision tokens, and the decision inputs of call records.

-- Append-only: the store has no update or delete for it.
CREATE TABLE audit (
    -- AUTOINCREMENT so a sequence number is never reused; followers
    -- (AfterSeq) rely on it.
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    time        INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object_kind TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    -- A JSON object, or NULL.
    detail      TEXT,
    -- Makes an append idempotent; NULL (most entries) never conflicts.
    dedupe      TEXT    UNIQUE
) STRICT;

CREATE INDEX audit_object ON audit (object_kind, object_id);
CREATE INDEX audit_time   ON audit (time);

-- One row per roll-up key. The primary key starts with (level, bucket),
-- which is the index queries, compaction and retention use.
CREATE TABLE rollups (
    level           TEXT    NOT NULL,
    -- UTC start of the minute, hour or day, unix nanoseconds.
    bucket          INTEGER NOT NULL,
    node            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    route           TEXT    NOT NULL,
    consumer        TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    layer           TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    status_class    INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    upstream_errors INTEGER NOT NULL,
    latency_sum_ns  INTEGER NOT NULL,
    -- The serialized latency sketch (opaque to the store), or NULL.
    latency         BLOB,
    PRIMARY KEY (level, bucket, node, kind, route, consumer, code, stage, layer, rule, status_class)
) STRICT, WITHOUT ROWID;

CREATE TABLE token_keys (
    id         TEXT    PRIMARY KEY,
    -- The AEAD key itself: the file's mode (0600) protects it.
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- The redacted decision inputs a replay needs (JSON), or NULL.
ALTER TABLE calls ADD COLUMN inputs BLOB;
