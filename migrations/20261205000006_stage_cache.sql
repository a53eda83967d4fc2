-- The generation of a stage's cached answers: FlushStageCache starts a new one, and every
-- worker empties the stage's cache when it sees it.
ALTER TABLE stages ADD COLUMN cache_flushed bigint NOT NULL DEFAULT 0;
