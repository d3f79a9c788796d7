"""The double opt-in link: a page with one button, so a mail scanner's visit confirms nothing.

A page for whoever followed the link, like the unsubscribe pages of
`public.py`: no account needed and no organizer chrome or script even in a
signed-in organizer's browser, never cached nor indexed, in the person's
language. A link that is not ours, or expired, gets the invalid-link page at
once, before anyone presses the button.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from saha.core.errors import DomainError
from saha.messaging.views.public import page_language, render_recipient_page
from saha.supporters.consent import confirm_consent, pending_record
from saha.supporters.models import ConsentRecord

TEMPLATE = "messaging/confirm.html"


def _language_of(record: ConsentRecord) -> str:
    """The language the person signed up in, else theirs, else their organization's."""
    known = {code for code, _name in settings.LANGUAGES}
    candidates = [record.language, record.person.language, record.organization.default_language]
    return next((code for code in candidates if code in known), settings.LANGUAGE_CODE)


def _invalid(request: HttpRequest) -> HttpResponse:
    language = page_language(request, translation.get_language())
    return render_recipient_page(
        request, TEMPLATE, {"invalid": True}, language=language, status=404
    )


@never_cache
@csrf_exempt  # the signed token is the proof; the person may have no session here
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    pending = pending_record(token)
    if pending is None:
        return _invalid(request)
    context: dict[str, Any] = {"recipient_organization": pending.organization}
    if request.method == "POST":
        try:
            confirm_consent(token)
        except DomainError:  # the person was erased since the page was shown
            return _invalid(request)
        context["confirmed"] = True
    language = page_language(request, _language_of(pending))
    return render_recipient_page(request, TEMPLATE, context, language=language)


urlpatterns = [path("c/<str:token>/", confirm_email, name="messaging_confirm_email")]
