"""Pages anyone may open: an organization's events and their calendar feed, one event
with its RSVP form, a ticket.

They work without JavaScript: the map is a pair of links (OpenStreetMap, the
phone's own maps app), sharing is plain links. The one script,
static/events/map.js, adds a map only when the visitor presses "Show map"
(until then no request leaves for a tile server) and the phone's share sheet;
base.html's own scripts are for signed-in organizers, and these pages render
as if nobody were signed in.

The RSVP form offers one unticked box per co-host and per partner of the
published campaigns holding the event (`saha.campaigns.partners`), one per
organization; the service decides again, once the RSVP stands, who receives what.

The ticket page is reached by a signed token alone (`tickets.py`); it is
private, so it is not indexed, not cached and keeps its URL out of referrers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.text import Truncator, get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from saha.campaigns import partners
from saha.core.errors import DomainError
from saha.core.public_pages import absolute, render_public, see_other, share_links
from saha.events import attendee, roster, services, tickets
from saha.events.forms import LanguageForm, RsvpForm
from saha.events.ics import CalendarEvent, calendar, event_file_name
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.messaging.views.public import page_language, render_recipient_page
from saha.organizations.models import Organization

# A cancelled event keeps its page and calendar file: that is how people learn of it.
SHOWN = (EventStatus.PUBLISHED, EventStatus.CANCELLED)

# The feed: recent events stay a while (a cancelled one must reach subscribers
# as CANCELLED for their calendars to drop it), and clients are asked to come
# back hourly; an HTTP cache may keep it a quarter of that.
FEED_PAST = timedelta(days=90)
FEED_REFRESH = timedelta(hours=1)
FEED_MAX_AGE = 15 * 60
FEED_MAX_EVENTS = 500

# Overridden by settings.SAHA_MAP_TILES and SAHA_MAP_ATTRIBUTION (read when a page renders).
DEFAULT_MAP_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_MAP_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
OG_DESCRIPTION_CHARS = 200


def _event(slug: str, event: str) -> Event:
    return get_object_or_404(
        Event.objects.select_related("organization"),
        organization__slug=slug,
        slug=event,
        status__in=SHOWN,
    )


# --- Places and maps -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """An event's point on the map, as text: never localized ("33,89" breaks a URL)."""

    latitude: str
    longitude: str

    @property
    def osm_url(self) -> str:
        query = urlencode({"mlat": self.latitude, "mlon": self.longitude})
        return f"https://www.openstreetmap.org/?{query}#map=16/{self.latitude}/{self.longitude}"

    @property
    def geo_url(self) -> str:
        return f"geo:{self.latitude},{self.longitude}"  # RFC 5870: the phone's maps app


def _place(event: Event) -> Place | None:
    if event.latitude is None or event.longitude is None:
        return None
    return Place(format(event.latitude, "f"), format(event.longitude, "f"))


def map_settings() -> dict[str, str]:
    """The tile server the map loads from once asked: its URL template, credit, and host."""
    tiles = getattr(settings, "SAHA_MAP_TILES", "") or DEFAULT_MAP_TILES
    attribution = getattr(settings, "SAHA_MAP_ATTRIBUTION", None)
    if attribution is None:
        attribution = DEFAULT_MAP_ATTRIBUTION if tiles == DEFAULT_MAP_TILES else ""
    return {
        "map_tiles": tiles,
        "map_attribution": attribution,
        "map_tiles_host": urlsplit(tiles).hostname or "",
    }


# --- The organization's events and their feed -------------------------------------


@require_GET
def event_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    events = Event.objects.select_related("organization").filter(
        organization=organization,
        status=EventStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
        ends_at__gte=timezone.now(),
    )
    items = [{"event": event, "place": _place(event)} for event in events]
    feed = reverse("events:feed", args=[slug])
    feed_url = f"{absolute(feed)}?{urlencode({'lang': translation.get_language()})}"
    context = {
        "organization": organization,
        "items": items,
        "has_map": any(item["place"] for item in items),
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        **map_settings(),
    }
    return render_public(request, "events/public/list.html", context)


