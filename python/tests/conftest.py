"""Test-session setup shared by every test module, and the fixtures several share.

Model libraries read their environment at import: before any test imports dspy,
litellm or tokenizers, point dspy's cache into a private temp dir (never
``~/.dspy_cache``) and keep litellm and huggingface_hub offline.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dspex_worker.offline import apply_offline_env
from dspex_testing.lm_server_process import LMServerProcess

apply_offline_env()


@pytest.fixture(scope="module")
def server() -> Iterator[LMServerProcess]:
    """A loopback LM server with its defaults, one per test module (a module may define its own)."""
    with LMServerProcess() as process:
        yield process


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The name of an environment variable holding a (fake) API key."""
    monkeypatch.setenv("DSPEX_TEST_LM_KEY", "not-a-secret")
    return "DSPEX_TEST_LM_KEY"
