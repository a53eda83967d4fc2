-- REST APIs' documentation parts (by id) and versions (by version name, with the parts as
-- they were when the version was made).
CREATE TABLE documentation_parts (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);
CREATE TABLE documentation_versions (
    seq    bigserial NOT NULL UNIQUE,
    api_id text NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    id     text NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (api_id, id)
);
