-- API keys, usage plans and the keys of each plan: account-wide, as in AWS. A key's value is kept
-- to answer `includeValue`; workers only ever receive a keyed hash of it.
CREATE TABLE api_keys (
    seq        bigserial NOT NULL UNIQUE,
    id         text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    value      text NOT NULL,
    doc        jsonb NOT NULL,
    CONSTRAINT api_keys_value_unique UNIQUE (account_id, region, value)
);
CREATE INDEX api_keys_by_tenant ON api_keys (account_id, region, seq);

-- `doc.apiStages` lists the stages a plan covers; the GIN index finds a stage's plans.
CREATE TABLE usage_plans (
    seq        bigserial NOT NULL UNIQUE,
    id         text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    doc        jsonb NOT NULL
);
CREATE INDEX usage_plans_by_tenant ON usage_plans (account_id, region, seq);
CREATE INDEX usage_plans_by_stage ON usage_plans USING gin ((doc -> 'apiStages') jsonb_path_ops);

CREATE TABLE usage_plan_keys (
    seq     bigserial NOT NULL UNIQUE,
    plan_id text NOT NULL REFERENCES usage_plans (id) ON DELETE CASCADE,
    key_id  text NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    PRIMARY KEY (plan_id, key_id)
);
CREATE INDEX usage_plan_keys_by_key ON usage_plan_keys (key_id);
