-- HTTP and WebSocket APIs' models (apigatewayv2), by id; a name is unique within its API.
CREATE TABLE api_models (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);
CREATE UNIQUE INDEX api_models_name_unique ON api_models (api_id, (doc->>'name'));
