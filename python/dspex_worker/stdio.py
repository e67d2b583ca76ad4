"""Take the process's stdin/stdout for the protocol channel.

The channel runs on private duplicates of fd 0 and 1 (DESIGN.md section 3).
fd 1 is then pointed at stderr and fd 0 at /dev/null, so that a ``print()``
in user code, a C library writing to stdout or a child process inheriting
the descriptors can never corrupt or steal frames.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO


def claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """Return (channel_in, channel_out) and make fd 0/1 harmless for everyone else."""
    sys.stdout.flush()
    channel_in_fd = os.dup(0)
    channel_out_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel_in = os.fdopen(channel_in_fd, "rb")
    channel_out = os.fdopen(channel_out_fd, "wb")
    return channel_in, channel_out
