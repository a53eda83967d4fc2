-- WebSocket APIs' route responses and integration responses (apigatewayv2), each under its
-- route or integration; a response key is unique under its parent. Deleting the parent
-- deletes them.
CREATE TABLE route_responses (
    seq       bigserial NOT NULL UNIQUE,
    api_id    text NOT NULL,
    parent_id text NOT NULL,
    id        text NOT NULL,
    doc       jsonb NOT NULL,
    PRIMARY KEY (api_id, id),
    FOREIGN KEY (api_id, parent_id) REFERENCES routes (api_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX route_responses_key_unique
    ON route_responses (api_id, parent_id, (doc->>'routeResponseKey'));

CREATE TABLE integration_responses (
    seq       bigserial NOT NULL UNIQUE,
    api_id    text NOT NULL,
    parent_id text NOT NULL,
    id        text NOT NULL,
    doc       jsonb NOT NULL,
    PRIMARY KEY (api_id, id),
    FOREIGN KEY (api_id, parent_id) REFERENCES integrations (api_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX integration_responses_key_unique
    ON integration_responses (api_id, parent_id, (doc->>'integrationResponseKey'));
