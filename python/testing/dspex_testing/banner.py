"""``python -m dspex_testing.banner``: a worker that prints a banner onto the channel first.

It writes ``Loading model weights...\\n`` to the real stdout before the
channel is claimed, as a careless library might, then serves like
``python -m dspex_worker``. The client must see a protocol error that shows
those bytes (Java's garbage-on-channel test).
"""

import os
import sys

BANNER = b"Loading model weights...\n"

if __name__ == "__main__":
    os.write(1, BANNER)
    from dspex_worker.__main__ import main

    sys.exit(main())
