"""Domain errors with a stable code.

Services raise `DomainError(code, message)`; `DomainErrorMiddleware` turns one
that escapes a view into a translated 4xx page. Tests assert `.code`, never the
wording, which is translated.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        if status is not None:
            self.status = status


class Conflict(DomainError):
    status = 409


class PermissionDeniedError(DomainError):
    status = 403
