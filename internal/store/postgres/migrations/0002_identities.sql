-- 0002: tenants, consumers and API keys created at run time; the caller of
-- each call-log record. Objects declared in the configuration are not
-- stored here (the revision holds them), so consumer and tenant ids are
-- not foreign keys.

-- +goose Up
CREATE TABLE tenants (
    id                 text        PRIMARY KEY,
    name               text        NOT NULL,
    status             text        NOT NULL,
    suspended_reason   text        NOT NULL,
    suspended_category text        NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

CREATE TABLE consumers (
    id                 text        PRIMARY KEY,
    name               text        NOT NULL,
    tenant_id          text        NOT NULL,
    groups             text[]      NOT NULL,
    metadata           jsonb       NOT NULL,
    status             text        NOT NULL,
    suspended_reason   text        NOT NULL,
    suspended_category text        NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

CREATE INDEX consumers_tenant ON consumers (tenant_id);

CREATE TABLE api_keys (
    id             text        PRIMARY KEY,
    env            text        NOT NULL,
    consumer_id    text        NOT NULL,
    name           text        NOT NULL,
    -- Lowercase hex SHA-256 of the whole key; the key itself is never stored.
    hash           text        NOT NULL UNIQUE,
    scopes         text[]      NOT NULL,
    not_before     timestamptz,
    expires_at     timestamptz,
    revoked_at     timestamptz,
    revoked_reason text        NOT NULL,
    replaced_by    text        NOT NULL,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz
);

CREATE INDEX api_keys_consumer ON api_keys (consumer_id);

ALTER TABLE calls ADD COLUMN consumer_id   text NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN credential_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calls DROP COLUMN credential_id;
ALTER TABLE calls DROP COLUMN consumer_id;
DROP TABLE api_keys;
DROP TABLE consumers;
DROP TABLE tenants;
