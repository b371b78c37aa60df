"""What the step after a point touches, read from its label, and when two steps conflict.

A worker waiting at a point is about to run the statement, command or line the point
names: ``sql:SELECT ... FROM review_run WHERE id = 1`` reads table ``review_run`` (key
``id=1``); ``redis:SET lease ...`` writes key ``lease``; ``line:mod:12`` touches the
names the instrumented line loads and stores. Two steps conflict when they share a
resource and one of them writes. A step whose resource cannot be told (a bare
``racecheck.point``, a line that calls out, a multi-statement string) is *unknown* and
conflicts with everything, so pruning on independence stays sound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SQL_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+(?:ONLY\s+)?\"?([A-Za-z_][\w.]*)\"?", re.I)
_SQL_KEY = re.compile(r"\bWHERE\s+\"?(\w+)\"?\s*=\s*('[^']*'|-?\d+)", re.I)
_SQL_ADVISORY = re.compile(r"^SELECT\s+(?:pg_catalog\.)?pg_(?:try_)?advisory_(?:xact_)?(?:un)?lock(?:_shared|_all)?"
                           r"\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$", re.I)
_SQL_WRITE = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "DROP", "ALTER", "LOCK")
_SQL_TXN = ("BEGIN", "COMMIT", "ROLLBACK", "START", "SAVEPOINT", "RELEASE", "SET", "SHOW", "ABORT", "END")
_REDIS_READ = {"GET", "EXISTS", "MGET", "TTL", "PTTL", "HGET", "HGETALL", "HEXISTS", "SMEMBERS", "SISMEMBER",
               "LRANGE", "LLEN", "SCARD", "ZRANGE", "ZSCORE", "TYPE", "STRLEN", "HMGET", "KEYS", "SCAN",
               "LINDEX", "LPOS", "HLEN", "HKEYS", "HVALS", "HSTRLEN", "HRANDFIELD", "HSCAN", "SSCAN", "ZSCAN",
               "SMISMEMBER", "SRANDMEMBER", "ZCARD", "ZCOUNT", "ZRANK", "ZREVRANK", "ZREVRANGE", "ZRANGEBYSCORE",
               "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZLEXCOUNT", "ZMSCORE", "GETRANGE", "SUBSTR", "GETBIT",
               "BITCOUNT", "BITPOS", "XLEN", "XRANGE", "XREVRANGE", "XREAD", "PFCOUNT", "EXPIRETIME",
               "PEXPIRETIME", "OBJECT", "DUMP", "LCS", "GEOPOS", "GEODIST", "GEOHASH", "WATCH", "SDIFF",
               "SINTER", "SUNION", "SINTERCARD", "ZDIFF", "ZINTER", "ZUNION", "RANDOMKEY", "DBSIZE"}
_REDIS_NOKEY = {"PING", "MULTI", "EXEC", "DISCARD", "INFO", "CLIENT", "SELECT", "HELLO", "ECHO"}


@dataclass(frozen=True)
class Access:
    """The resources a step touches (None: unknown, conflicts with everything) and whether it writes."""

    resources: frozenset[str] | None
    write: bool

    @property
    def unknown(self) -> bool:
        return self.resources is None


UNKNOWN = Access(None, True)
NOTHING = Access(frozenset(), False)


def is_sleep(label: str) -> bool:
    return label.startswith("sleep:")


_SEEN: dict[str, Access] = {}  # label -> its access, for the kinds whose reading depends on the label only
_SEEN_LIMIT = 4096


def access_of(label: str) -> Access:
    """What the step a worker waiting at ``label`` is about to run touches.

    A strategy asks this for every waiting worker at every step; parsing an SQL label took 8 µs,
    so the answer for each label is kept, except for ``line:`` labels: those are read from
    ``instrument``'s table, which grows during a run."""
    got = _SEEN.get(label)
    if got is not None:
        return got
    kind, _, rest = label.partition(":")
    reader = _READERS.get(kind)
    got = reader(rest) if reader is not None else UNKNOWN
    if kind != "line":
        if len(_SEEN) >= _SEEN_LIMIT:
            _SEEN.clear()
        _SEEN[label] = got
    return got


