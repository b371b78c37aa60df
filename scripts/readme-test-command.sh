#!/bin/sh
# Print the README's test command: the one line of the sh block between the
# <!-- test-command --> markers. .ci/run runs exactly this, so CI cannot drift from the README.
set -eu
readme="${1:-$(dirname "$0")/../README.md}"
cmd=$(sed -n '/<!-- test-command -->/,/<!-- \/test-command -->/p' "$readme" | grep -v -e '^<!--' -e '^```' || true)
if [ -z "$cmd" ] || [ "$(printf '%s\n' "$cmd" | wc -l)" -ne 1 ]; then
  echo "readme-test-command: $readme has no single command line between <!-- test-command --> markers" >&2
  exit 1
fi
printf '%s\n' "$cmd"
