-- Incident 004: code reviews waiting for dispatch, and the worker's per-review state
-- (the Durable Object keyed by review id, which survives a duplicate start).
CREATE TABLE IF NOT EXISTS code_reviews (
    id          serial PRIMARY KEY,
    status      text NOT NULL DEFAULT 'pending',   -- pending | queued | running | completed | failed
    updated_at  double precision NOT NULL DEFAULT 0 -- the app's clock (epoch seconds)
);
CREATE TABLE IF NOT EXISTS review_worker_state (
    review_id  integer PRIMARY KEY,
    status     text NOT NULL
);
