#!/bin/sh
# Install the system packages racecheck's tests use (Debian/Ubuntu): Chromium checks the HTML
# report, Node.js + npm run the any-language demo, the PostgreSQL and Redis server binaries back
# the "local" provider's tests. Installs only what is missing; uses sudo only when not root.
set -eu
root="${INSTALL_DEPS_ROOT:-}"  # tests point this at a fake file system
need=""
command -v chromium >/dev/null 2>&1 || [ -x "$root/usr/lib/chromium/chromium" ] || need="$need chromium"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
ls "$root"/usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need="$need postgresql"
if [ -z "$need" ]; then
  echo "install-system-deps: chromium, nodejs, npm, redis-server and postgresql are already installed"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-system-deps: missing$need and this user is not root and has no sudo;" \
       "install them as root: apt-get install -y$need" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing$need and there is no apt-get; install them with your" \
       "system's package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # $need is a list of package names
$as_root apt-get update -q && $as_root apt-get install -y -q --no-install-recommends $need
