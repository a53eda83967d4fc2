-- What each API key used under each usage plan, per UTC day: what GetUsage reads and quotas
-- count. Workers report counts in batches; a batch is applied once, however often it is sent.
CREATE TABLE usage_counts (
    plan_id text NOT NULL REFERENCES usage_plans (id) ON DELETE CASCADE,
    key_id  text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day     date NOT NULL,
    used    bigint NOT NULL,
    PRIMARY KEY (plan_id, key_id, day)
);

CREATE TABLE usage_batches (
    batch_id    text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_batches_by_age ON usage_batches (received_at);

-- UpdateUsage: requests added to (or taken from) a key's quota for one period.
CREATE TABLE usage_adjustments (
    plan_id      text NOT NULL REFERENCES usage_plans (id) ON DELETE CASCADE,
    key_id       text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    period_start date NOT NULL,
    extra        bigint NOT NULL,
    PRIMARY KEY (plan_id, key_id, period_start)
);

-- The keys whose quota ran out in a period, so workers are told once.
CREATE TABLE usage_exhausted (
    plan_id      text NOT NULL REFERENCES usage_plans (id) ON DELETE CASCADE,
    key_id       text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    period_start date NOT NULL,
    PRIMARY KEY (plan_id, key_id, period_start)
);
