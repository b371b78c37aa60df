-- Incident 000: review runs, one per (session, head sha) is the intent.
-- No constraint here: the buggy system relies on its idempotency read alone.
CREATE TABLE IF NOT EXISTS review_run (
    id          bigserial PRIMARY KEY,
    session_id  text        NOT NULL,
    target_sha  text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'running',   -- running | completed
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
