"""A recipient's pages without an account (unsubscribe, preferences), and the webhooks.

The links in a message carry a signed token naming its delivery; the token
is the only proof needed, so these views are exempt from CSRF (RFC 8058's
one-click POST comes from a mail provider with no cookie and no form) and
speak the recipient's language. A GET never changes anything: mail scanners
open every link they find.

Webhooks are authenticated by the organization's `MessagingSettings.webhook_key`
in the URL; a wrong key finds nothing (404), like a wrong address.
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from saha.messaging import inbound
from saha.messaging.models import Delivery, MessagingSettings
from saha.messaging.unsubscribe import (
    delivery_id_of,
    language_of,
    link_preferences,
    purpose_of,
    set_preferences,
    unsubscribe,
    unsubscribe_question,
)
from saha.organizations.models import Organization

MAX_EVENTS = 1000

# --- Pages for the recipient --------------------------------------------------


def _delivery(token: str) -> Delivery | None:
    delivery_id = delivery_id_of(token)
    if delivery_id is None:
        return None
    return Delivery.objects.select_related("person", "organization").filter(pk=delivery_id).first()


def page_language(request: HttpRequest, default: str) -> str:
    """The recipient's language, unless this browser chose one (?lang= or the switcher's cookie)."""
    known = {code for code, _name in settings.LANGUAGES}
    chosen = request.GET.get("lang") or request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in known else default


def _page_language(request: HttpRequest, delivery: Delivery) -> str:
    return page_language(request, language_of(delivery))


def render_recipient_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    language: str,
    status: int = 200,
) -> HttpResponse:
    """A page for someone who followed a link in a message: theirs, whoever's browser shows it."""
    with translation.override(language):
        request.LANGUAGE_CODE = language
        # Even in an organizer's browser: no organizer menus, and base.html's scripts stay out.
        response = render(request, template, {**context, "user": AnonymousUser()}, status=status)
    response.headers["Content-Language"] = language
    # The token is in the URL: keep it out of other sites' logs. Not "no-referrer":
    # forms would then send `Origin: null`, and the language switcher's CSRF check fails.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _render(
    request: HttpRequest,
    delivery: Delivery | None,
    template: str,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    language = _page_language(request, delivery) if delivery else translation.get_language()
    context = {
        "delivery": delivery,
        "recipient_organization": delivery.organization if delivery else None,
        **context,
    }
    return render_recipient_page(request, template, context, language=language, status=status)


def _invalid(request: HttpRequest) -> HttpResponse:
    return _render(request, None, "messaging/public/invalid.html", {}, status=404)


_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_one_click(request: HttpRequest) -> bool:
    """RFC 8058: a mail provider POSTs `List-Unsubscribe=One-Click`, form-encoded or multipart
    (and a careless one with no content type at all)."""
    try:
        if (request.content_type or "").startswith(_FORMS):
            return request.POST.get("List-Unsubscribe") == "One-Click"
        return request.body.strip() == b"List-Unsubscribe=One-Click"
    except (MultiPartParserError, RequestDataTooBig):
        return False


@never_cache
@csrf_exempt  # RFC 8058 clients send no cookie and no token; the signed token is the proof
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponseBase:
    delivery = _delivery(token)
    if delivery is None:
        return _invalid(request)
    if request.method == "POST" and _is_one_click(request):
        unsubscribe(delivery, source_ref=f"one-click:delivery:{delivery.pk}")
        return HttpResponse("Unsubscribed.\n", content_type="text/plain; charset=utf-8")
    context: dict[str, Any] = {"preferences_url": reverse("messaging_preferences", args=[token])}
    language = _page_language(request, delivery)
    if request.method == "POST":
        unsubscribe(delivery, language=language)
        context["done"] = True
    else:
        with translation.override(language):
            context["question"] = unsubscribe_question(delivery, purpose_of(delivery))
    return _render(request, delivery, "messaging/public/unsubscribe.html", context)


def _choices(request: HttpRequest) -> dict[tuple[str, str], bool]:
    """What the form says about every checkbox it showed (an unticked box sends nothing)."""
    shown = request.POST.getlist("shown")
    ticked = set(request.POST.getlist("wanted"))
    choices = {}
    for name in shown[:100]:
        channel, _colon, purpose = name.partition(":")
        if channel and purpose:
            choices[(channel, purpose)] = name in ticked
    return choices


@never_cache
@csrf_exempt  # the signed token in the URL is the proof, as on the unsubscribe page
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_page(request: HttpRequest, token: str) -> HttpResponse:
    delivery = _delivery(token)
    if delivery is None:
        return _invalid(request)
    choices: dict[tuple[str, str], bool] = {}
    if request.method == "POST":
        try:
            choices = _choices(request)
        except (MultiPartParserError, RequestDataTooBig):
            choices = {}
        set_preferences(
            delivery.person,
            choices,
            delivery=delivery,
            language=_page_language(request, delivery),
        )
    return _render(
        request,
        delivery,
        "messaging/public/preferences.html",
        {
            "channels": link_preferences(delivery, choices),
            "saved": request.method == "POST",
        },
    )


