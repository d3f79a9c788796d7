"""An event's attendees for its organizers: the list with search, adding someone by hand,
cancelling for someone, exporting them (the supporters' export, with its second
factor and approval), and writing to them (a broadcast to a segment).

A co-host's member sees only the attendees who ticked that co-host's box, and
can neither change nor export nor write to them through the host's pages.
"""

from __future__ import annotations

import zoneinfo
from types import SimpleNamespace

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.accounts.mfa import mfa_session_required
from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.events import roster, services
from saha.events.manage_forms import AttendeeForm
from saha.events.models import Event, Rsvp
from saha.events.views.manage import PREFIX, hosted_event
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import exporting, segments, subject
from saha.supporters.models import ExportStatus, Segment

# Who the organizer can export or write to: the people coming, or (after) those who came.
AUDIENCES = {"coming": "rsvped_to", "came": "attended"}


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def attendee_list(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    event = roster.event_for(organization, pk)
    term = request.GET.get("q", "")[:100]
    status = request.GET.get("status", "")
    after = request.GET.get("after")
    rows = roster.attendees(
        event,
        organization,
        term=term,
        status=status if status in roster.STATUS_FILTERS else "",
        after=int(after) if after and is_row_id(after) else None,
    )
    context = {
        "event": event,
        "rows": rows,
        "term": term,
        "status": status,
        "tally": roster.tally(event),
        "hosting": roster.hosts(event, organization),
        "next_after": rows[-1].pk if len(rows) == roster.PAGE else None,
    }
    return render(request, "events/manage/attendees.html", context)


@organization_view(Permission.EDIT_PEOPLE)
def attendee_add(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    form = AttendeeForm(
        request.POST if request.method == "POST" else None,
        initial={"language": event.organization.default_language, "send_ticket": True},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = services.rsvp(
                    event=event,
                    data=form.person_data(),
                    actor=request.user,
                    source="organizer",
                    notify=form.cleaned_data["send_ticket"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                _say_added(request, result)
                return redirect("events:manage_attendees", event.organization.slug, event.pk)
    return render(
        request, "events/manage/attendee_add.html", {"event": event, "form": form}, status=status
    )


def _say_added(request: HttpRequest, result: services.RsvpResult) -> None:
    if not result.created:
        messages.info(request, _("This person had already answered; nothing changed."))
    elif result.rsvp.status == "confirmed":
        messages.success(request, _("Added to the people coming."))
    else:
        messages.success(request, _("The event is full: added to the waiting list."))


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def attendee_cancel(request: HttpRequest, pk: int, rsvp: int) -> HttpResponse:
    event = hosted_event(request, pk)
    row = get_for_org_or_404(Rsvp.objects.filter(event=event), event.organization, pk=rsvp)
    promoted = services.cancel_rsvp(rsvp=row, actor=request.user)
    messages.success(request, _("Answer cancelled."))
    if promoted is not None:
        messages.info(request, _("The first person on the waiting list now has the place."))
    return redirect("events:manage_attendees", event.organization.slug, event.pk)


def _audience(event: Event, which: str) -> tuple[str, dict[str, list[int]]]:
    if which == "came":
        name = _("Came to %(title)s (%(date)s)")
    else:
        name = _("Coming to %(title)s (%(date)s)")
    day = event.starts_at.astimezone(zoneinfo.ZoneInfo(event.time_zone))
    label = name % {"title": event.title, "date": f"{day:%Y-%m-%d}"}
    return label[:120], {AUDIENCES.get(which, "rsvped_to"): [event.pk]}


@organization_view(Permission.EXPORT_PEOPLE)
@mfa_session_required
def attendee_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The supporters' export of this event's attendees: same second factor, approval, audit."""
    event = hosted_event(request, pk)
    which = request.POST.get("which") or request.GET.get("which", "coming")
    name, definition = _audience(event, which)
    if request.method == "POST":
        export = exporting.request_export(
            actor=request.user,
            organization=event.organization,
            segment=None,
            audience=(name, definition),
        )
        if export.status == ExportStatus.PENDING:
            messages.info(
                request, _("Another admin must approve this export before you can download it.")
            )
        else:
            messages.success(request, _("Your export is ready to download."))
        return redirect("supporters:export_list", slug=event.organization.slug)
    context = {
        "segment": SimpleNamespace(name=name),
        "count": segments.evaluate(event.organization, definition).count,
        "needs_approval": exporting.needs_approval(event.organization),
        "hidden": {"which": which},
    }
    return render(request, "supporters/export_confirm.html", context)


@organization_view(Permission.SEND_MESSAGES)
@require_POST
def attendee_message(request: HttpRequest, pk: int) -> HttpResponse:
    """A broadcast to the attendees: the segment is found or saved, then the usual form."""
    event = hosted_event(request, pk)
    name, definition = _audience(event, request.POST.get("which", "coming"))
    segment = Segment.objects.for_org(event.organization).filter(definition=definition).first()
    if segment is None:
        if Segment.objects.for_org(event.organization).filter(name=name).exists():
            name = f"{name[:110]} #{event.pk}"
        segment = subject.save_segment(
            actor=request.user, organization=event.organization, name=name, definition=definition
        )
    url = reverse("messaging_broadcast_new", args=[event.organization.slug])
    return redirect(f"{url}?segment={segment.pk}")


urlpatterns = [
    path(f"{PREFIX}<int:pk>/attendees/", attendee_list, name="manage_attendees"),
    path(f"{PREFIX}<int:pk>/attendees/add/", attendee_add, name="manage_attendee_add"),
    path(
        f"{PREFIX}<int:pk>/attendees/<int:rsvp>/cancel/",
        attendee_cancel,
        name="manage_attendee_cancel",
    ),
    path(f"{PREFIX}<int:pk>/attendees/export/", attendee_export, name="manage_export"),
    path(f"{PREFIX}<int:pk>/attendees/message/", attendee_message, name="manage_message"),
]