@require_safe
def event_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's public events as a calendar to subscribe to (RFC 5545).

    In the language of `?lang=`, else the organization's: calendar apps send
    no Accept-Language, and one URL should always give the same file.
    """
    organization = get_object_or_404(Organization, slug=slug)
    chosen = request.GET.get("lang", "")
    known = {code for code, _name in settings.LANGUAGES}
    with translation.override(chosen if chosen in known else organization.default_language):
        events = Event.objects.select_related("organization").filter(
            organization=organization,
            status__in=SHOWN,
            visibility=Visibility.PUBLIC,
            ends_at__gte=timezone.now() - FEED_PAST,
        )[:FEED_MAX_EVENTS]
        body = calendar(
            [_calendar_entry(event) for event in events],
            name=_("Events of %(name)s") % {"name": organization.name},
            method="PUBLISH",
            refresh=FEED_REFRESH,
            time_zone=organization.time_zone,
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    # Shown or subscribed to where it opens, not saved as a download.
    response.headers["Content-Disposition"] = f'inline; filename="{slug}.ics"'
    response.headers["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    # Every DTSTAMP comes from the rows, so the same events give the same bytes:
    # a client polling an unchanged feed gets a 304 and no body.
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response.headers["ETag"] = etag
    return get_conditional_response(request, etag=etag, response=response) or response


def _calendar_entry(event: Event) -> CalendarEvent:
    """One event for a calendar; the same UID in its own file and in the feed."""
    page = reverse("events:event", args=[event.organization.slug, event.slug])
    place = _place(event)
    return CalendarEvent(
        uid=f"event-{event.pk}@{urlsplit(settings.SAHA_BASE_URL).hostname}",
        start=event.starts_at,
        end=event.ends_at,
        time_zone=event.time_zone,
        summary=event.title,
        description=event.description,
        location=", ".join(part for part in (event.venue_name, event.address) if part),
        url=absolute(page),
        status="CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED",
        sequence=event.revision,
        last_modified=event.modified_at,
        geo=(float(place.latitude), float(place.longitude)) if place else None,
    )


# --- One event ----------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def event_page(request: HttpRequest, slug: str, event: str) -> HttpResponse:
    found = _event(slug, event)
    page_url = absolute(request.path)
    co_hosts = roster.public_co_hosts(found)
    data = request.POST if request.method == "POST" else None
    boxes = partners.boxes_for(event=found)
    form = RsvpForm(data, event=found, co_hosts=co_hosts, partner_boxes=boxes)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = services.rsvp(
                    event=found,
                    data=form.person_data(source_ref=page_url),
                    share_with=form.share_with(),
                    partners=form.ticked_partners(),
                    anonymous=True,
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                return _answered(request, found, result)
    context = {
        "organization": found.organization,
        "event": found,
        "form": form,
        "co_hosts": co_hosts,
        "co_host_names": get_text_list([org.name for org in co_hosts], _("and")),
        "places_left": _places_left(found),
        "takes_answers": found.status == EventStatus.PUBLISHED and found.ends_at >= timezone.now(),
        "place": _place(found),
        "page_url": page_url,
        "og_description": _summary(found),
        "share_links": share_links(found.title, page_url),
        **map_settings(),
    }
    private = found.visibility != Visibility.PUBLIC
    return render_public(
        request, "events/public/event.html", context, status=status, private=private
    )


def _answered(request: HttpRequest, event: Event, result: services.RsvpResult) -> HttpResponse:
    """The same page whoever typed whichever address: it shows no ticket, status or name,
    so the form tells nobody whether an address is known or coming. The ticket (or the
    waiting-list notice) goes by message to the person's own address; it holds the link
    to their ticket page, where they see, change or cancel their place."""
    if not result.created:
        with transaction.atomic():
            services.send_ticket_again(rsvp=result.rsvp)
    url = reverse("events:answered", args=[event.organization.slug, event.slug])
    return see_other(url)


@require_GET
def answered_page(request: HttpRequest, slug: str, event: str) -> HttpResponse:
    found = _event(slug, event)
    context = {"organization": found.organization, "event": found}
    return render_public(request, "events/public/answered.html", context, private=True)


def _places_left(event: Event) -> int | None:
    return None if event.capacity is None else max(event.capacity - event.confirmed, 0)


def _summary(event: Event) -> str:
    """A line for link previews: the description's start, else the place."""
    text = " ".join(event.description.split())
    if not text:
        text = ", ".join(part for part in (event.venue_name, event.address) if part)
    return Truncator(text).chars(OG_DESCRIPTION_CHARS)


