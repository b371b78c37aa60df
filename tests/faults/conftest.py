"""Put ``tests/`` on sys.path so targets import as ``faults.targets.*`` here and in spawned workers.

The servers come from racecheck's own fixtures: ``race_postgres`` and ``race_redis_real``
(``race_redis`` that fails instead of running on fakeredis: these tests are about real servers).
"""

from __future__ import annotations

import os
import sys

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
