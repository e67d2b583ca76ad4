"""``python -m dspex_worker``: the worker process the Java connector starts.

No arguments or environment are needed: settings come in ``hello`` (and
``setup``). :mod:`dspex_worker.boot` runs first, before anything heavy is
imported, so that parent-death handling, ``faulthandler`` and the claimed
channel are in place even while a slow import runs. Exit statuses are in
:mod:`dspex_worker.exit_codes`.
"""

from __future__ import annotations

import sys

from dspex_worker.boot import boot


def main(argv: list[str] | None = None) -> int:
    """Arm the process, claim the channel, serve the default registry; returns the exit status."""
    booted = boot(sys.argv[1:] if argv is None else argv)
    from dspex_worker.server.profile import worker_profile
    from dspex_worker.server.serve import serve

    return serve(booted.channel_in, booted.channel_out, worker_profile(), booted.command_line)


if __name__ == "__main__":
    sys.exit(main())