def sql_access(text: str) -> Access:
    stmt = text.strip().rstrip(";")
    if ";" in stmt:
        return UNKNOWN  # several statements: do not guess
    verb = stmt.split(None, 1)[0].upper() if stmt else ""
    if verb in _SQL_TXN:
        # COMMIT publishes the transaction's writes: it conflicts with everything on the database.
        return Access(frozenset({"sql:*"}), True) if verb in ("COMMIT", "END") else NOTHING
    tables = [m.group(1).lower() for m in _SQL_TABLE.finditer(stmt)]
    if not tables:
        lock = _SQL_ADVISORY.search(stmt)
        if lock and verb == "SELECT":
            # An advisory lock touches no table: it conflicts with the other advisory-lock calls
            # (whatever their key: the label may show only placeholders) and with COMMIT (sql:*),
            # which releases the transaction-scoped ones.
            return Access(frozenset({"sql:advisory"}), True)
        return UNKNOWN
    key = _SQL_KEY.search(stmt)
    suffix = f"[{key.group(1).lower()}={key.group(2)}]" if key and len(tables) == 1 else ""
    res = frozenset(f"sql:{t}{suffix}" for t in tables)
    write = verb in _SQL_WRITE or " FOR UPDATE" in stmt.upper() or verb == "WITH" and any(
        w in stmt.upper() for w in ("INSERT", "UPDATE", "DELETE"))
    return Access(res, write)


def redis_access(text: str) -> Access:
    if text.startswith("PIPELINE"):
        return _pipeline_access(text[len("PIPELINE"):])
    parts = text.split()
    if not parts:
        return UNKNOWN
    cmd = parts[0].upper()
    if cmd in _REDIS_NOKEY:
        return NOTHING if cmd in ("PING", "ECHO", "INFO", "HELLO", "SELECT", "CLIENT") else UNKNOWN
    if cmd in ("EVAL", "EVALSHA", "FCALL") or len(parts) < 2:
        return UNKNOWN
    return Access(frozenset({f"redis:{parts[1]}"}), cmd not in _REDIS_READ)


def _pipeline_access(rest: str) -> Access:
    """``PIPELINE <cmd>; <cmd>`` (one point when the pipeline is sent): the union of its commands."""
    cmds = [c.strip() for c in rest.split("; ") if c.strip() and c.split()[0].upper() not in ("MULTI", "EXEC", "DISCARD")]
    if not cmds:
        return NOTHING
    resources: set[str] = set()
    write = False
    for cmd in cmds:
        a = redis_access(cmd)
        if a.resources is None:
            return UNKNOWN
        resources |= a.resources
        write = write or a.write
    return Access(frozenset(resources), write)


def line_access(rest: str) -> Access:
    from ..instrument import LABEL_RESOURCES

    got = LABEL_RESOURCES.get(_line_label(rest))
    if got is None or "*" in got[0]:
        return UNKNOWN
    return Access(frozenset(f"mem:{r}" for r in got[0]), got[1])


def _line_label(rest: str) -> str:
    return "line:" + rest


def store_access(rest: str) -> Access:
    return Access(frozenset({f"mem:{rest.rsplit(':', 1)[-1]}"}), True)


_READERS = {
    "sql": sql_access,
    "redis": redis_access,
    "line": line_access,
    "store": store_access,
}
# A bare point, a sleep and the start run arbitrary code until the next point: unknown.


def conflict(a: Access, b: Access) -> bool:
    """Two steps conflict when either is unknown, or they share a resource and one writes."""
    if a.resources is None or b.resources is None:
        return True
    if not (a.write or b.write):
        return False
    if a.resources & b.resources:
        return True
    # COMMIT (sql:*) publishes a transaction's writes: it conflicts with every SQL step.
    return ("sql:*" in a.resources and any(r.startswith("sql:") for r in b.resources)) or (
        "sql:*" in b.resources and any(r.startswith("sql:") for r in a.resources))


def conflicts(label_a: str, label_b: str) -> bool:
    return conflict(access_of(label_a), access_of(label_b))
