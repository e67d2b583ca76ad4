"""``python -m dspex_testing.die_at_start``: a worker that dies before serving.

Writes one line to stderr and exits with status 3 (``exit_codes.STARTUP_FAILED``),
for the Java supervisor's crash-loop tests.
"""

import os
import sys

from dspex_worker import exit_codes

if __name__ == "__main__":
    sys.stderr.write(f"dspex-worker[pid={os.getpid()}] ERROR die_at_start: exiting at once\n")
    sys.stderr.flush()
    sys.exit(exit_codes.STARTUP_FAILED)
