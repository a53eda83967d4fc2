-- A connection its worker closed is kept a while (`closed_at`), so that the @connections API
-- answers 410 for it at once, while a connection id it has never heard of may be one whose
-- handshake is still being told: that call waits a moment for it.
ALTER TABLE websocket_connections ADD COLUMN closed_at timestamptz;
