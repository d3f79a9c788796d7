"""Events and attendances: the collections, the items, and the record attendance helper.

Only the organization's own events are shown, never those it co-hosts: the
attendees of a co-hosted event are the host's supporters, and a co-host may see
only those who ticked its box, which the host's own pages decide (`roster`).
A token of the co-host gets 404 on the host's event, shared attendees or not.

The record attendance helper (`POST /events/{id}/attendances`) lands in
`events.services.rsvp`, as the event page's form does: the same capacity,
waiting list, one answer per person, and ticket. Through a token the person's
data is the organization's own (source "api"), read by the rules every API
path shares (`person_input`), and its `add_tags` (which needs tags:write too)
are tagged as on the organizer pages; through the public helper (no token,
where the organization allows it) it is typed by a stranger, like the form's:
no consent, no tags, and the answer is always `200 {}`.

`POST /events` and `PUT /events/{id}` go through `events.organizer`, as the
organizer's pages do (the same checks, address, audit rows, and news to
attendees of a new time or place); the body is read in `event_input`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import re_path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, hal
from saha.api.errors import ApiError
from saha.api.public_rows import helpers_on
from saha.api.resources import event_input, person_input
from saha.api.resources import events as resources
from saha.api.views.base import (
    BACKGROUND,
    LIST_PARAMETERS,
    PAGE_PARAMETERS,
    PUBLIC_ACTOR,
    OsdiView,
    check_status_moved,
    filter_parameter,
    operation,
    org_row,
    page,
    public_record,
    row_or_404,
    validated,
)
from saha.core.errors import Conflict, DomainError
from saha.core.slugs import create_with_free_slug
from saha.events import organizer, services
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.organizations.models import Organization
from saha.supporters.models import Source
from saha.supporters.services import tag_people

log = logging.getLogger(__name__)

ID = r"(?P<{}>[^/]+)"

EVENT_LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    filter_parameter("created_date, modified_date, start_date (eq, gt, lt)"),
]


def not_allowed(what: str) -> ApiError:
    return ApiError(
        "method_not_allowed",
        _("%(what)s cannot be deleted through the API.") % {"what": what},
        status=405,
    )


# --- Events ---------------------------------------------------------------------------


class EventList(OsdiView):
    resource = "events"

    @operation("events_list", "events", parameters=EVENT_LIST_PARAMETERS)
    def get(self, request: Request) -> Response:
        return page(
            request,
            resources.events(Event.objects.filter(organization=self.organization)),
            path="events",
            rel="events",
            render=resources.render_event,
            fields=resources.EVENT_FILTERS,
        )

    @operation(
        "events_create",
        "events",
        answers=(200, 400),
        request=event_input.EventInput,
        parameters=[BACKGROUND],
    )
    def post(self, request: Request) -> Response:
        language = request_language()
        return self.written(
            "events.create",
            create_event,
            render_fresh_event,
            check=lambda data: read_event(data, self.organization, None, language),
            language=language,
        )


class EventDetail(OsdiView):
    resource = "events"

    @operation("events_retrieve", "events")
    def get(self, request: Request, event_id: str) -> Response:
        event = self.get_row(resources.events(Event.objects.all()), event_id)
        return Response(resources.render_event(event))

    @operation(
        "events_update",
        "events",
        answers=(200, 400, 409),
        request=event_input.EventInput,
        parameters=[BACKGROUND],
    )
    def put(self, request: Request, event_id: str) -> Response:
        event = self.get_row(resources.events(Event.objects.all()), event_id)
        language = request_language()
        return self.written(
            "events.update",
            update_event,
            render_fresh_event,
            check=lambda data: read_event(data, self.organization, event, language),
            event_id=str(event.uuid),
            language=language,
        )


# --- Writing events (through events.organizer, as the organizer's pages) ---------------


def request_language() -> str:
    """The language `title` and `description` are in: the request's, as GET shows them."""
    return translation.get_language() or settings.LANGUAGE_CODE


def fresh_event(event: Event) -> Event:
    return resources.events(Event.objects.filter(pk=event.pk)).get()


def render_fresh_event(event: Event) -> dict[str, Any]:
    return resources.render_event(fresh_event(event))


def read_event(
    data: Any, organization: Organization, event: Event | None, language: str
) -> event_input.EventChange:
    """The body, checked against the event (None: a new one), or a 400."""
    values = validated(event_input.EventInput, data)
    with translation.override(language):
        return event_input.event_change(
            values, organization=organization, event=event, language=language
        )


@background.write("events.create")
def create_event(*, organization: Organization, actor: str, data: Any, language: str) -> Event:
    """A new event: a draft, published at once when the body says "confirmed"."""
    change = read_event(data, organization, None, language)
    if change.status == "cancelled":
        raise event_input.invalid(
            "status", _("A new event is tentative or confirmed."), "invalid_status"
        )
    fields = change.fields
    with transaction.atomic():
        event = create_with_free_slug(
            Event.objects.for_org(organization),
            fields["titles"],
            f"event-{fields['starts_at']:%Y-%m-%d}",
            lambda slug: organizer.create_event(
                actor=actor, organization=organization, slug=slug, **fields
            ),
        )
        if change.status == "confirmed":
            organizer.publish(actor=actor, event=event)
    return event


