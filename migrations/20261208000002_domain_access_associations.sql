-- DomainNameAccessAssociation: a VPC endpoint's access to a private custom domain. Stored
-- and answered as AWS does; Gatehouse does not serve private APIs.
CREATE TABLE domain_access_associations (
    seq        bigserial NOT NULL UNIQUE,
    arn        text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    domain_arn text NOT NULL,
    doc        jsonb NOT NULL
);
CREATE INDEX domain_access_associations_by_tenant ON domain_access_associations (account_id, region, seq);
