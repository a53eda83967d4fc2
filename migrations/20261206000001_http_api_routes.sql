-- HTTP and WebSocket APIs' own kinds (apigatewayv2): routes and integrations, each an
-- AWS-shaped document under its API. A route key is unique within its API.
CREATE TABLE routes (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);
CREATE UNIQUE INDEX routes_route_key_unique ON routes (api_id, (doc->>'routeKey'));

CREATE TABLE integrations (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);

-- A v2 stage may exist before any deployment (an autoDeploy stage of an API with no routes
-- yet, or one created without a deploymentId); workers serve only stages with one.
ALTER TABLE stages ALTER COLUMN deployment_id DROP NOT NULL;
