-- The Node dispatcher's table (examples/node-dispatcher/server.js) with two pending reviews.
-- Every trial starts from a fresh clone of this database.
CREATE TABLE IF NOT EXISTS code_reviews (
  id text PRIMARY KEY,
  status text NOT NULL DEFAULT 'pending',
  dispatched_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO code_reviews (id) VALUES ('r1'), ('r2');
