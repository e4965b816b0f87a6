-- 0003: calendar quota counters and idempotency keys. Rate-limit state is
-- not persisted: it lives in memory (or Redis) and is meaningless after a
-- restart longer than its window.

CREATE TABLE quota_usage (
    route      TEXT    NOT NULL,
    quota      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    -- UTC start of the day or month counted, unix nanoseconds.
    period     INTEGER NOT NULL,
    used       INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (route, quota, key, period)
) STRICT, WITHOUT ROWID;

CREATE INDEX quota_usage_period ON quota_usage (period);

CREATE TABLE idempotency_keys (
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,
    -- The holder's random token: only it may complete or release the
    -- record (an in-flight record is taken over when its lock lapses).
    token         TEXT    NOT NULL,
    done          INTEGER NOT NULL,
    -- The stored response as JSON (status, header, body); NULL in flight.
    response_json TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
