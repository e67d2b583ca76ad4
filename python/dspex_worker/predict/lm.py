"""Building the LM a ``predict`` handle calls, from ``setup``'s ``lm`` map.

Secrets never travel in the protocol: ``api_key_env`` names an environment
variable of the worker, whose value is read here and passed to ``dspy.LM``.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping
from typing import Any

from dspex_worker import contract
from dspex_worker.predict import local_lm

#: Keys of the ``lm`` map this module understands; any other key is refused, so a
#: typo (``max_token``) fails setup instead of being silently ignored.
LM_KEYS = contract.SETUP_KEYS["lm"]

_cache_lock = threading.Lock()
_cache_dir_in_use: str | None = None


def load_object(spec: str, what: str) -> Any:
    """The object named by ``"package.module:attribute"``.

    Raises:
        ValueError: ``spec`` is not of that form.
        ImportError, AttributeError: the module or attribute does not exist.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ValueError(f"{what} must be 'module:attribute', was {spec!r}")
    module_name, attribute = spec.split(":")
    module = importlib.import_module(module_name)
    try:
        target: Any = module
        for part in attribute.split("."):
            target = getattr(target, part)
    except AttributeError as exc:
        raise AttributeError(f"{what} {spec!r}: module {module_name!r} has no {attribute!r}") from exc
    return target


def configure_cache(enabled: bool, cache_dir: str | None) -> str | None:
    """Point dspy's process-wide disk cache at ``cache_dir`` (or the worker default).

    dspy has one cache per process, so the first ``setup`` that enables caching
    picks the directory; a later setup naming a different one re-points it (and
    the log says so). Returns the directory in use, or None when caching is off.
    """
    global _cache_dir_in_use
    if not enabled:
        return _cache_dir_in_use
    import dspy

    wanted = os.path.abspath(cache_dir or os.environ["DSPY_CACHEDIR"])
    with _cache_lock:
        if wanted != _cache_dir_in_use:
            os.makedirs(wanted, exist_ok=True)
            dspy.configure_cache(enable_disk_cache=True, enable_memory_cache=True,
                                 disk_cache_dir=wanted)
            _cache_dir_in_use = wanted
    return wanted


def _api_key(spec: Mapping[str, Any]) -> str | None:
    name = spec.get("api_key_env")
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise ValueError(f"lm.api_key_env must name an environment variable, was {name!r}")
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"lm.api_key_env names {name!r}, which is not set in the worker's environment")
    return value


def build_lm(spec: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The LM for ``spec`` (setup's ``lm`` map) and a description for the setup result.

    ``lm_factory`` (``"module:function"``) is called with ``factory_args`` (a map)
    and must return a ``dspy.BaseLM`` (a ``dspy.LM`` subclass, ``DummyLM``, ...);
    otherwise ``dspy.LM(model, api_base=..., api_key=<$api_key_env>, temperature=...,
    max_tokens=..., num_retries=..., cache=...)``; a ``local/<name>`` model (``local/gemma3-270m``)
    runs in this process through llama.cpp (:mod:`.local_lm`, the optional ``local-lm`` extra).

    Raises:
        ValueError: unknown keys, a missing ``model``, an unset key variable.
    """
    import dspy

    unknown = set(spec) - LM_KEYS
    if unknown:
        raise ValueError(f"unknown lm keys {sorted(unknown)}; known: {sorted(LM_KEYS)}")
    cache = spec.get("cache", True)
    if not isinstance(cache, bool):
        raise ValueError(f"lm.cache must be true or false, was {cache!r}")
    cache_dir = configure_cache(cache, spec.get("cache_dir"))
    described: dict[str, Any] = {"cache": cache, "cache_dir": cache_dir}
    factory = spec.get("lm_factory")
    if factory is not None:
        make = load_object(factory, "lm.lm_factory")
        lm = make(**dict(spec.get("factory_args") or {}))
        if not isinstance(lm, dspy.BaseLM):
            raise TypeError(f"lm.lm_factory {factory!r} returned {type(lm).__name__}, not a dspy.BaseLM")
        return lm, {**described, "model": getattr(lm, "model", type(lm).__name__), "factory": factory}
    model = spec.get("model")
    if not isinstance(model, str) or not model:
        raise ValueError("lm.model is required (e.g. 'openai/gpt-4o-mini'), or lm.lm_factory")
    if local_lm.is_local(model):
        lm = local_lm.build_local_lm(spec)
        return lm, {**described, "model": model, "local": True}
    kwargs: dict[str, Any] = {"cache": cache}
    for key in ("api_base", "temperature", "max_tokens", "num_retries", "model_type"):
        if spec.get(key) is not None:
            kwargs[key] = spec[key]
    api_key = _api_key(spec)
    if api_key is not None:
        kwargs["api_key"] = api_key
    lm = dspy.LM(model, **kwargs)
    # dspy imports litellm (seconds) on the first call; do it here, so that setup,
    # not the first batch, pays for it.
    import litellm  # noqa: F401

    return lm, {**described, "model": model, "num_retries": kwargs.get("num_retries", 3)}
