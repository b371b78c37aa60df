"""The five founding incidents, each re-created as a minimal system on real Postgres or Redis.

One module per incident, each with its buggy and its fixed variant side by side:

- ``s000_trigger``: check-then-act trigger (idempotency read, spawn reviewer, insert run)
  and the migration that must collapse duplicates before building a unique index.
- ``s001_groomer``: run-level groomer lock (first writer wins, stale reclaim, release by token).
- ``s002_dedup``: review-dispatch dedup (in-memory map vs Redis ``SET NX EX``; the
  ``REDIS_URL`` scrub follow-up).
- ``s003_lease``: a lease on an atomic increment with TTL steal vs ``SET NX PX`` with an
  owner token, fencing and compare-and-delete release; the retry loop that swallows exhaustion.
- ``s004_dispatch``: pending review dispatch (queue-before-dispatch vs atomic claim with
  stale reclaim; the duplicate start of a live review and its guard).

Every system takes its connection URL from an argument or from ``DATABASE_URL`` /
``REDIS_URL`` and talks to the server with psycopg 3 / redis-py directly, so racecheck's
driver instrumentation sees each statement. The side effects are plain module functions
that racecheck spies on (``incidents.s000_trigger:spawn_reviewer`` and so on).
"""
