"""A live call's wire request, as a Batch API request line, and a batch answer as its response.

DSPy's native engine (its vendored ``lm15``) turns the canonical request an adapter's call
becomes into the Chat Completions body it POSTs, and turns the provider's answer body into the
response the adapter parses. Batch mode uses the same two steps, with the HTTP call between
them replaced by a batch: :meth:`ChatWire.line` builds the body exactly as a live call of the
same LM would send it (routing, model name, adaptations), and :meth:`ChatWire.response` reads a
batch answer the way the live call would read its HTTP response. This module is the one place
that reaches into dspy's engine internals (``LM15Engine._target``, ``_build``,
``_finish_response``: dspy pinned in requirements.lock); ``tests/test_batch_api.py`` checks
that a batch line's body equals what the live call sent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any
from urllib.parse import urlparse

#: How the ``custom_id`` of a request line starts (the rest is a hash of its body).
CUSTOM_ID_PREFIX = "dspex-"


@dataclasses.dataclass(frozen=True)
class RequestLine:
    """One request of a batch input file.

    Attributes:
        custom_id: ``dspex-`` and a hash of ``body``: equal requests share it, so a batch holds
            each once and a re-run finds the requests it already submitted.
        url: the endpoint (``/v1/chat/completions``).
        body: the request body a live call would POST.
    """

    custom_id: str
    url: str
    body: dict[str, Any]

    def json_line(self) -> str:
        """The line of the batch input file."""
        return json.dumps({"custom_id": self.custom_id, "method": "POST", "url": self.url, "body": self.body},
                          ensure_ascii=False, separators=(",", ":"))


def custom_id(body: Any) -> str:
    """The ``custom_id`` of a request body: the same for equal bodies, whatever their key order."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return CUSTOM_ID_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _endpoint(url: str) -> str:
    """``/v1/chat/completions`` from the full URL a live call POSTs to (whatever the base's host)."""
    path = urlparse(url).path
    at = path.rfind("/v1/")
    return path[at:] if at >= 0 else path


class ChatWire:
    """Builds request lines and reads answers as dspy's native engine does for ``model``.

    Args:
        model: the LM's model string (``openai/gpt-4o-mini``).
        api_base: the LM's base URL, or None for the provider's.
        api_key: the API key, or None (then the provider's usual variable).

    Raises:
        ValueError: the model is not one dspy's native engine sends to a Chat Completions API.
    """

    def __init__(self, model: str, api_base: str | None, api_key: str | None) -> None:
        from dspy.clients.engines.lm15_engine import LM15Engine
        from dspy.lm15 import RouterConfig

        probe = LM15Engine(RouterConfig(env={}), model_type="chat")
        try:
            resolution = probe.resolve(model)
        except Exception as exc:  # noqa: BLE001 - any refusal means: no native route
            raise ValueError(f"batch mode needs a model dspy's native engine sends to a Chat Completions API "
                             f"(such as 'openai/gpt-4o-mini'); {model!r} has none: {exc}") from exc
        provider = resolution.provider
        if not provider.startswith("openai"):
            raise ValueError(f"batch mode runs OpenAI's Batch API; {model!r} routes to {provider!r}")
        self.model = model
        self.provider = provider
        self._engine = LM15Engine(RouterConfig(
            api_keys={provider: api_key} if api_key else None,
            base_urls={provider: api_base} if api_base else None), model_type="chat")

    def line(self, request: Any) -> tuple[RequestLine, Any]:
        """The request line for a canonical ``dspy.lm15.Request``, and what :meth:`response` needs."""
        provider_lm, routed = self._engine._target(request)
        wire, adaptations = provider_lm._build(routed, stream=False)
        body = json.loads(wire.body)
        return RequestLine(custom_id(body), _endpoint(wire.url), body), (provider_lm, routed, adaptations)

    @staticmethod
    def response(built: Any, body: dict[str, Any]) -> Any:
        """The ``dspy.lm15.Response`` of a successful answer ``body``, as the live call reads it."""
        from dspy._vendor.lm15.providers.base import batch_entry_http

        provider_lm, routed, adaptations = built
        parsed = provider_lm.parse_response(routed, batch_entry_http(body))
        return provider_lm._finish_response(routed, parsed, adaptations)

    @staticmethod
    def without_usage(response: Any) -> Any:
        """``response`` with its usage unreported (``Usage()``, which dspy counts as no call)."""
        from dspy._vendor.lm15.types import Usage

        return dataclasses.replace(response, usage=Usage())
