-- VPC links, scoped by tenant: v2's (HTTP APIs' private integrations) and, with the same
-- shape of row, v1's (REST APIs'). An integration names one by id (connectionId).
CREATE TABLE vpc_links (
    seq        bigserial NOT NULL UNIQUE,
    id         text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    version    text NOT NULL CONSTRAINT vpc_links_version_known CHECK (version IN ('V1', 'V2')),
    doc        jsonb NOT NULL
);
CREATE INDEX vpc_links_by_tenant ON vpc_links (account_id, region, version, seq);
