"""Per-worker native thread limits (OpenMP, MKL, OpenBLAS).

N workers on a machine must not each start one BLAS thread per core. These
libraries read their limit from the environment once, when numpy (or torch)
is first imported, so a limit that arrives later can no longer take effect.
"""

from __future__ import annotations

import os
import sys

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def native_libraries_loaded() -> bool:
    """True once a library that reads the thread variables has been imported."""
    return any(name in sys.modules for name in ("numpy", "torch"))


def apply_thread_limit(threads: int) -> bool:
    """Set the thread variables to ``threads``; False (nothing set) when it is too late."""
    if native_libraries_loaded():
        return False
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)
    return True


def current_thread_limit() -> int | None:
    """The limit in force (``OMP_NUM_THREADS``), or None when unset or not a number."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else None
