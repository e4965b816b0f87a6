-- 0002: tenants, consumers and API keys created at run time; the caller of
-- each call-log record. Objects declared in the configuration are not
-- stored here (the revision holds them), so consumer and tenant ids are
-- not foreign keys.

CREATE TABLE tenants (
    id                 TEXT    PRIMARY KEY,
    name               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    suspended_reason   TEXT    NOT NULL,
    suspended_category TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE consumers (
    id                 TEXT    PRIMARY KEY,
    name               TEXT    NOT NULL,
    tenant_id          TEXT    NOT NULL,
    groups_json        TEXT    NOT NULL,
    metadata_json      TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    suspended_reason   TEXT    NOT NULL,
    suspended_category TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX consumers_tenant ON consumers (tenant_id);

CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY,
    env            TEXT    NOT NULL,
    consumer_id    TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    -- Lowercase hex SHA-256 of the whole key; the key itself is never stored.
    hash           TEXT    NOT NULL UNIQUE,
    scopes_json    TEXT    NOT NULL,
    not_before     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    revoked_at     INTEGER NOT NULL,
    revoked_reason TEXT    NOT NULL,
    replaced_by    TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX api_keys_consumer ON api_keys (consumer_id);

ALTER TABLE calls ADD COLUMN consumer_id   TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN credential_id TEXT NOT NULL DEFAULT '';
