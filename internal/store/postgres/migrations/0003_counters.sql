-- 0003: calendar quota counters and idempotency keys. Rate-limit state is
-- not persisted: it lives in memory (or Redis) and is meaningless after a
-- restart longer than its window.

-- +goose Up
CREATE TABLE quota_usage (
    route      text        NOT NULL,
    quota      text        NOT NULL,
    key        text        NOT NULL,
    -- UTC start of the day or month counted.
    period     timestamptz NOT NULL,
    used       bigint      NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (route, quota, key, period)
);

CREATE INDEX quota_usage_period ON quota_usage (period);

CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    fingerprint   text        NOT NULL,
    -- The holder's random token: only it may complete or release the
    -- record (an in-flight record is taken over when its lock lapses).
    token         text        NOT NULL,
    done          boolean     NOT NULL,
    -- The stored response as JSON (status, header, body); NULL in flight.
    response_json jsonb,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE quota_usage;
