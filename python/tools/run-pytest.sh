#!/usr/bin/env bash
# Runs the Python test suite with the project venv. pytest's exit code 5 ("no tests
# collected") is turned into a failure: an empty suite must never pass silently.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root/python"
"$root/.venv/bin/python" -m pytest -q "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "dspex: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit $rc
