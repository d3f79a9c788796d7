"""Pages that need a session which passed two-factor authentication (exports of people).

allauth records each way the session authenticated ("password", "mfa"). A
member who has MFA but signed in before enrolling, or whose sign-in skipped
it, is sent to allauth's re-authentication page and comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


def session_passed_mfa(request: HttpRequest) -> bool:
    records = get_authentication_records(request, request.user)  # type: ignore[arg-type]
    return any(record.get("method") == "mfa" for record in records)


def mfa_session_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Use inside `organization_view`: the member is known to be signed in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return mfa_detour(request) or view(request, *args, **kwargs)

    return wrapper


def mfa_detour(request: HttpRequest) -> HttpResponse | None:
    """None when this session passed MFA; otherwise where to go to pass it, and come back."""
    if session_passed_mfa(request):
        return None
    if not request.user.has_mfa():  # type: ignore[union-attr]
        messages.warning(request, _("Set up two-factor authentication to export people."))
        return redirect("mfa_index")
    messages.info(request, _("Confirm it is you with your second factor to export people."))
    next_url = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('mfa_reauthenticate')}?{next_url}")
