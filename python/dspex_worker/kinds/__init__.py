"""Model kinds: ``predict``, ``embed`` and whatever comes next, behind one small interface.

A kind is a :class:`ModelKind` (:mod:`.base`): how its model loads from ``setup`` args
and how a batch of decoded elements runs; or a :class:`JobKind`, whose request is one job
over whole bodies (``optimize``). :func:`register_kind` (:mod:`.serving`) makes
it a setup kind and a command of the worker, and owns the wire shapes: setup keys,
handles, the input body, ``failed``, usage, responses and stream chunks.
"""

from dspex_worker.kinds.base import Emit, InputBody, JobKind, Kind, ModelKind, Outcome
from dspex_worker.kinds.serving import LoadedModel, register_kind

__all__ = [
    "Emit",
    "InputBody",
    "JobKind",
    "Kind",
    "LoadedModel",
    "ModelKind",
    "Outcome",
    "register_kind",
]
