-- FlushStageAuthorizersCache: bumping this makes every worker's cached authorizer results of
-- the stage unreachable (their keys name the generation they were made in).
ALTER TABLE stages ADD COLUMN authorizers_flushed bigint NOT NULL DEFAULT 0;
