"""The direct peers' timed passes, run one at a time when the Java side asks.

The Java benchmark alternates passes of the direct peer and of DSPex, so that both sides
see the shared machine in the same state (its speed drifts by 10-20% over minutes).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable


def serve_passes(timed_pass: Callable[[], dict[str, object]]) -> None:
    """For each line read from stdin, run ``timed_pass`` and print its result as one JSON
    line; return at end of input."""
    for _ in sys.stdin:
        print(json.dumps(timed_pass()), flush=True)
