"""Points: ns per ``racecheck.point()`` call outside a run and inside one, and what driver
instrumentation adds to each psycopg statement and redis-py command.

Run alone: ``python benchmarks/bench_points.py [--quick]``. Prints numbers, asserts nothing.
Inside a run there is no gate (stress strategy with noise 0), so the cost shown is the
hook itself: worker lookup, event recording and fault matching.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import infra  # noqa: E402

_results: dict[str, float] = {}


def ns_per_call(fn: Callable[[], Any], calls: int, repeats: int = 5) -> float:
    """Best of ``repeats`` loops of ``calls`` calls, in ns per call."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / calls)
    return best


def _in_run(label: str, fn: Callable[[], Any], calls: int, repeats: int) -> float:
    """Measure ``fn`` inside a one-worker run (drivers installed, worker identity set, no gate)."""
    return _paired(label, fn, calls, repeats)[0]


def _paired(label: str, fn: Callable[[], Any], calls: int, repeats: int) -> tuple[float, float]:
    """Inside one run, alternate loops as the worker (instrumented) and as nobody (the drivers'
    pass-through), so server round-trip noise hits both alike; best loop of each, in ns per call."""
    from racecheck import _runtime

    def target() -> None:
        inst, plain = float("inf"), float("inf")
        for _ in range(repeats):
            inst = min(inst, ns_per_call(fn, calls, 1))
            token = _runtime.set_worker(None)
            prev = _runtime._PROCESS_WORKER
            try:
                plain = min(plain, ns_per_call(fn, calls, 1))
            finally:
                _runtime._worker.reset(token)
                _runtime.set_process_worker(prev)
        _results[label] = inst
        _results[label + ":plain"] = plain

    res = racecheck.run(target, n=1, trials=1, noise=0.0, invariants=[])
    if label not in _results:
        raise RuntimeError(f"the measuring trigger did not finish: {res.report()}")
    return _results.pop(label), _results.pop(label + ":plain")


def _noop() -> None:
    pass


def bench_point(calls: int) -> list[tuple[str, float]]:
    def point() -> None:
        racecheck.point("bench")

    return [
        ("empty Python call (reference)", ns_per_call(_noop, calls)),
        ("racecheck.point() outside a run", ns_per_call(point, calls)),
        ("racecheck.point() inside a run, no gate", _in_run("point", point, calls // 10, 3)),
    ]


def bench_psycopg(calls: int) -> list[tuple[str, float]]:
    import psycopg

    with infra.postgres("SELECT 1", ()) as pg:
        conn = psycopg.connect(pg.url, autocommit=True)
        try:
            def stmt() -> None:
                conn.execute("SELECT 1")

            outside = ns_per_call(stmt, calls, 3)
            inside, plain = _paired("psycopg", stmt, calls, 5)
        finally:
            conn.close()
    return [
        ("psycopg hook alone (no I/O: label, state, point, record)", _psycopg_hook(calls * 20)),
        (f"psycopg SELECT 1, outside a run ({pg.provider})", outside),
        ("psycopg SELECT 1, in a run, not a worker (pass-through)", plain),
        ("psycopg SELECT 1, in a run, instrumented", inside),
        ("  instrumentation per statement", inside - plain),
    ]


def _psycopg_hook(calls: int) -> float:
    """What the psycopg wrapper adds around a statement, without the round trip (needs no server)."""
    import psycopg

    from racecheck import _runtime
    from racecheck.drivers import one_line, psycopg_driver

    conn = psycopg.Connection.__new__(psycopg.Connection)  # never connected: status reads as unknown
    sql = psycopg_driver.SQL

    def hook() -> None:
        rt = _runtime.active()
        assert rt is not None
        text = one_line(psycopg_driver._text("SELECT 1", None))
        label, before = sql.begin(rt, conn, text)
        sql.done(rt, conn, label, text, before, None)

    return _in_run("psycopg-hook", hook, calls, 3)


def _redis_hook(calls: int) -> float:
    """What the redis wrapper adds around a command, without the round trip (needs no server)."""
    import redis

    from racecheck import _runtime
    from racecheck import history as h
    from racecheck.drivers import redis_driver

    client = redis.Redis(port=1)

    def hook() -> None:
        rt = _runtime.active()
        assert rt is not None
        redis_driver._register(rt, client)
        text = redis_driver._text(("GET", "bench"))
        rt.at_point("redis:" + text, h.REDIS, command=text)
        rt.after_point("redis:" + text)

    return _in_run("redis-hook", hook, calls, 3)


@contextlib.contextmanager
def _redis_url() -> Iterator[tuple[str, str]]:
    """A private redis-server (never a shared one): from racecheck.backends, else started here."""
    try:
        from racecheck.backends.providers import provide_redis

        server = provide_redis()
    except Exception:  # noqa: BLE001 - fall back to a plain redis-server
        server = None
    if server is not None:
        try:
            yield server.url, f"racecheck.backends ({getattr(server, 'provider', '?')})"
        finally:
            server.close()
        return
    port = infra._free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        yield f"redis://127.0.0.1:{port}/0", f"redis-server on port {port}"
    finally:
        proc.kill()
        proc.wait(10)


def bench_redis(calls: int) -> list[tuple[str, float]]:
    import redis

    with _redis_url() as (url, provider):
        client = redis.Redis.from_url(url)
        try:
            def cmd() -> None:
                client.get("bench")

            outside = ns_per_call(cmd, calls, 3)
            inside, plain = _paired("redis", cmd, calls, 5)
        finally:
            client.close()
    return [
        ("redis hook alone (no I/O: label, point, record)", _redis_hook(calls * 20)),
        (f"redis GET, outside a run ({provider})", outside),
        ("redis GET, in a run, not a worker (pass-through)", plain),
        ("redis GET, in a run, instrumented", inside),
        ("  instrumentation per command", inside - plain),
    ]


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    rows = bench_point(100_000 if quick else 1_000_000)
    io_calls = 300 if quick else 3000
    for name, bench in (("psycopg", bench_psycopg), ("redis", bench_redis)):
        try:
            rows += bench(io_calls)
        except Exception as exc:  # noqa: BLE001 - a missing server skips that part of the benchmark
            rows.append((f"{name}: skipped ({type(exc).__name__}: {exc})", float("nan")))
    width = max(len(n) for n, _ in rows)
    print(f"{'measurement':<{width}}  ns/call")
    for name, ns in rows:
        print(f"{name:<{width}}  {ns:>9.0f}")


if __name__ == "__main__":
    main()
