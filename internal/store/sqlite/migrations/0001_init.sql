-- 0001: config revisions, the call log and admin API tokens.
-- Times are stored as INTEGER Unix nanoseconds (UTC); 0 means "not set".

CREATE TABLE revisions (
    -- Assigned as max(number)+1 inside the write transaction, so numbers
    -- have no gaps (no AUTOINCREMENT).
    number     INTEGER PRIMARY KEY,
    author     TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    document   BLOB    NOT NULL
) STRICT;

CREATE TABLE calls (
    -- AUTOINCREMENT so a sequence number is never reused after pruning;
    -- followers (AfterSeq) rely on it.
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    time                INTEGER NOT NULL,
    request_id          TEXT    NOT NULL,
    route               TEXT    NOT NULL,
    method              TEXT    NOT NULL,
    host                TEXT    NOT NULL,
    path                TEXT    NOT NULL,
    status              INTEGER NOT NULL,
    code                TEXT    NOT NULL,
    layer               TEXT    NOT NULL,
    stage               TEXT    NOT NULL,
    client_ip           TEXT    NOT NULL,
    target              TEXT    NOT NULL,
    attempts            INTEGER NOT NULL,
    latency_ns          INTEGER NOT NULL,
    upstream_latency_ns INTEGER NOT NULL,
    bytes_in            INTEGER NOT NULL,
    bytes_out           INTEGER NOT NULL,
    revision            INTEGER NOT NULL,
    trace               BLOB
) STRICT;

-- Only the lookups that must stay fast on a large log are indexed: by
-- request id (explain) and by time (since filters, retention). Every extra
-- index costs each of the thousands of inserts per second; status, code and
-- route filters walk seq order, newest first, and stop at the limit.
CREATE INDEX calls_time       ON calls (time);
CREATE INDEX calls_request_id ON calls (request_id);

CREATE TABLE admin_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
