#!/usr/bin/env bash
# Runs the Python test suite with the project venv. pytest's exit code 5 ("no tests
# collected") is turned into a failure: an empty suite must never pass silently.
# --empty-cache DIR (the build passes it): the suite's DSPEX_CACHE_DIR, emptied first, so the
# ONNX graphs are built from nothing on every run, whatever ~/.cache/dspex already holds.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [[ "${1:-}" == --empty-cache ]]; then
  rm -rf "$2" && mkdir -p "$2" || exit 1
  export DSPEX_CACHE_DIR="$2"
  shift 2
fi
cd "$root/python"
"$root/.venv/bin/python" -m pytest -q "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "dspex: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit $rc
