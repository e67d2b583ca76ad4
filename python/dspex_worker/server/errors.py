"""Errors for requests the worker cannot route; answered without a traceback.

They are the client's mistake (a wrong name, a stale handle), so a Python
traceback would only hide the message. ``type_name`` is what goes into the
error response's ``type``.
"""

from __future__ import annotations

from typing import Any

from dspex_worker.protocol import headers


class RequestError(Exception):
    """A request naming something this worker does not have."""

    type_name = "RequestError"

    def error_map(self) -> dict[str, Any]:
        """``{type, message}`` for the error response."""
        return headers.error_map(self.type_name, str(self))


class UnknownCommandError(RequestError):
    """``command`` is neither a built-in command nor a registered handler."""

    type_name = "UnknownCommand"


class UnknownHandlerError(RequestError):
    """``run``'s ``args.handler`` or ``setup``'s ``args.kind`` is not registered."""

    type_name = "UnknownHandler"


class UnknownHandleError(RequestError):
    """``args.handle`` is missing or was not returned by a ``setup`` on this worker."""

    type_name = "UnknownHandle"


class UnexpectedCommandError(RequestError):
    """A known command at the wrong time (``hello`` after the handshake)."""

    type_name = "UnexpectedCommand"


def error_map_for(exc: BaseException) -> dict[str, Any]:
    """The response error for any exception: routing errors bare, others with a traceback."""
    if isinstance(exc, RequestError):
        return exc.error_map()
    return headers.exception_error(exc)
