"""The organizer's volunteer pages, all under volunteers.manage: the capabilities, the
offers, the needs of an event or a campaign with their coverage board, one need with
its shifts, volunteers and attendance, and the matching page.

Views parse, fetch within the organization (another organization's row is a 404),
call one service and answer; a DomainError from a service (the need full, the van
already given) is shown on the page it came from, with its 4xx status.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from saha.campaigns.models import Campaign
from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.events.models import Event, EventStatus
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission
from saha.volunteers import coverage, matching, services
from saha.volunteers.manage_forms import (
    AssignForm,
    AttendanceForm,
    CapabilityForm,
    InviteForm,
    NeedForm,
    OfferSearchForm,
    ShiftForm,
)
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Capability,
    Need,
    NeedStatus,
    Offer,
    OfferedCapability,
    OfferStatus,
    Shift,
)
from saha.volunteers.when import zone_name

PREFIX = "manage/<slug:slug>/volunteers/"
MANAGE = Permission.MANAGE_VOLUNTEERS
OFFERS_PAGE = 50
LISTED = 50


def _organization(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined]


def _context(request: HttpRequest, **values: Any) -> dict[str, Any]:
    membership = request.membership  # type: ignore[attr-defined]
    return {"see_people": membership.can(Permission.VIEW_PEOPLE), **values}


def _need(request: HttpRequest, pk: Any) -> Need:
    needs = Need.objects.select_related(
        "capability__organization", "organization", "event", "campaign"
    )
    return get_for_org_or_404(needs, _organization(request), pk=pk)


def _event(request: HttpRequest, pk: Any) -> Event:
    return get_for_org_or_404(
        Event.objects.select_related("organization"), _organization(request), pk=pk
    )


def _campaign(request: HttpRequest, pk: Any) -> Campaign:
    return get_for_org_or_404(
        Campaign.objects.select_related("organization"), _organization(request), pk=pk
    )


def to_need(need: Need) -> HttpResponse:
    return redirect("volunteers:manage_need", need.organization.slug, need.pk)


# --- Home, capabilities, offers ------------------------------------------------------


def _with_needs(rows: QuerySet[Any]) -> QuerySet[Any]:
    return rows.annotate(
        needs_count=Count("needs", filter=Q(needs__status=NeedStatus.OPEN)),
        wanted=Sum("needs__wanted", filter=Q(needs__status=NeedStatus.OPEN)),
        filled=Sum("needs__filled", filter=Q(needs__status=NeedStatus.OPEN)),
    )


def _covered(rows: QuerySet[Any]) -> list[Any]:
    """Each event or campaign with `percent` and `full` of its open needs together."""
    found = list(rows)
    for row in found:
        row.filled, row.wanted = row.filled or 0, row.wanted or 0
        row.percent = coverage.percent(row.filled, row.wanted)
        row.full = bool(row.wanted) and row.filled >= row.wanted
    return found


@organization_view(MANAGE)
def manage_home(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    events = _with_needs(
        Event.objects.for_org(organization)
        .exclude(status=EventStatus.CANCELLED)
        .filter(ends_at__gte=timezone.now())
        .select_related("organization")
        .order_by("starts_at", "pk")
    )[:LISTED]
    campaigns = _with_needs(
        Campaign.objects.for_org(organization).select_related("organization").order_by("-pk")
    )[:LISTED]
    context = _context(
        request,
        events=_covered(events),
        campaigns=_covered(campaigns),
        offers_count=Offer.objects.for_org(organization).filter(status=OfferStatus.ACTIVE).count(),
    )
    return render(request, "volunteers/manage/home.html", context)


@organization_view(MANAGE)
def capability_list(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    form = CapabilityForm(
        request.POST if request.method == "POST" else None,
        initial=CapabilityForm.initial_for(None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.add_capability(
                actor=request.user,
                organization=organization,
                names=form.names(),
                kind=form.cleaned_data["kind"],
                unit=form.cleaned_data["unit"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Capability added."))
            return redirect("volunteers:capabilities", organization.slug)
    context = _context(request, capabilities=services.ensure_capabilities(organization), form=form)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "volunteers/manage/capabilities.html", context, status=status)


@organization_view(MANAGE)
def capability_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization(request)
    capability = get_for_org_or_404(
        Capability.objects.select_related("organization"), organization, pk=pk
    )
    form = CapabilityForm(
        request.POST if request.method == "POST" else None,
        capability=capability,
        initial=CapabilityForm.initial_for(capability),
    )
    if request.method == "POST" and form.is_valid():
        services.update_capability(
            actor=request.user,
            capability=capability,
            names=form.names(),
            active=form.cleaned_data["active"],
        )
        messages.success(request, _("Capability saved."))
        return redirect("volunteers:capabilities", organization.slug)
    status = 400 if form.is_bound else 200
    context = _context(request, capability=capability, form=form)
    return render(request, "volunteers/manage/capability_form.html", context, status=status)


def _offers(organization: Organization, form: OfferSearchForm, after: str) -> QuerySet[Offer]:
    data = form.cleaned_data if form.is_valid() else {}
    offers = Offer.objects.for_org(organization)
    if not data.get("withdrawn"):
        offers = offers.filter(status=OfferStatus.ACTIVE)
    if data.get("capability"):
        offers = offers.filter(capabilities__capability_id=data["capability"])
    if data.get("locality"):
        offers = offers.filter(locality_key__startswith=services.fold_locality(data["locality"]))
    if is_row_id(after):
        offers = offers.filter(pk__lt=int(after))
    return offers.order_by("-pk")


@organization_view(MANAGE)
def offer_list(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    capabilities = services.ensure_capabilities(organization)
    form = OfferSearchForm(request.GET or None, capabilities=capabilities)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "volunteers/manage/offers.html",
            _context(request, form=form, offers=[]),
            status=400,
        )
    today = timezone.localdate()
    page = list(
        _offers(organization, form, request.GET.get("after", ""))
        .select_related("person")
        .prefetch_related(
            Prefetch(
                "capabilities",
                queryset=OfferedCapability.objects.select_related("capability__organization"),
            ),
            Prefetch(
                "availability",
                queryset=Availability.objects.filter(ends_on__gte=today).order_by("starts_on"),
                to_attr="dates",
            ),
        )[: OFFERS_PAGE + 1]
    )
    more = len(page) > OFFERS_PAGE
    page = page[:OFFERS_PAGE]
    next_query = ""
    if more:
        query = request.GET.copy()
        query["after"] = str(page[-1].pk)
        next_query = query.urlencode()
    context = _context(request, form=form, offers=page, next_query=next_query)
    return render(request, "volunteers/manage/offers.html", context)


# --- Coverage boards ---------------------------------------------------------------


@organization_view(MANAGE)
def event_board(request: HttpRequest, event_pk: int) -> HttpResponse:
    event = _event(request, event_pk)
    rows = coverage.board(event=event)
    context = _board_context(request, rows, event.time_zone, parent=event, event=event)
    return render(request, "volunteers/manage/board.html", context)


@organization_view(MANAGE)
def campaign_board(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    campaign = _campaign(request, campaign_pk)
    rows = coverage.board(campaign=campaign)
    zone = campaign.organization.time_zone
    context = _board_context(request, rows, zone, parent=campaign, campaign=campaign)
    return render(request, "volunteers/manage/board.html", context)


def _board_context(
    request: HttpRequest, rows: list[coverage.NeedCoverage], zone: str, **values: Any
) -> dict[str, Any]:
    filled, wanted = coverage.totals(rows)
    return _context(
        request,
        rows=rows,
        zone=zone,
        totals=(filled, wanted),
        board_percent=coverage.percent(filled, wanted),
        board_full=bool(wanted) and filled >= wanted,
        **values,
    )


# --- Needs ---------------------------------------------------------------------------


def _need_form_page(
    request: HttpRequest, form: NeedForm, values: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = _context(request, form=form, **values)
    return render(request, "volunteers/manage/need_form.html", context, status=status)


def _post_need(
    request: HttpRequest, *, event: Event | None, campaign: Campaign | None
) -> HttpResponse:
    organization = _organization(request)
    zone = event.time_zone if event is not None else organization.time_zone
    form = NeedForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        zone=zone,
        initial=NeedForm.initial_for(None, zone, event=event),
    )
    parent = {"event": event, "campaign": campaign, "parent": event or campaign}
    if request.method != "POST":
        return _need_form_page(request, form, parent)
    if not form.is_valid():
        return _need_form_page(request, form, parent, status=400)
    try:
        need = services.create_need(
            actor=request.user,
            organization=organization,
            capability=form.cleaned_data["capability"],
            event=event,
            campaign=campaign,
            **form.fields_for_service(),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _need_form_page(request, form, parent, status=error.status)
    messages.success(request, _("Need posted. Find volunteers for it below."))
    return to_need(need)


@organization_view(MANAGE)
def need_new_event(request: HttpRequest, event_pk: int) -> HttpResponse:
    return _post_need(request, event=_event(request, event_pk), campaign=None)


@organization_view(MANAGE)
def need_new_campaign(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    return _post_need(request, event=None, campaign=_campaign(request, campaign_pk))


@organization_view(MANAGE)
def need_edit(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    zone = zone_name(need)
    form = NeedForm(
        request.POST if request.method == "POST" else None,
        organization=need.organization,
        zone=zone,
        need=need,
        initial=NeedForm.initial_for(need, zone, locality=need.locality_key),
    )
    parent = {"need": need, "parent": need.event or need.campaign}
    if request.method != "POST":
        return _need_form_page(request, form, parent)
    if not form.is_valid():
        return _need_form_page(request, form, parent, status=400)
    try:
        services.update_need(actor=request.user, need=need, **form.fields_for_service())
    except DomainError as error:
        form.add_error(None, error.message)
        return _need_form_page(request, form, parent, status=error.status)
    messages.success(request, _("Need saved."))
    return to_need(need)


def _assignments(need: Need) -> list[Assignment]:
    return list(
        need.assignments.exclude(status=AssignmentStatus.CANCELLED)
        .select_related("person", "shift", "offered")
        .order_by("shift__starts_at", "status", "pk")
    )


def _need_page(
    request: HttpRequest,
    need: Need,
    *,
    shift_form: ShiftForm | None = None,
    attendance: AttendanceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = _assignments(need)
    accepted = [row for row in rows if row.status == AssignmentStatus.ACCEPTED]
    row = coverage.of_need(need)
    context = _context(
        request,
        need=need,
        row=row,
        assignments=rows,
        shift_form=shift_form or ShiftForm(zone=zone_name(need)),
        attendance=attendance or AttendanceForm(assignments=accepted),
        zone=zone_name(need),
        started=need.starts_at <= timezone.now(),
    )
    return render(request, "volunteers/manage/need.html", context, status=status)


@organization_view(MANAGE)
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _need_page(request, _need(request, pk))


@organization_view(MANAGE)
@require_POST
def need_close(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    if services.close_need(actor=request.user, need=need):
        messages.success(request, _("Need closed: nobody else can sign up or be invited."))
    return to_need(need)


@organization_view(MANAGE)
@require_POST
def need_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    if services.reopen_need(actor=request.user, need=need):
        messages.success(request, _("Need open again."))
    return to_need(need)


@organization_view(MANAGE)
@require_POST
def shift_add(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    form = ShiftForm(request.POST, zone=zone_name(need))
    if not form.is_valid():
        return _need_page(request, need, shift_form=form, status=400)
    data = form.cleaned_data
    try:
        services.add_shift(
            actor=request.user,
            need=need,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            capacity=data["capacity"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _need_page(request, need, shift_form=form, status=error.status)
    messages.success(request, _("Shift added."))
    return to_need(need)


@organization_view(MANAGE)
@require_POST
def shift_remove(request: HttpRequest, pk: int, shift: int) -> HttpResponse:
    need = _need(request, pk)
    found = Shift.objects.filter(need=need, pk=shift).first()
    if found is None:
        raise Http404
    try:
        services.remove_shift(actor=request.user, shift=found)
    except DomainError as error:
        messages.error(request, error.message)
        return _need_page(request, need, status=error.status)
    messages.success(request, _("Shift removed."))
    return to_need(need)


@organization_view(MANAGE)
@require_POST
def assignment_release(request: HttpRequest, pk: int, assignment: int) -> HttpResponse:
    need = _need(request, pk)
    found = Assignment.objects.filter(need=need, pk=assignment).first()
    if found is None:
        raise Http404
    if services.release(actor=request.user, assignment=found):
        messages.success(request, _("Released: the place is free again."))
    return to_need(need)


@organization_view(MANAGE)
@require_POST
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    accepted = [row for row in _assignments(need) if row.status == AssignmentStatus.ACCEPTED]
    form = AttendanceForm(request.POST, assignments=accepted)
    if not form.is_valid():
        return _need_page(request, need, attendance=form, status=400)
    recorded = 0
    for row, came, hours in form.changes():
        try:
            services.record_attendance(
                actor=request.user, assignment=row, attended=came, hours=hours
            )
        except DomainError as error:
            form.add_error(f"attended_{row.pk}", error.message)
            return _need_page(request, need, attendance=form, status=error.status)
        recorded += 1
    messages.success(
        request,
        ngettext(
            "Attendance recorded for %(n)d volunteer.",
            "Attendance recorded for %(n)d volunteers.",
            recorded,
        )
        % {"n": recorded},
    )
    return to_need(need)


# --- Matching ---------------------------------------------------------------------------


def _match_page(
    request: HttpRequest, need: Need, *, error: str = "", form: Any = None, status: int = 200
) -> HttpResponse:
    row = coverage.of_need(need)
    context = _context(
        request,
        need=need,
        row=row,
        candidates=matching.candidates(need) if need.status == NeedStatus.OPEN else [],
        shifts=list(need.shifts.all()),
        zone=zone_name(need),
        error=error,
        form=form,
    )
    return render(request, "volunteers/manage/match.html", context, status=status)


@organization_view(MANAGE)
def match(request: HttpRequest, pk: int) -> HttpResponse:
    return _match_page(request, _need(request, pk))


def _shift_required(need: Need, form: Any) -> bool:
    if need.shifts.exists() and not form.cleaned_data.get("shift"):
        form.add_error("shift", _("Choose the shift."))
        return True
    return False


@organization_view(MANAGE)
@require_POST
def match_invite(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    form = InviteForm(request.POST, need=need)
    if not form.is_valid() or _shift_required(need, form):
        return _match_page(request, need, form=form, status=400)
    try:
        invited = services.invite(
            actor=request.user,
            need=need,
            offers=list(form.cleaned_data["offers"]),
            shift=form.cleaned_data.get("shift"),
        )
    except DomainError as error:
        return _match_page(request, need, error=error.message, status=error.status)
    messages.success(
        request,
        ngettext(
            "%(n)d volunteer invited: they answer by the link in their message.",
            "%(n)d volunteers invited: they answer by the link in their message.",
            invited,
        )
        % {"n": invited},
    )
    return redirect("volunteers:match", need.organization.slug, need.pk)


@organization_view(MANAGE)
@require_POST
def match_assign(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    form = AssignForm(request.POST, need=need)
    if not form.is_valid() or _shift_required(need, form):
        return _match_page(request, need, form=form, status=400)
    data = form.cleaned_data
    try:
        services.assign(
            actor=request.user,
            need=need,
            offered=data["offered"],
            quantity=data.get("quantity"),
            shift=data.get("shift"),
        )
    except DomainError as error:
        return _match_page(request, need, error=error.message, status=error.status)
    messages.success(request, _("Assigned: the volunteer is told by message."))
    return redirect("volunteers:match", need.organization.slug, need.pk)


urlpatterns = [
    path(PREFIX, manage_home, name="manage_home"),
    path(f"{PREFIX}capabilities/", capability_list, name="capabilities"),
    path(f"{PREFIX}capabilities/<int:pk>/", capability_edit, name="capability_edit"),
    path(f"{PREFIX}offers/", offer_list, name="offers"),
    path(f"{PREFIX}events/<int:event_pk>/", event_board, name="coverage"),
    path(f"{PREFIX}events/<int:event_pk>/needs/new/", need_new_event, name="need_new_event"),
    path(f"{PREFIX}campaigns/<int:campaign_pk>/", campaign_board, name="campaign_coverage"),
    path(
        f"{PREFIX}campaigns/<int:campaign_pk>/needs/new/",
        need_new_campaign,
        name="need_new_campaign",
    ),
    path(f"{PREFIX}needs/<int:pk>/", need_detail, name="manage_need"),
    path(f"{PREFIX}needs/<int:pk>/edit/", need_edit, name="need_edit"),
    path(f"{PREFIX}needs/<int:pk>/close/", need_close, name="need_close"),
    path(f"{PREFIX}needs/<int:pk>/reopen/", need_reopen, name="need_reopen"),
    path(f"{PREFIX}needs/<int:pk>/shifts/", shift_add, name="shift_add"),
    path(f"{PREFIX}needs/<int:pk>/shifts/<int:shift>/remove/", shift_remove, name="shift_remove"),
    path(f"{PREFIX}needs/<int:pk>/attendance/", attendance, name="attendance"),
    path(
        f"{PREFIX}needs/<int:pk>/assignments/<int:assignment>/release/",
        assignment_release,
        name="release",
    ),
    path(f"{PREFIX}needs/<int:pk>/match/", match, name="match"),
    path(f"{PREFIX}needs/<int:pk>/match/invite/", match_invite, name="match_invite"),
    path(f"{PREFIX}needs/<int:pk>/match/assign/", match_assign, name="match_assign"),
]
