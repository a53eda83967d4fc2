-- Callers of deployed APIs (AWS_IAM methods): an access key that names a principal is one, with
-- the identity policies attached to it; a session token makes it a temporary credential.
ALTER TABLE credentials
    ADD COLUMN principal_arn text,
    ADD COLUMN session_token text,
    ADD COLUMN policies jsonb NOT NULL DEFAULT '[]';
