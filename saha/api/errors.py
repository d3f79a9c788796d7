"""Every API error is JSON with a stable code: `{"error": "...", "code": "..."}`.

Action Network answers `{"error": "..."}`; clients read that key, and `code`
is ours for programs that branch on the kind of error (the wording is
translated). Field errors come under `errors`. Nothing a client can send
answers 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from saha.core.errors import DomainError

log = logging.getLogger(__name__)


class ApiError(DomainError):
    """Raised by API views: `ApiError("unknown_person", "...", status=404)`."""


def body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"error": str(message), "code": code, **extra}


def _field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {key: _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_field_errors(value) for value in detail]  # type: ignore[return-value]
    return str(detail)  # type: ignore[return-value]


def first_code(codes: Any) -> str:
    while isinstance(codes, (dict, list)) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) and codes else "invalid"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _response(exc)
    if response is not None:
        set_rollback()
    return response


def _response(exc: Exception) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        return Response(body(exc.message, exc.code), status=exc.status)
    if isinstance(exc, Http404):
        return Response(body(_("Not found."), "not_found"), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(body(_("Not allowed."), "forbidden"), status=403)
    if isinstance(exc, DjangoValidationError):
        return Response(body(" ".join(exc.messages), "invalid"), status=400)
    if isinstance(exc, (DataError, IntegrityError)):
        # A value the database refused (too long, out of range) that validation missed.
        log.warning("API input refused by the database: %s", exc)
        return Response(body(_("A value is out of range."), "invalid_value"), status=400)
    if not isinstance(exc, exceptions.APIException):
        return None
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        headers["WWW-Authenticate"] = "OSDI-API-Token"
    if isinstance(exc, exceptions.ValidationError):
        data = body(
            _("Some values are not valid."),
            first_code(exc.get_codes()),
            errors=_field_errors(exc.detail),
        )
        return Response(data, status=400, headers=headers)
    detail = exc.detail if not isinstance(exc.detail, (dict, list)) else exc.default_detail
    code = first_code(exc.get_codes())
    return Response(body(str(detail), code), status=exc.status_code, headers=headers)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/v2/ that names nothing."""
    return JsonResponse(
        body(_("Not found."), "not_found"), status=404, content_type="application/hal+json"
    )
