"""valkey-py instrumentation (``valkey.Valkey`` and ``valkey.asyncio``): the redis-py one, installed on valkey.

Commands are points named ``redis:<COMMAND args>`` and recorded as ``redis`` events, like
redis-py's, so faults and invariants written for one apply to the other; a short
``redis_error`` name raised at a valkey command is looked up in ``valkey.exceptions``.
"""

from __future__ import annotations

from collections.abc import Callable

from .redis_driver import instrument


def install() -> Callable[[], None]:
    try:
        import valkey.asyncio.client
        import valkey.client
    except ImportError:
        return lambda: None
    return instrument("valkey", valkey.client, valkey.asyncio.client, client="Valkey")
