-- 0001: config revisions, the call log and admin API tokens.
-- Times are timestamptz (microseconds, UTC); a time that is not set is NULL.

-- +goose Up
-- One row holding the newest revision number. AppendRevision increments it
-- in the same statement that inserts the revision, so concurrent appends
-- (from every gateway sharing the database) take turns on its row lock and
-- numbers never skip: a rolled-back append rolls the counter back too.
CREATE TABLE revision_counter (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    last bigint  NOT NULL
);
INSERT INTO revision_counter (id, last) VALUES (true, 0);

CREATE TABLE revisions (
    number     bigint      PRIMARY KEY,
    author     text        NOT NULL,
    source     text        NOT NULL,
    created_at timestamptz NOT NULL,
    hash       text        NOT NULL,
    summary    text        NOT NULL,
    document   bytea       NOT NULL
);

-- The newest call sequence number handed out. InsertCalls reserves a block
-- of numbers under this row's lock and holds it until commit, so batches
-- commit in sequence order and a follower reading "seq > n" never misses a
-- record committed later with a smaller number. Numbers are never reused
-- after pruning.
CREATE TABLE call_counter (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    last bigint  NOT NULL
);
INSERT INTO call_counter (id, last) VALUES (true, 0);

-- The call log is partitioned by UTC day of time. InsertCalls creates each
-- day's partition (calls_pYYYYMMDD) when a record first needs it, and the
-- next day's ahead of time; PruneCalls drops whole partitions past the
-- retention and deletes only the rows of the partition at its edge.
CREATE TABLE calls (
    seq                 bigint      NOT NULL,
    time                timestamptz NOT NULL,
    request_id          text        NOT NULL,
    route               text        NOT NULL,
    method              text        NOT NULL,
    host                text        NOT NULL,
    path                text        NOT NULL,
    status              integer     NOT NULL,
    code                text        NOT NULL,
    layer               text        NOT NULL,
    stage               text        NOT NULL,
    client_ip           text        NOT NULL,
    target              text        NOT NULL,
    attempts            integer     NOT NULL,
    latency_ns          bigint      NOT NULL,
    upstream_latency_ns bigint      NOT NULL,
    bytes_in            bigint      NOT NULL,
    bytes_out           bigint      NOT NULL,
    revision            bigint      NOT NULL,
    trace               bytea,
    -- A unique key of a partitioned table must hold the partition key; seq
    -- alone is unique (the counter hands each number out once).
    PRIMARY KEY (seq, time)
) PARTITION BY RANGE (time);

-- As in the SQLite store, only the lookups that must stay fast on a large
-- log are indexed: by sequence (following, newest first: the primary key),
-- by request id (explain) and by time (since filters, retention).
CREATE INDEX calls_time       ON calls (time);
CREATE INDEX calls_request_id ON calls (request_id);

CREATE TABLE admin_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    hash       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE admin_tokens;
DROP TABLE calls;
DROP TABLE call_counter;
DROP TABLE revisions;
DROP TABLE revision_counter;
