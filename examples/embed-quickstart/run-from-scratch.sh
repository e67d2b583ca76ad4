#!/usr/bin/env bash
# Builds and runs the quick-start example as a newcomer would: against the artifacts `mvn install`
# put in the local Maven repository, with no Python configured (no DSPEX_PYTHON) and an empty,
# throwaway cache (XDG_CACHE_HOME), so the connector builds the workers' venv from scratch.
# Part of the README's test command. Exits with Maven's status.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="$(mktemp -d "${TMPDIR:-/tmp}/dspex-quickstart-cache.XXXXXX")"
trap 'rm -rf "$cache"' EXIT
unset DSPEX_PYTHON DSPEX_CACHE_DIR DSPEX_BOOTSTRAP_PYTHON
export XDG_CACHE_HOME="$cache"
start=$(date +%s)
mvn -B -ntp -f "$here/pom.xml" verify "$@"
echo "embed-quickstart: passed from an empty cache in $(( $(date +%s) - start )) s (venvs built: $(find "$cache/dspex" -maxdepth 1 -type d -name "venv-*" 2>/dev/null | wc -l))"
