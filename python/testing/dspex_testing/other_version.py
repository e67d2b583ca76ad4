"""``python -m dspex_testing.other_version``: a worker that reports another code version in ``hello``.

What a ``dspex_worker`` of another release, found on ``PYTHONPATH`` before the connector's bundled
copy, would answer; the Java side must refuse it at start (its version-mismatch test).
"""

import sys

OTHER_VERSION = "0.0.9"

if __name__ == "__main__":
    from dspex_worker.protocol import negotiation

    negotiation.__version__ = OTHER_VERSION
    from dspex_worker.__main__ import main

    sys.exit(main())
