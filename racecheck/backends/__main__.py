"""``python -m racecheck.backends [--start]``: show the provider chain (what ``racecheck backends`` prints)."""

from __future__ import annotations

import argparse
import sys

from .providers import describe_providers


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="racecheck backends",
                                 description="Show each backend provider tried, used or not, and why.")
    ap.add_argument("--start", action="store_true",
                    help="actually start (and stop) a server of each kind to prove the chain works")
    ap.add_argument("--postgres-url")
    ap.add_argument("--redis-url")
    ap.add_argument("--providers", help="comma list restricting the chain (url,local,embedded,docker,fakeredis)")
    a = ap.parse_args(argv)
    providers = [p for p in a.providers.split(",") if p] if a.providers else None
    print(describe_providers(postgres_url=a.postgres_url, redis_url=a.redis_url, providers=providers,
                             start=a.start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
