-- Every kind of API in one table: REST APIs (apigateway) and, with apigatewayv2, HTTP and
-- WebSocket APIs. Stages, deployments and the live configuration then name an API whatever its
-- protocol (their keys follow the rename), and the live configuration tells workers which kind
-- each stage serves.
ALTER TABLE rest_apis RENAME TO apis;
ALTER INDEX rest_apis_by_tenant RENAME TO apis_by_tenant;
ALTER TABLE apis ADD COLUMN protocol text NOT NULL DEFAULT 'REST'
    CONSTRAINT apis_protocol_known CHECK (protocol IN ('REST', 'HTTP', 'WEBSOCKET'));
