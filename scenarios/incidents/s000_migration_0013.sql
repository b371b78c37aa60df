-- Migration 0013 (fixed): collapse duplicate (session_id, target_sha) groups to one
-- survivor -- a completed run over a running one, then the newest -- and only then build
-- the partial unique index. Rows with an empty target_sha (head not yet observed) are
-- excluded from the index so they are never blocked.
DELETE FROM review_run r
USING (
    SELECT id, row_number() OVER (
        PARTITION BY session_id, target_sha
        ORDER BY (status = 'completed') DESC, created_at DESC, id DESC
    ) AS rank
    FROM review_run
    WHERE target_sha <> ''
) ranked
WHERE r.id = ranked.id AND ranked.rank > 1;
CREATE UNIQUE INDEX IF NOT EXISTS review_run_session_sha
    ON review_run (session_id, target_sha) WHERE target_sha <> '';
