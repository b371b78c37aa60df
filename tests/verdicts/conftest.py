"""Put ``tests/`` on sys.path so target modules import as ``verdicts.targets`` here and in spawned workers."""

from __future__ import annotations

import os
import sys

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
