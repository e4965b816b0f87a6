-- 0005: the usage records of AI gateway calls, one row per call.
-- Times are INTEGER Unix nanoseconds (UTC), as in the call log; durations
-- are nanoseconds; booleans are 0 or 1; costs are picodollars (10⁻¹² USD).

CREATE TABLE ai_usage (
    time               INTEGER NOT NULL,
    request_id         TEXT    NOT NULL,
    route              TEXT    NOT NULL,
    revision           INTEGER NOT NULL,
    consumer_id        TEXT    NOT NULL,
    tenant_id          TEXT    NOT NULL,
    credential_id      TEXT    NOT NULL,
    op                 TEXT    NOT NULL,
    model              TEXT    NOT NULL,
    provider           TEXT    NOT NULL,
    provider_model     TEXT    NOT NULL,
    stream             INTEGER NOT NULL,
    status             INTEGER NOT NULL,
    code               TEXT    NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cached_tokens      INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    estimated          INTEGER NOT NULL,
    cost_pico          INTEGER NOT NULL,
    priced             INTEGER NOT NULL,
    latency_ns         INTEGER NOT NULL,
    ttft_ns            INTEGER NOT NULL,
    attempts           INTEGER NOT NULL
) STRICT;

-- Reports and retention select by time; budgets and per-consumer reports
-- by consumer and time.
CREATE INDEX ai_usage_time          ON ai_usage (time);
CREATE INDEX ai_usage_consumer_time ON ai_usage (consumer_id, time);
