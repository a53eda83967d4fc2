-- Client certificates (GenerateClientCertificate): what API Gateway presents to HTTP backends
-- of a stage that names one. The private key is kept apart from the document, never shown.
CREATE TABLE client_certificates (
    seq         bigserial NOT NULL UNIQUE,
    id          text PRIMARY KEY,
    account_id  text NOT NULL,
    region      text NOT NULL,
    private_key text NOT NULL,
    doc         jsonb NOT NULL
);
CREATE INDEX client_certificates_by_tenant ON client_certificates (account_id, region, seq);
