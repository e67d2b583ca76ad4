"""Test-session setup shared by every test module.

Model libraries read their environment at import: before any test imports dspy,
litellm or tokenizers, point dspy's cache into a private temp dir (never
``~/.dspy_cache``) and keep litellm and huggingface_hub offline.
"""

from __future__ import annotations

from dspex_worker.offline import apply_offline_env

apply_offline_env()
