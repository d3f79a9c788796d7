"""The organizer's event pages: the list, one event with its gauge, creating, editing,
copying, publishing, cancelling, and naming co-hosts.

Every member sees the list and the counts (check-in staff start from here to
reach the gate); changing anything needs content.manage and hosting the
event: a co-host sees the event and the attendees who agreed, nothing more.
Attendee pages are in `attendees.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saha.core.errors import DomainError
from saha.core.slugs import create_with_free_slug
from saha.core.tenancy import is_row_id
from saha.events import organizer, roster
from saha.events.manage_forms import (
    CoHostForm,
    DuplicateForm,
    EventForm,
    reminder_labels,
)
from saha.events.models import CoHost, Event, EventStatus
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission

PREFIX = "manage/<slug:slug>/events/"
CONTENT = Permission.MANAGE_CONTENT
EVENTS_PAGE = 50


def hosted_event(request: HttpRequest, pk: Any) -> Event:
    """An event this organization hosts: a co-host gets 404 on every page that changes it."""
    organization = request.organization  # type: ignore[attr-defined]
    event = roster.event_for(organization, pk)
    if not roster.hosts(event, organization):
        raise Http404
    return event


def to_event(event: Event) -> HttpResponse:
    return redirect("events:manage_event", event.organization.slug, event.pk)


@organization_view(Permission.VIEW_DASHBOARD)
def event_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    past = request.GET.get("when") == "past"
    events = roster.events_for(organization)
    now = timezone.now()
    if past:
        events = events.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
    else:
        events = events.filter(ends_at__gte=now)
    # Events are few (hundreds over years): numbered pages are cheap here.
    paginator = Paginator(events, EVENTS_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    page = list(page_obj.object_list)
    counts = roster.tallies(page)
    rows = [(event, counts[event.pk], roster.hosts(event, organization)) for event in page]
    context = {
        "rows": rows,
        "past": past,
        "page_obj": page_obj,
        "invitations": roster.invitations_for(organization),
    }
    return render(request, "events/manage/list.html", context)


@organization_view(Permission.VIEW_DASHBOARD)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    event = roster.event_for(organization, pk)
    return _detail_page(request, event, CoHostForm(event=event))


def _detail_page(
    request: HttpRequest, event: Event, co_host_form: CoHostForm, status: int = 200
) -> HttpResponse:
    context = {
        "event": event,
        "tally": roster.tally(event),
        "hosting": roster.hosts(event, request.organization),  # type: ignore[attr-defined]
        "co_hosts": roster.co_hosts_of(event),
        "co_host_form": co_host_form,
        "reminders": reminder_labels(event.reminders),
    }
    return render(request, "events/manage/detail.html", context, status=status)


def _form_page(
    request: HttpRequest, form: EventForm, event: Event | None, status: int = 200
) -> HttpResponse:
    return render(request, "events/manage/form.html", {"form": form, "event": event}, status=status)


@organization_view(CONTENT)
def event_new(request: HttpRequest) -> HttpResponse:
    organization: Organization = request.organization  # type: ignore[attr-defined]
    form = EventForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        initial=EventForm.initial_for(None, organization),
    )
    if request.method != "POST":
        return _form_page(request, form, None)
    if not form.is_valid():
        return _form_page(request, form, None, status=400)
    fields = form.fields_for_service()
    event = _with_free_slug(
        organization,
        fields,
        lambda slug: organizer.create_event(
            actor=request.user, organization=organization, slug=slug, **fields
        ),
    )
    messages.success(request, _("Event saved as a draft. Publish it when it is ready."))
    return to_event(event)


def _with_free_slug(
    organization: Organization, fields: dict[str, Any], make: Callable[[str], Event]
) -> Event:
    fallback = f"event-{fields['starts_at']:%Y-%m-%d}"
    return create_with_free_slug(
        Event.objects.for_org(organization), fields["titles"], fallback, make
    )


@organization_view(CONTENT)
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    if event.status == EventStatus.CANCELLED:
        messages.info(request, _("A cancelled event cannot be changed."))
        return to_event(event)
    form = EventForm(
        request.POST if request.method == "POST" else None,
        organization=event.organization,
        event=event,
        initial=EventForm.initial_for(event, event.organization),
    )
    if request.method != "POST":
        return _form_page(request, form, event)
    if not form.is_valid():
        return _form_page(request, form, event, status=400)
    revision = event.revision
    try:
        organizer.update_event(actor=request.user, event=event, **form.fields_for_service())
    except DomainError as error:  # cancelled meanwhile
        messages.error(request, error.message)
        return to_event(event)
    if event.revision != revision and event.status == EventStatus.PUBLISHED:
        messages.success(request, _("Saved. Everyone who answered is being told of the change."))
    else:
        messages.success(request, _("Event saved."))
    return to_event(event)


@organization_view(CONTENT)
def event_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    form = DuplicateForm(request.POST if request.method == "POST" else None, event=event)
    if request.method == "POST" and form.is_valid():
        starts_at = form.cleaned_data["starts"]
        copy = _with_free_slug(
            event.organization,
            {"titles": event.titles, "starts_at": starts_at},
            lambda slug: organizer.duplicate(
                actor=request.user, event=event, slug=slug, starts_at=starts_at
            ),
        )
        messages.success(request, _("Copy saved as a draft. Check it, then publish it."))
        return to_event(copy)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "events/manage/duplicate.html", {"event": event, "form": form}, status=status
    )


@organization_view(CONTENT)
@require_POST
def event_publish(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    if organizer.publish(actor=request.user, event=event):
        messages.success(request, _("Published: the event page now takes answers."))
    else:
        messages.info(request, _("Only a draft can be published."))
    return to_event(event)


@organization_view(CONTENT)
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (a page, not a script); the POST with confirm=1 cancels for everybody."""
    event = hosted_event(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        if organizer.cancel_event(actor=request.user, event=event):
            messages.success(request, _("Event cancelled. Everyone who answered is being told."))
        return to_event(event)
    context = {"event": event, "tally": roster.tally(event)}
    return render(request, "events/manage/cancel.html", context)


@organization_view(CONTENT)
@require_POST
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    if organizer.delete_draft(actor=request.user, event=event):
        messages.success(request, _("Draft deleted."))
        return redirect("events:manage_list", event.organization.slug)
    messages.info(request, _("Only a draft can be deleted; a published event can be cancelled."))
    return to_event(event)


@organization_view(CONTENT)
@require_POST
def co_host_add(request: HttpRequest, pk: int) -> HttpResponse:
    event = hosted_event(request, pk)
    form = CoHostForm(request.POST, event=event)
    if not form.is_valid():
        return _detail_page(request, event, form, status=400)
    co_host = form.cleaned_data["organization"]
    if organizer.add_co_host(actor=request.user, event=event, co_host=co_host):
        messages.success(request, _("%(name)s is now a co-host.") % {"name": co_host.name})
    return to_event(event)


@organization_view(CONTENT)
@require_POST
def co_host_remove(request: HttpRequest, pk: int, co_host: int) -> HttpResponse:
    event = hosted_event(request, pk)
    link = event.co_host_links.select_related("co_host").filter(co_host_id=co_host).first()
    if link is not None:
        organizer.remove_co_host(actor=request.user, event=event, co_host=link.co_host)
        messages.success(
            request, _("%(name)s is no longer a co-host.") % {"name": link.co_host.name}
        )
    return to_event(event)


def _asked(request: HttpRequest, pk: Any) -> Event:
    """An event another organization asked this one to co-host (answered or not)."""
    organization = request.organization  # type: ignore[attr-defined]
    if not is_row_id(pk):
        raise Http404
    link = (
        CoHost.objects.select_related("event__organization")
        .filter(event_id=pk, co_host=organization)
        .exclude(event__status=EventStatus.DRAFT)
        .first()
    )
    if link is None:
        raise Http404
    return link.event


@organization_view(CONTENT)
@require_POST
def co_hosting_accept(request: HttpRequest, pk: int) -> HttpResponse:
    event = _asked(request, pk)
    organization = request.organization  # type: ignore[attr-defined]
    if organizer.accept_co_hosting(actor=request.user, event=event, co_host=organization):
        messages.success(request, _("You now co-host this event."))
    return redirect("events:manage_event", organization.slug, event.pk)


@organization_view(CONTENT)
@require_POST
def co_hosting_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline an invitation, or stop co-hosting: the host's attendees are hidden at once."""
    event = _asked(request, pk)
    organization = request.organization  # type: ignore[attr-defined]
    organizer.remove_co_host(actor=request.user, event=event, co_host=organization)
    messages.success(request, _("You no longer co-host this event."))
    return redirect("events:manage_list", organization.slug)


urlpatterns = [
    path(PREFIX, event_list, name="manage_list"),
    path(f"{PREFIX}new/", event_new, name="manage_new"),
    path(f"{PREFIX}<int:pk>/", event_detail, name="manage_event"),
    path(f"{PREFIX}<int:pk>/edit/", event_edit, name="manage_edit"),
    path(f"{PREFIX}<int:pk>/duplicate/", event_duplicate, name="manage_duplicate"),
    path(f"{PREFIX}<int:pk>/publish/", event_publish, name="manage_publish"),
    path(f"{PREFIX}<int:pk>/cancel/", event_cancel, name="manage_cancel"),
    path(f"{PREFIX}<int:pk>/delete/", event_delete, name="manage_delete"),
    path(f"{PREFIX}<int:pk>/co-hosts/", co_host_add, name="manage_co_host_add"),
    path(f"{PREFIX}<int:pk>/co-hosting/accept/", co_hosting_accept, name="co_hosting_accept"),
    path(f"{PREFIX}<int:pk>/co-hosting/leave/", co_hosting_leave, name="co_hosting_leave"),
    path(
        f"{PREFIX}<int:pk>/co-hosts/<int:co_host>/remove/",
        co_host_remove,
        name="manage_co_host_remove",
    ),
]
