"""The model kind interface: how one kind of model is loaded and run on a batch.

Shaped like Beam RunInference's ``ModelHandler`` (``load_model``, ``run_inference(batch,
model)``, metrics): a :class:`ModelKind` says how its model is loaded from ``setup`` args,
how a batch of decoded elements runs (outcomes reported as they complete, each with the
LM usage it cost), and how outputs are laid out in the output body. Everything else is
the framework's (:mod:`.serving`): the setup keys check, the handle, reading and checking
the request body, the ``failed`` list, usage totals, the response and the stream chunks.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from dspex_worker.handlers.context import Context, Loaded, Reply
from dspex_worker.protocol import headers
from dspex_worker.protocol.writer import BodyFormats

#: The usage counters an outcome may carry.
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "calls")


@dataclasses.dataclass(frozen=True)
class InputBody:
    """The request body that holds a batch, and the words its errors use.

    Attributes:
        name: the body's name (``inputs``).
        shape: what it must be (``a list of records``).
        unit: what its items are called (``records``).
        hint: what else it may be, added where a missing body is reported.
    """

    name: str
    shape: str
    unit: str
    hint: str = ""


@dataclasses.dataclass
class Outcome:
    """One element's result: an ``output`` or a ``failure``, plus the LM usage it cost.

    Attributes:
        index: the element's index in the request.
        output: its output (a record, a vector row); ``None`` when it failed.
        failure: ``{index, type, message}`` when it failed.
        usage: ``{prompt_tokens, completion_tokens, calls}``, or ``None`` for none.
    """

    index: int
    output: Any = None
    failure: dict[str, Any] | None = None
    usage: dict[str, int] | None = None

    @classmethod
    def failed(
        cls, index: int, type_name: str, message: str, usage: dict[str, int] | None = None
    ) -> Outcome:
        """A failed element: ``failure`` is ``{index, type, message}``."""
        return cls(index, None, headers.failure(index, type_name, message), usage)


#: Receives outcomes as they complete, on the thread that runs the batch.
Emit = Callable[[Sequence[Outcome]], None]


def add_usage(total: dict[str, int], usage: Mapping[str, int] | None) -> dict[str, int]:
    """Add ``usage``'s three counters into ``total`` (in place); returns ``total``."""
    for key in USAGE_KEYS:
        total[key] += int((usage or {}).get(key, 0))
    return total


class Kind(abc.ABC):
    """What every kind of model shares: its setup kind and command, its setup keys, how its
    model loads. A kind is stateless (whatever a setup loads is its model), so two instances of
    one class are equal and registering one twice is harmless.
    """

    #: The setup kind and the command (``predict``).
    name: ClassVar[str]
    #: The setup args it understands (besides ``kind``); others fail the setup, named.
    setup_keys: ClassVar[frozenset[str]]
    #: Distributions whose versions the setup result reports (besides the codecs').
    version_packages: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    @abc.abstractmethod
    def load_model(self, args: Mapping[str, Any], logger: logging.Logger) -> Loaded:
        """Load the model for ``setup`` args (only known keys): the model, and what the setup
        result says about it (its inputs and outputs, ...; ``handle`` and ``versions`` are added).
        """


class JobKind(Kind):
    """A kind whose request is one job over whole bodies rather than a batch of elements
    (``optimize``: one compile over a training set). The framework checks its setup keys and
    its handle; :meth:`run_job` reads the bodies and answers (a reply, or a stream it writes).
    """

    @abc.abstractmethod
    def run_job(self, ctx: Context, model: Any) -> Reply | None:
        """Answer one request for ``model``: return a reply, or write a stream and return None."""


class ModelKind(Kind):
    """One kind of model run on batches of elements: ``predict``, ``embed``, a reranker.

    Subclasses set the class attributes and implement :meth:`load_model`, :meth:`run_inference`
    and :meth:`encode_outputs`; :func:`~dspex_worker.kinds.serving.register_kind` serves them.
    """

    #: The request body that holds the batch.
    inputs: ClassVar[InputBody]
    #: The response body that holds the outputs.
    output_body: ClassVar[str]
    #: Whether ``args.stream: true`` answers with a stream of chunks as elements complete.
    streams: ClassVar[bool] = False

    def batch_elements(self, body: list[Any], body_format: str) -> list[Any]:
        """The batch's elements from the decoded input body (default: its items)."""
        return body

    def request_options(self, args: Mapping[str, Any], model: Any) -> Any:
        """This request's own args, checked (``threads``, ``normalize``); given to run_inference."""
        return None

    @abc.abstractmethod
    def run_inference(self, batch: Sequence[Any], model: Any, options: Any, emit: Emit) -> None:
        """Run every element; call ``emit`` on this thread with outcomes as they complete.

        Each index of the batch gets exactly one outcome. An element's own failure is its
        outcome; raising fails the whole request (the model itself is broken). If ``emit``
        raises (the client went away), stop and let it propagate.
        """

    @abc.abstractmethod
    def encode_outputs(
        self, model: Any, outputs: Sequence[Any], request_format: str
    ) -> tuple[Any, BodyFormats]:
        """The output body for ``outputs`` (``None`` where an element failed) and its format.

        ``request_format`` is the input body's content format, for replies in its family.
        """

    def result(
        self,
        model: Any,
        outputs: Sequence[Any],
        failed: list[dict[str, Any]],
        usage: dict[str, int],
    ) -> dict[str, Any]:
        """The result of a batch answered at once: ``{ok, failed, usage}`` by default."""
        return {"ok": len(outputs) - len(failed), "failed": failed, "usage": usage}
