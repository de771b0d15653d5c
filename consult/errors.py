"""Errors raised by services; pages and the API turn them into 4xx answers."""

from __future__ import annotations


class ConsultError(Exception):
    """A request that cannot be done; the message is shown to the user."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class Unauthenticated(ConsultError):
    """No valid credentials were given (API: a missing or bad bearer token)."""

    status = 401
    code = "unauthorized"


class NotAllowed(ConsultError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str, *, action: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        #: The policy's name of what was refused ("comment.create"), when known.
        self.action = action


class NotFound(ConsultError):
    status = 404
    code = "not_found"


class Conflict(ConsultError):
    """The thing is in a state that does not allow this (e.g. a frozen version)."""

    status = 409
    code = "conflict"
