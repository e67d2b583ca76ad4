"""Test helpers, apart from the shipped worker: stand-in peers, test handlers, a test client.

``python/testing`` must be on ``PYTHONPATH`` (pytest's ``pythonpath``, the Java tests'
``withPythonPath``): the connector jar bundles ``dspex_worker`` only. Modules:
:mod:`.echo` (the echo worker), :mod:`.echo_handlers`, :mod:`.handlers` (test handlers,
through ``hello.handler_modules``), :mod:`.legacy_bridge` (a V1-only peer),
:mod:`.banner` and :mod:`.die_at_start` (misbehaving workers), :mod:`.lm_server`,
:mod:`.lm_answers` and :mod:`.lm_server_process` (the loopback LM server), :mod:`.lms`
(LM and program factories), :mod:`.embed_texts` (the texts embeddings are compared on) and
:mod:`.client` (a client driving worker processes).
Nothing in ``dspex_worker`` imports this package.
"""
