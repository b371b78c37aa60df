'use strict';
// A small review dispatcher in Node.js, modelled on incident 004 (seeds/004_*.txt):
// "POST /dispatch" sends every pending code review to the reviewer service and marks it
// queued. racecheck tests it from the outside: N simultaneous HTTP triggers, the reviewer
// replaced by racecheck's effect sink (REVIEWER_URL), the rows checked in Postgres.
//
// Variants (env DISPATCH_VARIANT, or ?variant= on the request):
//   buggy  - the PR's first commit: select pending, dispatch, then mark queued.
//            Two dispatchers both see the row pending and both dispatch it.
//   stuck  - the original code: mark queued, then dispatch. A failed (or crashed)
//            dispatch leaves the row queued forever; no later cycle picks it up.
//   fixed  - atomic claim (UPDATE ... WHERE status='pending' RETURNING) just before the
//            worker call, a definite failure reverts the claim to pending, an ambiguous
//            one (timeout, connection lost) stays queued for the stale reclaim, whose
//            claim repeats the staleness predicate so only one dispatcher revives a row.
//
// Environment: PORT (required), DATABASE_URL, REVIEWER_URL, DISPATCH_VARIANT,
// DISPATCH_TIMEOUT_MS (default 2000), STALE_SECONDS (default 300).

const http = require('node:http');
const { Pool } = require('pg');

const VARIANTS = new Set(['buggy', 'stuck', 'fixed']);
const PORT = Number(process.env.PORT);
const REVIEWER_URL = (process.env.REVIEWER_URL || '').replace(/\/$/, '');
const DEFAULT_VARIANT = process.env.DISPATCH_VARIANT || 'fixed';
const TIMEOUT_MS = Number(process.env.DISPATCH_TIMEOUT_MS || 2000);
const STALE_SECONDS = Number(process.env.STALE_SECONDS || 300);
const WORKER_HEADER = 'x-racecheck-worker';

if (!Number.isInteger(PORT) || PORT <= 0) {
  console.error('PORT is not set: start the dispatcher with PORT=<free port>');
  process.exit(2);
}
if (!REVIEWER_URL) {
  console.error('REVIEWER_URL is not set: point it at the reviewer service (racecheck effect sink)');
  process.exit(2);
}
if (!VARIANTS.has(DEFAULT_VARIANT)) {
  console.error(`DISPATCH_VARIANT ${DEFAULT_VARIANT} is not one of buggy, stuck, fixed`);
  process.exit(2);
}

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
// An idle client whose connection the server closed (e.g. the test recreated the database)
// is dropped by the pool; without this handler the 'error' event would kill the process.
pool.on('error', (err) => console.error(`idle database client dropped: ${err.message}`));

// A statement on a pooled connection the server had already terminated never ran: retry it
// once on a fresh connection (the tests recreate the database between trials).
function connectionLost(err) {
  return ['57P01', '57P02', '57P03', '3D000'].includes(err.code)
    || /Connection terminated|ECONNRESET|EPIPE/.test(String(err.message));
}

async function query(sql, params) {
  try {
    return await pool.query(sql, params);
  } catch (err) {
    if (!connectionLost(err)) throw err;
    return pool.query(sql, params);
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS code_reviews (
  id text PRIMARY KEY,
  status text NOT NULL DEFAULT 'pending',
  dispatched_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
)`;

class DispatchError extends Error {
  constructor(message, ambiguous) {
    super(message);
    this.ambiguous = ambiguous; // true: the reviewer may have started it (timeout, lost connection)
  }
}

// The side effect: ask the reviewer service to run review `id`.
async function sendToReviewer(id, worker) {
  const headers = { 'content-type': 'application/json' };
  if (worker !== undefined) headers[WORKER_HEADER] = worker;
  let res;
  try {
    res = await fetch(`${REVIEWER_URL}/review/${encodeURIComponent(id)}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ review_id: id }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new DispatchError(`reviewer call for ${id} failed: ${err.message}`, true);
  }
  await res.text();
  if (res.status >= 300) {
    throw new DispatchError(`reviewer answered ${res.status} for ${id}`, false);
  }
}

