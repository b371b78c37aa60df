"""What a fork costs before any of racecheck's worker code runs, by what the parent imported.

Each arm is a fresh interpreter that imports a set of modules, freezes the GC (as the warm
template does), then forks ``FORKS`` children that only read a pipe and ``os._exit``. It
reports the parent's CPU per fork (copying the page tables, the interpreter's before- and
after-fork work), and per child the page faults (each a copy-on-write copy of a page the
child wrote) and CPU. The floor a forked process-mode worker cannot go below, whatever
racecheck's own worker code does, and how much of it a leaner template could save.

Run alone: ``python benchmarks/bench_fork_floor.py [--quick]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.targets.stats import bench_main, median  # noqa: E402

FORKS = 32

ARMS = {
    "bare interpreter": [],
    "threading": ["threading"],
    "asyncio": ["asyncio"],
    "racecheck (the warm template's imports)": ["racecheck", "racecheck._worker", "racecheck._zygote"],
}

PROBE = """
import gc, importlib, json, os, resource, sys, time
for m in sys.argv[2:]:
    importlib.import_module(m)
gc.collect(); gc.freeze()
forks = int(sys.argv[1])
rss_kb = int(open("/proc/self/statm").read().split()[1]) * 4
r, w = os.pipe()
pids = []
c0 = time.process_time()
for _ in range(forks):
    pid = os.fork()
    if pid == 0:
        os.close(w); os.read(r, 1); os._exit(0)
    pids.append(pid)
parent = (time.process_time() - c0) / forks
os.close(w)
for pid in pids:
    os.waitpid(pid, 0)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rss_mb": rss_kb / 1024, "parent_ms": parent * 1e3, "child_faults": ru.ru_minflt / forks,
                  "child_ms": (ru.ru_utime + ru.ru_stime) / forks * 1e3}))
"""


def probe(modules: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(FORKS), *modules], check=True, capture_output=True,
                         text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    rounds = 2 if quick else 5
    raw: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    for rnd in range(rounds):
        for arm, modules in ARMS.items():
            raw[arm].append(probe(modules))
        log(f"  round {rnd + 1}/{rounds}: " + ", ".join(
            f"{arm} {v[-1]['child_faults']:.0f} faults" for arm, v in raw.items()))
    return {"rounds": rounds, "forks": FORKS,
            "arms": {arm: {k: median([s[k] for s in samples]) for k in samples[0]} for arm, samples in raw.items()}}


def markdown(res: dict[str, Any]) -> str:
    lines = [f"{res['rounds']} rounds, {res['forks']} forks per arm and round, children that only read a pipe "
             "and `_exit`; medians.", "",
             "| parent imported | parent size | parent CPU per fork | child page faults | child CPU |",
             "|---|---|---|---|---|"]
    for arm, m in res["arms"].items():
        lines.append(f"| {arm} | {m['rss_mb']:.1f} MB | {m['parent_ms']:.2f} ms | {m['child_faults']:.0f} | "
                     f"{m['child_ms']:.2f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    return bench_main(run, markdown, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
