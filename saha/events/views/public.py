"""Pages anyone may open: an organization's events, one event with its RSVP form, a ticket.

They work without JavaScript and carry none: base.html's scripts are for
signed-in organizers, and these pages render as if nobody were signed in.
The ticket page is reached by a signed token alone (`tickets.py`); it is
private, so it is not indexed, not cached and keeps its URL out of referrers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from saha.core.errors import DomainError
from saha.events import services, tickets
from saha.events.forms import RsvpForm
from saha.events.ics import CalendarEvent, calendar, event_file_name
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.messaging.views.public import page_language, render_recipient_page
from saha.organizations.models import Organization

# A cancelled event keeps its page and calendar file: that is how people learn of it.
SHOWN = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    private: bool = False,
) -> HttpResponse:
    if private:
        language = translation.get_language() or settings.LANGUAGE_CODE
        return render_recipient_page(request, template, context, language=language, status=status)
    return render(request, template, {**context, "user": AnonymousUser()}, status=status)


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303  # after a POST, the browser GETs the new page
    return response


def _event(slug: str, event: str) -> Event:
    return get_object_or_404(
        Event.objects.select_related("organization"),
        organization__slug=slug,
        slug=event,
        status__in=SHOWN,
    )


@require_GET
def event_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    events = Event.objects.select_related("organization").filter(
        organization=organization,
        status=EventStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
        ends_at__gte=timezone.now(),
    )
    return _render(
        request, "events/public/list.html", {"organization": organization, "events": events}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def event_page(request: HttpRequest, slug: str, event: str) -> HttpResponse:
    found = _event(slug, event)
    page_url = f"{settings.SAHA_BASE_URL}{request.path}"
    form = RsvpForm(request.POST if request.method == "POST" else None, event=found)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = services.rsvp(event=found, data=form.person_data(source_ref=page_url))
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                token = tickets.ticket_token(result.rsvp.pk)
                return _see_other(reverse("events:ticket", args=[token]))
    context = {
        "organization": found.organization,
        "event": found,
        "form": form,
        "places_left": _places_left(found),
        "takes_answers": found.status == EventStatus.PUBLISHED and found.ends_at >= timezone.now(),
    }
    private = found.visibility != Visibility.PUBLIC
    return _render(request, "events/public/event.html", context, status=status, private=private)


def _places_left(event: Event) -> int | None:
    return None if event.capacity is None else max(event.capacity - event.confirmed, 0)


@require_GET
def event_ics(request: HttpRequest, slug: str, event: str) -> HttpResponse:
    found = _event(slug, event)
    page = reverse("events:event", args=[slug, event])
    entry = CalendarEvent(
        uid=f"event-{found.pk}@{urlsplit(settings.SAHA_BASE_URL).hostname}",
        start=found.starts_at,
        end=found.ends_at,
        time_zone=found.time_zone,
        summary=found.title,
        description=found.description,
        location=", ".join(part for part in (found.venue_name, found.address) if part),
        url=f"{settings.SAHA_BASE_URL}{page}",
        status="CANCELLED" if found.status == EventStatus.CANCELLED else "CONFIRMED",
        sequence=found.revision,
        last_modified=found.modified_at,
        geo=(float(found.latitude), float(found.longitude))
        if found.latitude is not None and found.longitude is not None
        else None,
    )
    body = calendar([entry], name=found.title, method="PUBLISH")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    file_name = event_file_name(found.title)
    if file_name == "event.ics":  # nothing of an Arabic title is left in ASCII
        file_name = event_file_name(found.slug)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    if found.visibility != Visibility.PUBLIC:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


def _rsvp(token: str) -> Rsvp | None:
    rsvp_id = tickets.read_ticket(token)
    if rsvp_id is None:
        return None
    return Rsvp.objects.select_related("event__organization", "person").filter(pk=rsvp_id).first()


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_page(request: HttpRequest, token: str) -> HttpResponse:
    rsvp = _rsvp(token)
    if rsvp is None:
        return _render(request, "404.html", {}, status=404, private=True)
    language = page_language(request, rsvp.language or rsvp.event.organization.default_language)
    confirming = False
    if request.method == "POST" and rsvp.status != RsvpStatus.CANCELLED:
        if request.POST.get("confirm") == "1":
            services.cancel_rsvp(rsvp=rsvp)
            return _see_other(request.path)
        confirming = True  # no script to ask "are you sure?": the page asks
    with translation.override(language):
        context = _ticket_context(rsvp, token, confirming)
    return render_recipient_page(request, "events/public/ticket.html", context, language=language)


def _ticket_context(rsvp: Rsvp, token: str, confirming: bool) -> dict[str, Any]:
    event = rsvp.event
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    return {
        "organization": event.organization,
        "event": event,
        "rsvp": rsvp,
        "confirmed": confirmed,
        "confirming": confirming,
        "qr_svg": _qr_svg(token) if confirmed else "",
        "event_url": reverse("events:event", args=[event.organization.slug, event.slug]),
    }


def _qr_svg(token: str) -> str:
    import segno
    from django.utils.safestring import mark_safe

    qr = segno.make(token, error="m", micro=False)
    # Scaled by CSS from its viewBox; dark on white whatever the theme, for scanners.
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")
    return mark_safe(svg)  # noqa: S308 - segno's own markup of an ASCII token
