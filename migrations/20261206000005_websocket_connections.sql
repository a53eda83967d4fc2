-- The WebSocket connections the fleet holds: which worker holds each (the @connections API
-- reaches it through the control plane), and what GetConnection tells of it. A worker that is
-- gone takes its connections with it.
CREATE TABLE websocket_connections (
    connection_id text PRIMARY KEY,
    worker_id     text NOT NULL,
    api_id        text NOT NULL,
    stage         text NOT NULL,
    doc           jsonb NOT NULL
);
CREATE INDEX websocket_connections_by_worker ON websocket_connections (worker_id);

-- What the @connections API asked of a connection another worker holds, until the control
-- plane replica streaming to that worker hands it over (NOTIFY gatehouse_ws, payload the
-- worker's id).
CREATE TABLE websocket_commands (
    seq           bigserial PRIMARY KEY,
    worker_id     text NOT NULL,
    connection_id text NOT NULL,
    close         boolean NOT NULL,
    data          bytea NOT NULL,
    created       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX websocket_commands_by_worker ON websocket_commands (worker_id, seq);