@background.write("events.update")
def update_event(
    *, organization: Organization, actor: str, data: Any, event_id: str, language: str
) -> Event:
    """Merge the body into the event: only what differs is written; then the status."""
    event = find_event(organization, event_id)
    change = read_event(data, organization, event, language)
    with transaction.atomic():
        if change.fields:
            if event.status == EventStatus.CANCELLED:
                raise cancelled_conflict()
            try:
                organizer.update_event(actor=actor, event=event, **change.fields)
            except DomainError as error:  # cancelled in the meantime
                if error.code == "event_cancelled":
                    raise cancelled_conflict() from error
                raise
        if change.status is not None:
            set_event_status(actor, event, event_input.WANTED[change.status])
    return event


def find_event(organization: Organization, event_id: str) -> Event:
    return org_row(resources.events(Event.objects.all()), organization, event_id)


def cancelled_conflict() -> Conflict:
    return Conflict("event_cancelled", _("A cancelled event cannot be changed."))


def set_event_status(actor: str, event: Event, wanted: str) -> None:
    """Publish a draft or cancel a published event, as the organizer's buttons do;
    asking for the status the event has changes nothing; anything else is a 409."""
    if event.status == wanted:
        return
    done = False
    if event.status == EventStatus.DRAFT and wanted == EventStatus.PUBLISHED:
        done = organizer.publish(actor=actor, event=event)
    elif event.status == EventStatus.PUBLISHED and wanted == EventStatus.CANCELLED:
        done = organizer.cancel_event(actor=actor, event=event)
    else:
        raise Conflict(
            status_refusal(event.status, wanted), _("The event's status does not allow this.")
        )
    if not done:
        check_status_moved(event, wanted, _("The event's status changed meanwhile."))


def status_refusal(current: str, wanted: str) -> str:
    if current == EventStatus.CANCELLED:
        return "event_cancelled"
    if wanted == EventStatus.CANCELLED:
        return "draft_not_cancellable"  # a draft nobody saw is deleted, not cancelled
    return "already_published"


# --- Attendances ----------------------------------------------------------------------


class AttendanceList(OsdiView):
    """GET: the event's attendances. POST: the record attendance helper."""

    resource = "events"
    public_helper = True

    @operation("event_attendances_list", "attendances", parameters=LIST_PARAMETERS)
    def get(self, request: Request, event_id: str) -> Response:
        event = self.get_row(Event.objects.all(), event_id)
        return attendance_page(request, Rsvp.objects.filter(event=event), attendances_path(event))

    @operation(
        "record_attendance_helper",
        "attendances",
        request=resources.AttendanceHelperInput,
        parameters=[BACKGROUND],
    )
    def post(self, request: Request, event_id: str) -> Response:
        if request.auth is None:
            return public_attendance(request, event_id)
        event = self.get_row(Event.objects.all(), event_id)
        self.check_tag_scope(request.data)
        return self.written(
            "events.attendance",
            record_attendance,
            resources.render_attendance,
            check=lambda data: validated(resources.AttendanceHelperInput, data),
            event_id=str(event.uuid),
        )


def attendances_path(event: Event) -> str:
    return f"{resources.event_path(event)}/attendances"


def attendance_page(request: Request, queryset: QuerySet[Rsvp], path: str) -> Response:
    return page(
        request,
        resources.attendances(queryset),
        path=path,
        rel="attendances",
        render=resources.render_attendance,
        fields=resources.ATTENDANCE_FILTERS,
    )


@background.write("events.attendance")
def record_attendance(
    *,
    organization: Organization,
    actor: str,
    data: Any,
    event_id: str,
    token_id: str | None = None,  # only in jobs queued before the actor named the token
) -> Rsvp:
    """The record attendance helper with a token: the organization's own data, its
    `subscribed` statuses consent (source_ref: the actor); tags audited as on the
    organizer pages, in the same transaction as the answer."""
    event = org_row(Event.objects.all(), organization, event_id)
    values = validated(resources.AttendanceHelperInput, data)
    person = person_input.helper_person_data(
        organization, values["person"], actor=actor, anonymous=False
    )
    refused: DomainError | None = None
    with transaction.atomic():
        try:
            result = services.rsvp(
                event=event,
                data=person,
                actor=actor,
                source="api",
                person_source=Source.API,
                notify=resources.autoresponse_wanted(values),
            )
        except DomainError as error:  # a full event: as the form, the person stays
            refused = error
        else:
            attendee = result.rsvp.person  # set: the answer was made for them just now
            tags = values.get("add_tags", [])
            tag_people(actor=actor, people=[attendee] if attendee else [], names=tags)
    if refused is not None:
        raise refused
    return resources.attendances(Rsvp.objects.filter(pk=result.rsvp.pk)).get()


