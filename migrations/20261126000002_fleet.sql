-- The fleet view: every worker that acked a revision, as the control plane last heard of it.
CREATE TABLE fleet_workers (
    worker_id   text PRIMARY KEY,
    address     text NOT NULL,
    revision    bigint NOT NULL,
    applied     boolean NOT NULL,
    last_error  text,
    replica     text NOT NULL,
    connected_at timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX deployments_by_snapshot ON deployments (snapshot_hash);
