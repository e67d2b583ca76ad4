"""Batch mode of the ``predict`` kind: LM calls answered through a provider's Batch API.

Modules: :mod:`.settings` (setup's ``batch_api`` map), :mod:`.wire` (a live call's request as a
batch request line, a batch answer as its response, through dspy's native engine),
:mod:`.engine` (the dspy engine that answers from batches, and the answer book),
:mod:`.openai_batches` (OpenAI's Batch API through the ``openai`` package), :mod:`.jobs`
(submitting, recording, polling, downloading), :mod:`.state_file` (``<output>.batches.json``),
:mod:`.rounds` (a request's elements run in rounds of batches), :mod:`.setup` (a handle's batch
mode). dspy and openai are imported only when a batch-mode handle is set up.
"""
