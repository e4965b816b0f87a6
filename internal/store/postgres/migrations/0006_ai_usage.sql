-- 0006: the usage records of AI gateway calls, one row per call.
-- Durations are nanoseconds; costs are picodollars (10⁻¹² USD).

-- +goose Up
-- Unlike the call log, ai_usage is not partitioned: it holds one small row
-- per AI call, far fewer than calls has, and its retention deletes rows
-- (DeleteAIUsageBefore, in chunks by id) rather than dropping days.
CREATE TABLE ai_usage (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time               timestamptz NOT NULL,
    request_id         text        NOT NULL,
    route              text        NOT NULL,
    revision           bigint      NOT NULL,
    consumer_id        text        NOT NULL,
    tenant_id          text        NOT NULL,
    credential_id      text        NOT NULL,
    op                 text        NOT NULL,
    model              text        NOT NULL,
    provider           text        NOT NULL,
    provider_model     text        NOT NULL,
    stream             boolean     NOT NULL,
    status             integer     NOT NULL,
    code               text        NOT NULL,
    input_tokens       bigint      NOT NULL,
    output_tokens      bigint      NOT NULL,
    cached_tokens      bigint      NOT NULL,
    cache_write_tokens bigint      NOT NULL,
    estimated          boolean     NOT NULL,
    cost_pico          bigint      NOT NULL,
    priced             boolean     NOT NULL,
    latency_ns         bigint      NOT NULL,
    ttft_ns            bigint      NOT NULL,
    attempts           integer     NOT NULL
);

-- Reports and retention select by time; budgets and per-consumer reports
-- by consumer and time.
CREATE INDEX ai_usage_time          ON ai_usage (time);
CREATE INDEX ai_usage_consumer_time ON ai_usage (consumer_id, time);

-- +goose Down
DROP TABLE ai_usage;
