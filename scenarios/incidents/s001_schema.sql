-- Incident 001: the generic single-row lock table (sync_lock) and the issues a groomer grooms.
CREATE TABLE IF NOT EXISTS sync_lock (
    id           text PRIMARY KEY,          -- 'groomer' (sync uses 'global')
    sync_run_id  text,                      -- the holder's random token
    acquired_at  double precision NOT NULL  -- the holder's clock (epoch seconds), as the app wrote it
);
CREATE TABLE IF NOT EXISTS issue (
    id       integer PRIMARY KEY,
    groomed  boolean NOT NULL DEFAULT false
);
