-- Gatehouse's store: one table per AWS resource kind. Key columns (tenant, ids, parents) are
-- real columns with foreign keys that cascade; the AWS-shaped document is JSONB.
-- `seq` gives every listing a stable creation order and the pagination cursor (`position`).

CREATE TABLE credentials (
    access_key_id     text PRIMARY KEY,
    secret_access_key text NOT NULL,
    account_id        text NOT NULL CHECK (account_id ~ '^[0-9]{12}$'),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Per (account, region) settings returned by GetAccount.
CREATE TABLE account_settings (
    account_id text NOT NULL,
    region     text NOT NULL,
    doc        jsonb NOT NULL,
    PRIMARY KEY (account_id, region)
);

CREATE TABLE rest_apis (
    seq        bigserial NOT NULL UNIQUE,
    id         text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    doc        jsonb NOT NULL
);
CREATE INDEX rest_apis_by_tenant ON rest_apis (account_id, region, seq);

CREATE TABLE resources (
    seq       bigserial NOT NULL UNIQUE,
    api_id    text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    id        text NOT NULL,
    parent_id text,
    path_part text,
    PRIMARY KEY (api_id, id),
    CONSTRAINT resources_parent_fk FOREIGN KEY (api_id, parent_id)
        REFERENCES resources (api_id, id) ON DELETE CASCADE,
    CONSTRAINT resources_sibling_name_unique UNIQUE (api_id, parent_id, path_part)
);

-- A method with its integration, method responses and integration responses, as GetMethod shows it.
CREATE TABLE methods (
    api_id      text NOT NULL,
    resource_id text NOT NULL,
    http_method text NOT NULL,
    doc         jsonb NOT NULL,
    PRIMARY KEY (api_id, resource_id, http_method),
    CONSTRAINT methods_resource_fk FOREIGN KEY (api_id, resource_id)
        REFERENCES resources (api_id, id) ON DELETE CASCADE
);

CREATE TABLE models (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    name   text NOT NULL,
    doc    jsonb NOT NULL,
    CONSTRAINT models_name_unique PRIMARY KEY (api_id, name)
);

CREATE TABLE request_validators (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);

CREATE TABLE authorizers (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);

CREATE TABLE gateway_responses (
    api_id        text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    response_type text NOT NULL,
    doc           jsonb NOT NULL,
    PRIMARY KEY (api_id, response_type)
);

-- Content-addressed, immutable deployment snapshots. `body` keeps the exact canonical bytes that
-- were hashed (jsonb would reorder them), so a worker can check what it fetched.
CREATE TABLE snapshots (
    hash       text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deployments (
    seq           bigserial NOT NULL UNIQUE,
    api_id        text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    id            text NOT NULL,
    snapshot_hash text NOT NULL REFERENCES snapshots (hash),
    doc           jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);

-- A stage pins its deployment (and its canary's): deleting a deployment in use is refused by
-- these keys (checked at statement end, so deleting the whole API still cascades).
CREATE TABLE stages (
    seq                  bigserial NOT NULL UNIQUE,
    api_id               text NOT NULL REFERENCES rest_apis (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    deployment_id        text NOT NULL,
    canary_deployment_id text,
    doc                  jsonb NOT NULL,
    CONSTRAINT stages_name_unique PRIMARY KEY (api_id, name),
    CONSTRAINT stages_deployment_fk FOREIGN KEY (api_id, deployment_id) REFERENCES deployments (api_id, id),
    CONSTRAINT stages_canary_deployment_fk FOREIGN KEY (api_id, canary_deployment_id)
        REFERENCES deployments (api_id, id)
);
CREATE INDEX stages_by_deployment ON stages (api_id, deployment_id);
CREATE INDEX stages_by_canary_deployment ON stages (api_id, canary_deployment_id);

-- The live-config revision: bumped, in the same transaction, by every change that takes effect
-- without a deployment (stages today; keys, plans and domains later), then NOTIFYed to replicas.
CREATE TABLE config_revision (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    revision  bigint NOT NULL
);
INSERT INTO config_revision (revision) VALUES (0);

-- What each revision changed, so a worker that is behind can catch up with deltas.
CREATE TABLE config_changes (
    revision   bigint PRIMARY KEY,
    kind       text NOT NULL,
    api_id     text NOT NULL,
    key        text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
