-- How many times a task replay has reset each step to run again (0 on its first run). Retries
-- within one run keep it; step handlers see it as ctx.step.replays, and the asap builtin adds it
-- to its idempotency key so a replay starts a new remote task instead of re-reading the failed one.
ALTER TABLE steps ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