@require_GET
def event_ics(request: HttpRequest, slug: str, event: str) -> HttpResponse:
    found = _event(slug, event)
    body = calendar([_calendar_entry(found)], name=found.title, method="PUBLISH")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    file_name = event_file_name(found.title)
    if file_name == "event.ics":  # nothing of an Arabic title is left in ASCII
        file_name = event_file_name(found.slug)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    if found.visibility != Visibility.PUBLIC:
        response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- The ticket: see, change, cancel ----------------------------------------------


def _rsvp(token: str) -> Rsvp | None:
    rsvp_id = tickets.read_ticket(token)
    if rsvp_id is None:
        return None
    return Rsvp.objects.select_related("event__organization", "person").filter(pk=rsvp_id).first()


@dataclass
class TicketState:
    confirming: bool = False  # "cancel" was pressed once: the page asks before doing it
    error: str = ""
    status: int = 200


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_page(request: HttpRequest, token: str) -> HttpResponse:
    rsvp = _rsvp(token)
    if rsvp is None:
        return render_public(request, "404.html", {}, status=404, private=True)
    language = page_language(request, rsvp.language or rsvp.event.organization.default_language)
    state = TicketState()
    with translation.override(language):
        if request.method == "POST":
            outcome = _ticket_action(request, rsvp)
            if isinstance(outcome, HttpResponse):
                return outcome
            state = outcome
        context = _ticket_context(rsvp, token, state)
    return render_recipient_page(
        request, "events/public/ticket.html", context, language=language, status=state.status
    )


def _ticket_action(request: HttpRequest, rsvp: Rsvp) -> HttpResponse | TicketState:
    """One button of the ticket page: change the language, come back, or cancel (asked twice)."""
    action = request.POST.get("action", "cancel")
    try:
        if action == "language":
            form = LanguageForm(request.POST)
            language = form.cleaned_data["language"] if form.is_valid() else ""
            attendee.change_rsvp_language(rsvp=rsvp, language=language)
        elif action == "come_back":
            attendee.come_back(rsvp=rsvp)
        elif action == "cancel":
            if rsvp.status != RsvpStatus.CANCELLED:
                if request.POST.get("confirm") != "1":
                    return TicketState(confirming=True)  # no script to ask "are you sure?"
                services.cancel_rsvp(rsvp=rsvp)
        else:
            raise DomainError("unknown_action", _("This page has no such button."))
    except DomainError as error:
        return TicketState(error=error.message, status=error.status)
    return see_other(request.path)


def _ticket_context(rsvp: Rsvp, token: str, state: TicketState) -> dict[str, Any]:
    event = rsvp.event
    confirmed = rsvp.status == RsvpStatus.CONFIRMED
    open_for_answers = event.status == EventStatus.PUBLISHED and event.ends_at >= timezone.now()
    return {
        "organization": event.organization,
        "event": event,
        "rsvp": rsvp,
        "confirmed": confirmed,
        "confirming": state.confirming,
        "error": state.error,
        "can_come_back": rsvp.status == RsvpStatus.CANCELLED
        and open_for_answers
        and rsvp.person_id is not None,
        "language_form": LanguageForm(initial={"language": rsvp.language}),
        "place": _place(event),
        "qr_svg": _qr_svg(token) if confirmed else "",
        "event_url": reverse("events:event", args=[event.organization.slug, event.slug]),
        "ics_url": reverse("events:ics", args=[event.organization.slug, event.slug]),
    }


def _qr_svg(token: str) -> str:
    import segno
    from django.utils.safestring import mark_safe

    qr = segno.make(token, error="m", micro=False)
    # Scaled by CSS from its viewBox; dark on white whatever the theme, for scanners.
    svg = qr.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")
    return mark_safe(svg)  # noqa: S308 - segno's own markup of an ASCII token
