-- Custom domain names, shared by `apigateway` (DomainName, BasePathMapping) and `apigatewayv2`
-- (DomainName, ApiMapping), as AWS shares them: one domain, seen through either API. A name
-- is the fleet's, not only its tenant's: workers route requests by Host to it.
CREATE TABLE domain_names (
    seq        bigserial NOT NULL UNIQUE,
    name       text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    doc        jsonb NOT NULL
);
CREATE INDEX domain_names_by_tenant ON domain_names (account_id, region, seq);

-- A domain's base path mappings (v1) and API mappings (v2) are one thing: `mapping_key` is the
-- base path ('' for v1's `(none)`), with several levels for v2's keys.
CREATE TABLE api_mappings (
    seq         bigserial NOT NULL UNIQUE,
    id          text PRIMARY KEY,
    domain_name text NOT NULL REFERENCES domain_names (name) ON DELETE CASCADE,
    mapping_key text NOT NULL,
    api_id      text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    stage       text NOT NULL,
    CONSTRAINT api_mappings_key UNIQUE (domain_name, mapping_key)
);
CREATE INDEX api_mappings_by_api ON api_mappings (api_id);

-- Certificates imported for custom domains (`gatehouse certificates import`), Gatehouse's
-- stand-in for ACM: a domain names one by ARN. The private key is sealed (AES-256-GCM, nonce
-- first) under the control plane's certificate key; the chain is public.
CREATE TABLE certificates (
    seq        bigserial NOT NULL UNIQUE,
    arn        text PRIMARY KEY,
    account_id text NOT NULL,
    region     text NOT NULL,
    chain_pem  text NOT NULL,
    sealed_key bytea NOT NULL,
    doc        jsonb NOT NULL
);

-- Truststores of mutual TLS (`gatehouse certificates import-truststore`): the CA bundle a
-- domain's `truststoreUri` names, as S3 would hold it.
CREATE TABLE truststores (
    account_id text NOT NULL,
    region     text NOT NULL,
    uri        text NOT NULL,
    pem        text NOT NULL,
    PRIMARY KEY (account_id, region, uri)
);