# --- Webhooks -----------------------------------------------------------------


def _hook_organization(slug: str, key: str) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        raise Http404
    row = MessagingSettings.objects.filter(organization=organization).first()
    expected = row.webhook_key if row else ""
    if not key or not expected or not hmac.compare_digest(key.encode(), expected.encode()):
        raise Http404
    return organization


def _json_error(message: str, status: int = 400, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@csrf_exempt
@require_POST
def sms_hook(request: HttpRequest, org: str, key: str) -> HttpResponse:
    """An inbound SMS as Twilio (and compatible gateways) post it: From, To, Body; TwiML back."""
    organization = _hook_organization(org, key)
    try:
        sender, body = request.POST.get("From", "")[:40], request.POST.get("Body", "")
    except (MultiPartParserError, RequestDataTooBig):
        sender, body = "", ""
    reply = inbound.handle_inbound_sms(organization, sender, body)
    xml = '<?xml version="1.0" encoding="UTF-8"?>'
    xml += f"<Response><Message>{escape(reply)}</Message></Response>" if reply else "<Response/>"
    return HttpResponse(xml, content_type="text/xml; charset=utf-8")


def _events(request: HttpRequest) -> list[dict[str, Any]] | str:
    """The events of a report, checked; or what is wrong with it."""
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError, RequestDataTooBig):
        return "The body must be JSON."
    if isinstance(payload, dict) and "events" in payload:
        payload = payload["events"]
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > MAX_EVENTS:
        return f"Send between 1 and {MAX_EVENTS} events."
    checked = []
    for index, event in enumerate(events):
        problem = _event_problem(event)
        if problem:
            return f"events[{index}]: {problem}"
        checked.append(event)
    return checked


def _event_problem(event: Any) -> str:
    if not isinstance(event, dict):
        return "an event is an object."
    if event.get("type") not in inbound.EMAIL_EVENTS:
        return f"type must be one of {', '.join(inbound.EMAIL_EVENTS)}."
    for name in ("email", "message_id"):
        problem = _text_problem(name, event.get(name))
        if problem:
            return problem
    if not event.get("email") and not event.get("message_id"):
        return "give email or message_id."
    if not isinstance(event.get("permanent", True), bool):
        return "permanent must be true or false."
    return ""


def _text_problem(name: str, value: Any) -> str:
    """What makes a string of a report unusable: the database would refuse it, or choke."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return f"{name} must be a string."
    problem = inbound.text_problem(value)
    return f"{name} {problem}." if problem else ""


@csrf_exempt
@require_POST
def email_events_hook(request: HttpRequest, org: str, key: str) -> JsonResponse:
    """Bounces, complaints and unsubscribes reported by an email provider, as JSON."""
    organization = _hook_organization(org, key)
    events = _events(request)
    if isinstance(events, str):
        return _json_error(events)
    results = [
        inbound.handle_email_event(
            organization,
            kind=event["type"],
            address=event.get("email"),
            message_id=event.get("message_id"),
            permanent=event.get("permanent", True),
        )
        for event in events
    ]
    return JsonResponse({"results": results})


def _raw_message(request: HttpRequest) -> bytes:
    """The message: the body itself, or the form field inbound-mail services put it in."""
    if (request.content_type or "").startswith(_FORMS):
        for field in ("email", "body-mime", "message"):
            value = request.POST.get(field)
            if value:
                # Form fields arrive decoded; a token is ASCII, whatever else is lost.
                return value.encode("utf-8", "replace")
        return b""
    return request.body


@csrf_exempt
@require_POST
def unsubscribe_email_hook(request: HttpRequest, org: str, key: str) -> JsonResponse:
    """An email sent to the List-Unsubscribe mailto, forwarded raw (RFC 822)."""
    organization = _hook_organization(org, key)
    try:
        raw = _raw_message(request)
    except (MultiPartParserError, RequestDataTooBig):
        return _json_error("The message could not be read.")
    if not raw.strip():
        return _json_error("The body must be an email message (RFC 822).")
    return JsonResponse({"result": inbound.handle_unsubscribe_email(organization, raw)})


urlpatterns = [
    path("u/<str:token>/", unsubscribe_page, name="messaging_unsubscribe"),
    path("u/<str:token>/preferences/", preferences_page, name="messaging_preferences"),
    path("hooks/<slug:org>/<str:key>/sms/", sms_hook, name="messaging_sms_hook"),
    path(
        "hooks/<slug:org>/<str:key>/email-events/",
        email_events_hook,
        name="messaging_email_events_hook",
    ),
    path(
        "hooks/<slug:org>/<str:key>/unsubscribe-email/",
        unsubscribe_email_hook,
        name="messaging_unsubscribe_email_hook",
    ),
]