async function pendingIds(includeStale) {
  const sql = includeStale
    ? `SELECT id FROM code_reviews
        WHERE status = 'pending'
           OR (status = 'queued' AND updated_at < now() - make_interval(secs => $1))
        ORDER BY id`
    : `SELECT id FROM code_reviews WHERE status = 'pending' ORDER BY id`;
  const { rows } = await query(sql, includeStale ? [STALE_SECONDS] : []);
  return rows.map((r) => r.id);
}

// buggy: dispatch first, then mark queued (check-then-act across an await).
async function dispatchBuggy(id, worker) {
  await sendToReviewer(id, worker);
  await query(
    `UPDATE code_reviews SET status = 'queued', dispatched_at = now(), updated_at = now() WHERE id = $1`,
    [id],
  );
  return 'dispatched';
}

// stuck: mark queued first, then dispatch; a failure in between strands the row.
async function dispatchStuck(id, worker) {
  await query(`UPDATE code_reviews SET status = 'queued', updated_at = now() WHERE id = $1`, [id]);
  await sendToReviewer(id, worker);
  await query(`UPDATE code_reviews SET dispatched_at = now() WHERE id = $1`, [id]);
  return 'dispatched';
}

// fixed: atomic claim right before the worker call; revert only definite failures.
async function dispatchFixed(id, worker) {
  const claim = await query(
    `UPDATE code_reviews SET status = 'queued', updated_at = now()
      WHERE id = $1
        AND (status = 'pending'
             OR (status = 'queued' AND updated_at < now() - make_interval(secs => $2)))
      RETURNING id`,
    [id, STALE_SECONDS],
  );
  if (claim.rowCount === 0) return 'skipped';
  try {
    await sendToReviewer(id, worker);
  } catch (err) {
    if (!err.ambiguous) {
      await query(
        `UPDATE code_reviews SET status = 'pending', updated_at = now() WHERE id = $1 AND status = 'queued'`,
        [id],
      );
    }
    throw err;
  }
  await query(`UPDATE code_reviews SET dispatched_at = now() WHERE id = $1`, [id]);
  return 'dispatched';
}

const DISPATCH = { buggy: dispatchBuggy, stuck: dispatchStuck, fixed: dispatchFixed };

async function dispatchAll(variant, worker) {
  const ids = await pendingIds(variant === 'fixed');
  // In parallel, as in the PR (Promise.allSettled over independent reviews).
  const settled = await Promise.allSettled(ids.map((id) => DISPATCH[variant](id, worker)));
  const out = { variant, dispatched: [], skipped: [], failed: [] };
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') out[s.value].push(ids[i]);
    else out.failed.push({ id: ids[i], error: s.reason.message });
  });
  return out;
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  req.resume();
  if (req.method === 'GET' && url.pathname === '/health') {
    send(res, 200, { ok: true });
    return;
  }
  if (req.method === 'POST' && url.pathname === '/dispatch') {
    const variant = url.searchParams.get('variant') || DEFAULT_VARIANT;
    if (!VARIANTS.has(variant)) {
      send(res, 400, { error: `variant ${variant} is not one of buggy, stuck, fixed` });
      return;
    }
    dispatchAll(variant, req.headers[WORKER_HEADER]).then(
      (out) => send(res, 200, out),
      (err) => send(res, 500, { error: err.message }),
    );
    return;
  }
  send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
});

async function main() {
  await query(SCHEMA);
  server.listen(PORT, '127.0.0.1', () => {
    console.log(`dispatcher listening on 127.0.0.1:${PORT} (default variant ${DEFAULT_VARIANT})`);
  });
}

function shutdown() {
  server.close();
  pool.end().finally(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

main().catch((err) => {
  console.error(`dispatcher failed to start: ${err.message}`);
  process.exit(1);
});
