-- 0005: the operator's side: the audit log, the analytics roll-ups, the
-- keys that seal decision tokens, and the decision inputs of call records.

-- +goose Up
-- The newest audit sequence number handed out. AppendAudit (and
-- AppendRevision, for its entry) takes numbers under this row's lock and
-- holds it until commit, so entries commit in sequence order and a
-- follower reading "seq > n" never misses one committed later with a
-- smaller number. Audit writes are rare: serializing them costs nothing.
CREATE TABLE audit_counter (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    last bigint  NOT NULL
);
INSERT INTO audit_counter (id, last) VALUES (true, 0);

-- Append-only: the store has no update or delete for it.
CREATE TABLE audit (
    seq         bigint      PRIMARY KEY,
    time        timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    object_kind text        NOT NULL,
    object_id   text        NOT NULL,
    revision    bigint      NOT NULL,
    source      text        NOT NULL,
    request_id  text        NOT NULL,
    -- A JSON object, or NULL; json (not jsonb) keeps the text as written.
    detail      json,
    -- Makes an append idempotent; NULL (most entries) never conflicts.
    dedupe      text        UNIQUE
);

CREATE INDEX audit_object ON audit (object_kind, object_id);
CREATE INDEX audit_time   ON audit (time);

-- One row per roll-up key. The primary key starts with (level, bucket),
-- which is the index queries, compaction and retention use.
CREATE TABLE rollups (
    level           text        NOT NULL,
    bucket          timestamptz NOT NULL,
    node            text        NOT NULL,
    kind            text        NOT NULL,
    route           text        NOT NULL,
    consumer        text        NOT NULL,
    code            text        NOT NULL,
    stage           text        NOT NULL,
    layer           text        NOT NULL,
    rule            text        NOT NULL,
    status_class    integer     NOT NULL,
    count           bigint      NOT NULL,
    upstream_errors bigint      NOT NULL,
    latency_sum_ns  bigint      NOT NULL,
    -- The serialized latency sketch (opaque to the store), or NULL.
    latency         bytea,
    PRIMARY KEY (level, bucket, node, kind, route, consumer, code, stage, layer, rule, status_class)
);

CREATE TABLE token_keys (
    id         text        PRIMARY KEY,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL
);

-- The redacted decision inputs a replay needs (JSON), or NULL. Added to
-- the partitioned parent, so every partition, existing or future, has it.
ALTER TABLE calls ADD COLUMN inputs bytea;

-- +goose Down
ALTER TABLE calls DROP COLUMN inputs;
DROP TABLE token_keys;
DROP TABLE rollups;
DROP TABLE audit;
DROP TABLE audit_counter;
