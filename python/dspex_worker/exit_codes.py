"""Exit statuses of a worker process (``docs/protocol.md``, "Worker commands").

The Java supervisor reads them to tell a clean stop from a crash. A death by
signal is reported by the OS instead (Python: a negative ``returncode``;
Java: ``128 + signal``).
"""

#: EOF on the channel, ``shutdown``, or the client closed its end.
OK = 0
#: An unexpected error in the worker itself (Python's status for an uncaught exception).
INTERNAL_ERROR = 1
#: The channel broke (section 8): garbage, an unknown frame type, a truncated frame.
PROTOCOL_ERROR = 2
#: ``hello`` was refused: bad worker arguments or a handler module that failed to import.
STARTUP_FAILED = 3
#: The parent process died (found by polling the parent pid).
PARENT_DIED = 4
#: SIGTERM (also what ``PR_SET_PDEATHSIG`` sends when the parent dies): a quick exit.
TERMINATED = 128 + 15
