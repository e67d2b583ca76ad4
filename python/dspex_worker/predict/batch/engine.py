"""The dspy engine of batch mode: LM calls answered from batches instead of HTTP.

A batch-mode handle runs its program with a copy of its live ``dspy.LM`` whose engine is a
:class:`BatchEngine`. Everything before the engine is dspy's own, unchanged: the adapter formats
the prompt, dspy's cache answers what it holds (and stores what the engine answers, under the
key a live call uses). The engine is asked only for calls
the cache does not hold: it answers those whose batch answer is in the :class:`AnswerBook`, and
for any other raises :class:`RequestDeferred`, carrying the call's request line, which ends the
element's pass through the program; the runner (:mod:`.rounds`) submits the lines, and runs the
element again once the answers are in. The responses carry no usage for dspy to count (it would
count an answer once per pass): the rounds report each answer's tokens once (:meth:`AnswerBook.claim`).

Answers that are errors raise the :class:`BatchError` subclasses, which dspy passes through
(they are ``dspy`` LM errors) and never retries, so the element's failure names them.
"""

from __future__ import annotations

import contextvars
import dataclasses
import threading
from typing import Any

from dspy.utils.exceptions import LMError

from dspex_worker.predict.batch.wire import ChatWire, RequestLine


class RequestDeferred(BaseException):  # noqa: N818 - a control-flow signal, like GeneratorExit
    """An LM call that needs a batch answer not yet known; ends the element's pass.

    A ``BaseException`` so that a program's (or dspy's) ``except Exception`` lets it through, as
    it lets ``KeyboardInterrupt`` through: the element is not failing, it is waiting.
    """

    def __init__(self, line: RequestLine) -> None:
        super().__init__(line.custom_id)
        self.line = line


class BatchError(LMError):
    """A batch answered a request with an error, or gave no answer for it."""


class BatchRequestFailed(BatchError):
    """The batch ran the request, and the provider answered it with an error status."""


class BatchRequestExpired(BatchError):
    """The batch ended (expired or cancelled) before it ran the request."""


class BatchFailed(BatchError):
    """The provider refused the whole batch (its input file did not validate)."""


class BatchTimeout(BatchError):
    """The batch did not end within the worker's longest wait (``batch_api.timeout_s``)."""


@dataclasses.dataclass(frozen=True)
class Answer:
    """A batch's answer to one request: a response body, or an error to raise."""

    body: dict[str, Any] | None = None
    status: int = 200
    error_type: type[BatchError] | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error_type is None and self.status == 200 and self.body is not None


class AnswerBook:
    """The batch answers a handle knows, by ``custom_id``; shared by its threads.

    An answer is paid once, however many elements it serves: the first element to complete
    with it claims its tokens (:meth:`claim`), the others report none for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, Answer] = {}
        self._claims: dict[str, Any] = {}

    def put(self, custom_id: str, answer: Answer) -> None:
        """Note ``answer`` (a later one for the same request replaces it)."""
        with self._lock:
            self._answers[custom_id] = answer

    def get(self, custom_id: str) -> Answer | None:
        """The answer to ``custom_id``, or None."""
        with self._lock:
            return self._answers.get(custom_id)

    def has(self, custom_id: str) -> bool:
        """Whether an answer (or an error) is known for ``custom_id``."""
        with self._lock:
            return custom_id in self._answers

    def claim(self, custom_id: str, owner: Any) -> tuple[int, int] | None:
        """``(prompt_tokens, completion_tokens)`` of the answer for ``owner`` to report, the
        first time any owner claims it (and again for that same owner); None otherwise."""
        with self._lock:
            answer = self._answers.get(custom_id)
            if answer is None or not answer.ok or self._claims.setdefault(custom_id, owner) != owner:
                return None
        usage = (answer.body or {}).get("usage") or {}
        return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


#: The ``custom_id``s of the answers served to the element running on this thread (set by the
#: rounds around each element's pass): what its usage is computed from.
SERVED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("dspex_batch_served", default=None)


class BatchEngine:
    """A dspy custom engine (``complete(Request) -> Response``) over an :class:`AnswerBook`.

    Args:
        wire: builds each call's request line and reads its answer.
        book: the answers known so far.
        capabilities: the live LM's adapter-facing hints (function calling, reasoning, response
            schema, params), so adapters format prompts for this LM as for the live one.
    """

    def __init__(self, wire: ChatWire, book: AnswerBook, capabilities: dict[str, Any]) -> None:
        self.wire = wire
        self.book = book
        self.supports_function_calling = bool(capabilities.get("function_calling"))
        self.supports_reasoning = bool(capabilities.get("reasoning"))
        self.supports_response_schema = bool(capabilities.get("response_schema"))
        self.supported_params = frozenset(capabilities.get("params") or ())

    def complete(self, request: Any) -> Any:
        """The batch answer to ``request``; raises :class:`RequestDeferred` while there is none."""
        line, built = self.wire.line(request)
        answer = self.book.get(line.custom_id)
        if answer is None:
            raise RequestDeferred(line)
        if not answer.ok:
            raise (answer.error_type or BatchRequestFailed)(answer.message, model=self.wire.model,
                                                            status=answer.status)
        served = SERVED.get()
        if served is not None:
            served.append(line.custom_id)
        # dspy's trackers see no usage: the rounds report each answer's tokens once, for the
        # element that claims it, however many passes and elements it was served to.
        return self.wire.without_usage(self.wire.response(built, answer.body or {}))

    def close(self) -> None:
        """Nothing to release (dspy closes engines it owns only)."""


def live_capabilities(lm: Any) -> dict[str, Any]:
    """The adapter-facing hints of the live LM (read once, at setup)."""
    return {"function_calling": lm.supports_function_calling, "reasoning": lm.supports_reasoning,
            "response_schema": lm.supports_response_schema, "params": sorted(lm.supported_params)}


def batch_lm(live_lm: Any, engine: BatchEngine) -> Any:
    """A copy of ``live_lm`` that calls ``engine``: same model, settings and cache, no connection.

    The client settings (``api_key``, ``api_base``, ...) move to the engine's wire: dspy refuses
    them beside a custom engine, and leaves them out of its cache key, so the copy's calls have
    the live calls' cache keys.
    """
    from dspy.clients.backend_selection import CLIENT_KEYS

    dropped = {key: None for key in live_lm.kwargs if key in CLIENT_KEYS}
    return live_lm.copy(engine=engine, num_retries=0, **dropped)