def public_attendance(request: Request, event_id: str) -> Response:
    """No token: taken as the event page's form takes an answer, where the organization
    allows it, for a published public event; `200 {}` whatever happens (`public_record`)."""
    return public_record(
        request, event_id, find=_public_event, take=_public_rsvp, logger=log, what="attendance"
    )


def _public_rsvp(request: Request, event: Event) -> None:
    """Typed by a stranger: no consent, no tags (`upsert_person` fills only what is empty)."""
    values = validated(resources.AttendanceHelperInput, request.data)
    person = person_input.helper_person_data(
        event.organization, values["person"], actor=PUBLIC_ACTOR, anonymous=True
    )
    result = services.rsvp(
        event=event,
        data=person,
        actor=PUBLIC_ACTOR,
        source="api",
        person_source=Source.API,
        anonymous=True,
    )
    if not result.created:
        # As the form does: the ticket again to the address on file, nothing said here.
        services.send_ticket_again(rsvp=result.rsvp)


def _public_event(event_id: str) -> Event | None:
    value = hal.parse_id(event_id)
    if value is None:
        return None
    event = (
        Event.objects.select_related("organization")
        .filter(
            helpers_on(),
            uuid=value,
            status=EventStatus.PUBLISHED,
            visibility=Visibility.PUBLIC,
            ends_at__gte=timezone.now(),
        )
        .first()
    )
    return event


class AttendanceDetail(OsdiView):
    resource = "events"

    def _rsvp(self, event_id: str, attendance_id: str) -> Rsvp:
        event = self.get_row(Event.objects.all(), event_id)
        return self.get_row(resources.attendances(Rsvp.objects.filter(event=event)), attendance_id)

    @operation("event_attendances_retrieve", "attendances")
    def get(self, request: Request, event_id: str, attendance_id: str) -> Response:
        return Response(resources.render_attendance(self._rsvp(event_id, attendance_id)))

    @operation("event_attendances_update", "attendances", request=resources.AttendanceUpdateInput)
    def put(self, request: Request, event_id: str, attendance_id: str) -> Response:
        rsvp = self._rsvp(event_id, attendance_id)
        values = validated(resources.AttendanceUpdateInput, request.data)
        status = values.get("status")
        if status in resources.CANCELLING:
            services.cancel_rsvp(rsvp=rsvp, actor=self.actor)
        elif status is not None and status != resources.ATTENDANCE_STATUS[rsvp.status]:
            raise ApiError(
                "invalid_status",
                _("An attendance can only be cancelled here (status: declined)."),
                status=400 if rsvp.status != RsvpStatus.CANCELLED else 409,
            )
        fresh = resources.attendances(Rsvp.objects.filter(pk=rsvp.pk)).get()
        return Response(resources.render_attendance(fresh))

    @operation("event_attendances_destroy", "attendances", answers=(405,))
    def delete(self, request: Request, event_id: str, attendance_id: str) -> Response:
        self._rsvp(event_id, attendance_id)
        raise not_allowed(_("An attendance (cancel it with status declined)"))


class PersonAttendanceList(OsdiView):
    resource = "events"

    @operation("person_attendances_list", "attendances", parameters=LIST_PARAMETERS)
    def get(self, request: Request, person_id: str) -> Response:
        person, rows = self.person_rows(Rsvp.objects.all(), person_id)
        return attendance_page(request, rows, f"people/{person.uuid}/attendances")


class PersonAttendanceDetail(OsdiView):
    resource = "events"

    @operation("person_attendances_retrieve", "attendances")
    def get(self, request: Request, person_id: str, attendance_id: str) -> Response:
        _person, rows = self.person_rows(resources.attendances(Rsvp.objects.all()), person_id)
        return Response(resources.render_attendance(row_or_404(rows, attendance_id)))


urlpatterns = [
    re_path(r"^api/v2/events/?$", EventList.as_view(), name="api-events"),
    re_path(rf"^api/v2/events/{ID.format('event_id')}/?$", EventDetail.as_view(), name="api-event"),
    re_path(
        rf"^api/v2/events/{ID.format('event_id')}/attendances/?$",
        AttendanceList.as_view(),
        name="api-event-attendances",
    ),
    re_path(
        rf"^api/v2/events/{ID.format('event_id')}/attendances/{ID.format('attendance_id')}/?$",
        AttendanceDetail.as_view(),
        name="api-event-attendance",
    ),
    re_path(
        rf"^api/v2/people/{ID.format('person_id')}/attendances/?$",
        PersonAttendanceList.as_view(),
        name="api-person-attendances",
    ),
    re_path(
        rf"^api/v2/people/{ID.format('person_id')}/attendances/{ID.format('attendance_id')}/?$",
        PersonAttendanceDetail.as_view(),
        name="api-person-attendance",
    ),
]
