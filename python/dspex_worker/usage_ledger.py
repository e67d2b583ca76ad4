"""The worker's usage ledger: every LM call written down as it is made (docs/protocol.md 9.10).

A call's usage reaches the client inside the stream chunk (or response) of its element,
which a worker that dies before writing it never sends: the call was paid for and its
answer is lost. So the client names a file, in a directory of its own, in ``hello``
(``usage_ledger``), and the worker appends to it as each call happens:

.. code-block:: text

    dspex-usage-ledger 1              the first line
    s <call>                          LM call <call> (a number) started
    u <call> <prompt> <completion>    it reported usage: it counts as one call, with these tokens
    e <call>                          it ended (answered, failed, or served from the cache)
    t <calls> <prompt> <completion>   totals of lines folded together (below)

``u`` lines are exactly what the element's usage (``calls``, ``prompt_tokens``,
``completion_tokens``) is summed from, so the client, which reads the ledger once the
worker has ended, subtracts what the worker's chunks and responses reported and counts
the rest: the calls of elements whose answers never left the worker. A call that started
and neither ended nor reported usage was in flight when the worker died: it most likely
reached the LM, so it counts as a call, with no tokens known. A ``u`` line without a call
(``u - <prompt> <completion>``) is usage reported outside a known call; it counts too.

Each line is one ``write`` to a file opened for appending, so a line is whole in the file
even when the process is killed right after. When the file passes ``compact_bytes`` the
worker writes it anew (to a temporary name, then renamed over it, so it is always whole):
the header, a ``t`` line with every ``u`` so far, and the ``s`` lines of the calls still
open that have reported no usage yet. A ledger therefore stays small however long the
worker serves.
"""

from __future__ import annotations

import dataclasses
import os
import threading

#: The first line of a ledger file: its format and version.
HEADER = "dspex-usage-ledger 1\n"
#: Size past which the ledger is folded into its totals.
DEFAULT_COMPACT_BYTES = 1024 * 1024


class UsageLedger:
    """The ledger file of this worker process; thread-safe.

    Args:
        path: the file (its directory must exist); created if missing.
        compact_bytes: the size past which the file is rewritten as its totals.

    Raises:
        OSError: the file cannot be opened for appending.
    """

    def __init__(self, path: str, *, compact_bytes: int = DEFAULT_COMPACT_BYTES) -> None:
        self.path = path
        self._compact_bytes = compact_bytes
        self._lock = threading.Lock()
        self._next_call = 0
        # Open calls -> whether they reported usage yet.
        self._open: dict[int, bool] = {}
        self._calls = 0
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._fd = self._open_file(path)
        self._size = os.fstat(self._fd).st_size
        if self._size == 0:
            self._append(HEADER)

    @staticmethod
    def _open_file(path: str) -> int:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def started(self) -> int:
        """Note that an LM call starts; returns its number for :meth:`used` and :meth:`ended`."""
        with self._lock:
            self._next_call += 1
            call = self._next_call
            self._open[call] = False
            self._append(f"s {call}\n")
            return call

    def used(self, call: int | None, prompt_tokens: int, completion_tokens: int) -> None:
        """Note that call ``call`` (``None``: outside a known call) reported usage."""
        with self._lock:
            if call in self._open:
                self._open[call] = True
            self._calls += 1
            self._prompt_tokens += prompt_tokens
            self._completion_tokens += completion_tokens
            self._append(f"u {'-' if call is None else call} {prompt_tokens} {completion_tokens}\n")
            self._maybe_compact()

    def ended(self, call: int) -> None:
        """Note that call ``call`` ended, however it did."""
        with self._lock:
            self._open.pop(call, None)
            self._append(f"e {call}\n")
            self._maybe_compact()

    def close(self) -> None:
        """Close the file (it stays for the client to read)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def _append(self, line: str) -> None:
        if self._fd < 0:
            return
        data = line.encode("ascii")
        os.write(self._fd, data)
        self._size += len(data)

    def _maybe_compact(self) -> None:
        if self._size < self._compact_bytes or self._fd < 0:
            return
        lines = [HEADER, f"t {self._calls} {self._prompt_tokens} {self._completion_tokens}\n"]
        lines += [f"s {call}\n" for call, used in self._open.items() if not used]
        data = "".join(lines).encode("ascii")
        temporary = self.path + ".tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        os.close(self._fd)
        self._fd = self._open_file(self.path)
        self._size = len(data)


@dataclasses.dataclass(frozen=True)
class LedgerTotals:
    """What a ledger says was paid for.

    Attributes:
        calls: LM calls: ``u`` lines, the calls of ``t`` lines, and ``in_flight``.
        prompt_tokens: the tokens of ``u`` and ``t`` lines.
        completion_tokens: likewise.
        in_flight: calls started that neither ended nor reported usage.
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_flight: int = 0


def read_totals(path: str) -> LedgerTotals:
    """Read a ledger as the client counts it (the JVM's ``UsageLedger`` reads it the same way).

    A last line without its newline (cut by the kill) and lines of an unknown kind are skipped;
    a missing file is an empty ledger.

    Raises:
        ValueError: the file does not start with :data:`HEADER`.
    """
    try:
        with open(path, encoding="ascii") as file:
            text = file.read()
    except FileNotFoundError:
        return LedgerTotals()
    if not text:
        return LedgerTotals()
    if not text.startswith(HEADER):
        raise ValueError(f"{path} is not a usage ledger: it starts with {text[:40]!r}")
    calls = prompt = completion = 0
    open_calls: set[str] = set()
    for line in text[len(HEADER):].split("\n")[:-1]:
        kind, _, rest = line.partition(" ")
        fields = rest.split()
        if kind == "s" and len(fields) == 1:
            open_calls.add(fields[0])
        elif kind == "e" and len(fields) == 1:
            open_calls.discard(fields[0])
        elif kind == "u" and len(fields) == 3:
            open_calls.discard(fields[0])
            calls += 1
            prompt += int(fields[1])
            completion += int(fields[2])
        elif kind == "t" and len(fields) == 3:
            calls += int(fields[0])
            prompt += int(fields[1])
            completion += int(fields[2])
    return LedgerTotals(calls + len(open_calls), prompt, completion, len(open_calls))


_lock = threading.Lock()
_ledger: UsageLedger | None = None


def install(path: str) -> UsageLedger:
    """Open the ledger ``hello`` named as this process's (replacing one opened before)."""
    global _ledger
    ledger = UsageLedger(path)
    with _lock:
        previous, _ledger = _ledger, ledger
    if previous is not None:
        previous.close()
    return ledger


def current() -> UsageLedger | None:
    """This process's ledger, or ``None`` when ``hello`` named none."""
    return _ledger
