"""Setting a ``predict`` handle up in batch mode: the batch LM, the Batch API, the rounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dspex_worker.predict.batch.engine import AnswerBook, BatchEngine, batch_lm, live_capabilities
from dspex_worker.predict.batch.jobs import BatchJobs
from dspex_worker.predict.batch.openai_batches import OpenAIBatches
from dspex_worker.predict.batch.rounds import BatchRounds
from dspex_worker.predict.batch.settings import BatchApiSettings
from dspex_worker.predict.batch.state_file import BatchStateFile
from dspex_worker.predict.batch.wire import ChatWire


class BatchMode:
    """What a batch-mode handle holds: its batch LM and the rounds that run its requests.

    Args:
        live_lm: the ``dspy.LM`` setup built (its model, settings and connection are the batch's).
        spec: setup's ``batch_api`` map.

    Raises:
        ValueError: bad settings, or an LM batch mode cannot run (named in the message).
    """

    def __init__(self, live_lm: Any, spec: Mapping[str, Any]) -> None:
        import dspy

        self.settings = BatchApiSettings.from_setup(spec)
        if not isinstance(live_lm, dspy.LM) or not isinstance(live_lm.engine, str):
            raise ValueError(f"batch mode needs a dspy.LM on its own engine (lm.model, or an lm.lm_factory"
                             f" returning one), not {type(live_lm).__name__}")
        api_base = live_lm.kwargs.get("api_base") or live_lm.kwargs.get("base_url")
        api_key = live_lm.kwargs.get("api_key")
        wire = ChatWire(live_lm.model, api_base, api_key)
        self.book = AnswerBook()
        self.lm = batch_lm(live_lm, BatchEngine(wire, self.book, live_capabilities(live_lm)))
        state = BatchStateFile(self.settings.state_file) if self.settings.state_file else None
        # Read at setup, so that a state file this worker cannot use fails the setup, not a request.
        if state is not None:
            state.batches()
        self.jobs = BatchJobs(OpenAIBatches(api_base, api_key), self.settings, self.book, state)

    def rounds(self, handle: Any) -> BatchRounds:
        """The rounds that run ``handle``'s requests (its ``lm`` is :attr:`lm`)."""
        return BatchRounds(handle, self.jobs, self.settings.max_rounds)

    def described(self) -> dict[str, Any]:
        """For the setup result."""
        return self.settings.described()
