"""Process setup that must happen before anything else in a worker.

Called first by every worker entry point (``python -m dspex_worker``, and the
test workers of ``dspex_testing``), before numpy, pyarrow or any handler
module is imported: a slow or crashing import must already find the
parent-death handling, ``faulthandler`` and the claimed channel in place.
Only the standard library is imported here.
"""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import os
import signal
import sys
from collections.abc import Sequence
from typing import BinaryIO, NoReturn

from dspex_worker import exit_codes, logs, offline, parent
from dspex_worker.stdio import claim_stdio


@dataclasses.dataclass(frozen=True)
class CommandLine:
    """Optional command-line settings; a worker needs none (hello carries the rest).

    Attributes:
        worker_id: the id to tag log lines with until hello says otherwise.
        log_level: the initial log level.
    """

    worker_id: str | None = None
    log_level: str = "INFO"


@dataclasses.dataclass(frozen=True)
class Booted:
    """What :func:`boot` hands to the serving loop.

    Attributes:
        channel_in: the private duplicate of fd 0 the requests arrive on.
        channel_out: the private duplicate of fd 1 the answers go to.
        command_line: the parsed command line.
    """

    channel_in: BinaryIO
    channel_out: BinaryIO
    command_line: CommandLine


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own status 2 would read as a protocol error to the supervisor.
        self.print_usage(sys.stderr)
        self.exit(exit_codes.STARTUP_FAILED, f"{self.prog}: error: {message}\n")


def parse_command_line(argv: Sequence[str], prog: str) -> CommandLine:
    """Parse the optional flags (``--worker-id``, ``--log-level``)."""
    parser = _Parser(prog=prog, description="A DSPex worker: serves requests on stdin/stdout.")
    parser.add_argument("--worker-id", help="id shown in log lines (hello's worker_id wins)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    parsed = parser.parse_args(list(argv))
    return CommandLine(worker_id=parsed.worker_id, log_level=parsed.log_level)


def _say(text: str) -> None:
    # os.write, not logging: this runs in signal handlers and dying threads,
    # where the stderr buffer's lock may be held by the interrupted code.
    try:
        os.write(2, f"{logs.prefix()} {text}\n".encode())
    except OSError:
        pass


def _on_sigterm(signum: int, frame: object) -> None:
    _say("WARNING SIGTERM (the parent died or asked us to stop): exiting now")
    # os._exit skips atexit, where a standalone worker's temp dir would be removed.
    offline.remove_worker_temp_dir()
    os._exit(exit_codes.TERMINATED)


def _on_parent_death(original: int, current: int) -> None:
    _say(f"WARNING parent process {original} is gone (parent is now {current}): exiting now")
    offline.remove_worker_temp_dir()
    os._exit(exit_codes.PARENT_DIED)


def arm_process() -> None:
    """faulthandler, SIGTERM as a quick exit, and death with the parent."""
    # A segfault in a C extension then leaves every thread's Python stack on stderr.
    faulthandler.enable(all_threads=True)
    if hasattr(signal, "SIGUSR1"):
        # Lets a supervisor get the stacks of a hung worker before killing it.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    parent.die_with_parent(_on_parent_death)


def boot(argv: Sequence[str], *, prog: str = "python -m dspex_worker") -> Booted:
    """Arm the process, parse the flags, start logging and claim stdin/stdout for the channel."""
    arm_process()
    command_line = parse_command_line(argv, prog)
    try:
        logs.configure(command_line.log_level)
    except ValueError as exc:
        _say(f"ERROR {exc}")
        sys.exit(exit_codes.STARTUP_FAILED)
    logs.set_worker_id(command_line.worker_id)
    channel_in, channel_out = claim_stdio()
    return Booted(channel_in, channel_out, command_line)
