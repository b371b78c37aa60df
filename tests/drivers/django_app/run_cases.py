"""Run the Django project's races and faults under racecheck, in a process of its own, print JSON.

``python run_cases.py <psycopg2|psycopg> <database url>``. For ``psycopg2`` psycopg 3 is
hidden before Django is imported, so Django picks psycopg2 as a project with only psycopg2
installed would; nothing else is forced.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlparse

WANT, URL = sys.argv[1], sys.argv[2]
if WANT == "psycopg2":
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # import psycopg -> ImportError
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import django  # noqa: E402
from django.conf import settings  # noqa: E402

u = urlparse(URL)
settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": u.path.lstrip("/"),
                           "USER": u.username or "postgres", "PASSWORD": u.password or "",
                           "HOST": u.hostname, "PORT": str(u.port or 5432)}},
    INSTALLED_APPS=["shop"], USE_TZ=True, DEFAULT_AUTO_FIELD="django.db.models.AutoField",
)
django.setup()

from django.db import connection  # noqa: E402
from shop import views  # noqa: E402
from shop.models import Counter, Job, Row  # noqa: E402

import racecheck  # noqa: E402
from racecheck import history as h  # noqa: E402

with connection.schema_editor() as editor:
    for model in (Counter, Job, Row):
        editor.create_model(model)
connection.close()


def reset() -> None:
    Row.objects.all().delete()
    Job.objects.all().delete()
    Counter.objects.all().delete()
    Counter.objects.create(pk=1, v=0)
    Job.objects.bulk_create([Job(pk=i) for i in range(1, 5)])
    connection.close()


def counter_is(n: int):  # noqa: ANN201
    def no_lost_update(_history) -> str | None:  # noqa: ANN001
        v = Counter.objects.get(pk=1).v
        connection.close()
        return None if v == n else f"counter is {v} after {n} increments"

    return no_lost_update


def run(target, **options):  # noqa: ANN001, ANN003, ANN201
    options.setdefault("n", 2)
    return racecheck.run(target, args=(URL,), setup=reset, timeout=20, **options)


def needed(target, invariants) -> list:  # noqa: ANN001
    out = []
    for seed in range(10):
        res = run(target, trials=30, seed=seed, strategy="pct", invariants=invariants)
        out.append(None if res.ok else len(res.trials))
    return out


SAVEPOINT_SQL: list[str] = []


def fault_case(target, fault) -> dict:  # noqa: ANN001
    res = run(target, n=1, trials=1, faults=[fault])
    trial = res.trials[0]
    SAVEPOINT_SQL[:] = [e.payload["statement"] for e in trial.history.filter(h.SQL)
                        if "SAVEPOINT" in str(e.payload["statement"]) and e.worker is not None]
    errors = trial.history.filter(h.ERROR)
    return {"ok": res.ok, "error": errors[0].payload["type"] if errors else None,
            "message": errors[0].payload["message"] if errors else None,
            "faults": [e.payload["phase"] for e in trial.history.filter(h.FAULT)],
            "rows": sorted(Row.objects.values_list("v", flat=True))}


def fixed_case(target, invariants) -> dict:  # noqa: ANN001
    res = run(target, trials=FIXED_TRIALS, seed=1, strategy="pct", invariants=invariants)
    return {"ok": res.ok, "trials": len(res.trials), "sql": len(res.trials[-1].history.filter(h.SQL))}


FIXED_TRIALS = 200


out: dict = {"dbapi": connection.Database.__name__}
out["lost_update"] = needed(views.increment, [racecheck.custom(counter_is(2))])
out["increment_fixed"] = fixed_case(views.increment_fixed, [racecheck.custom(counter_is(2))])
out["claim"] = needed(views.claim, [racecheck.at_most_once("claimed")])
out["claim_fixed"] = fixed_case(views.claim_fixed, [racecheck.at_most_once("claimed")])
AT = 'sql:INSERT INTO "shop_row"*'
out["before"] = fault_case(views.insert_atomic, racecheck.db_error(at=AT, error="UniqueViolation"))
reset()
out["after_atomic"] = fault_case(views.insert_atomic, racecheck.db_error(at=AT, after_commit=True))
reset()
out["after_autocommit"] = fault_case(views.insert_autocommit, racecheck.db_error(at=AT, after_commit=True))
reset()
# nested atomic(): the first INSERT (outer) commits, the second (inside the savepoint) is rolled back
out["nested_outer"] = fault_case(views.insert_nested, racecheck.db_error(at=AT, after_commit=True))
reset()
out["nested_inner"] = fault_case(views.insert_nested, racecheck.db_error(at=AT, after_commit=True, nth=2,
                                                                          optional=True))
out["nested_inner"]["savepoint_sql"] = SAVEPOINT_SQL
connection.close()
print("RESULT " + json.dumps(out))
