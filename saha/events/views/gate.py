"""The gate page: check-in staff let people in, by camera, by typed code or by name.

Everything works without JavaScript: the code and the search are plain forms,
each rendered with a fresh nonce, and a POST answers with the gate page and
its result banner (no redirect: posting the same form again sends the same
nonce, which gets the same answer, never a second check-in). `gate.js` adds
the camera and sends the same forms with fetch, asking for JSON, with its own
nonce per attempt kept across retries; the JSON carries the banner rendered
from the same template, so the wording is translated in one place.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404
from saha.events import gate
from saha.events.models import CheckIn, Event, EventStatus, Rsvp
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters.services import PersonData

PREFIX = "manage/<slug:slug>/events/<int:pk>/gate/"
CHECK_IN = Permission.CHECK_IN
SHOWN = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _event(request: HttpRequest, pk: int) -> Event:
    return get_for_org_or_404(
        Event.objects.select_related("organization"),
        request.organization,  # type: ignore[attr-defined]
        pk=pk,
        status__in=SHOWN,
    )


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside organization_view: a script asking for JSON gets JSON, even when refused.

    Signed out (the decorator redirects to sign in, or to set up two-factor
    authentication) is 401; not a member is 404, as for pages; a role without
    the permission is 403. Each with a stable code, so a scanner can say why.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not wants_json(request):
            return view(request, *args, **kwargs)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return _refusal("not_found", _("This page does not exist."), 404)
        except PermissionDenied:
            return _refusal("forbidden", _("Your role does not let you check people in."), 403)
        if response.has_header("Location"):
            return _refusal("signed_out", _("Sign in again to go on."), 401)
        return response

    return wrapper


def _refusal(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "message": message}, status=status)


def at_by(words: str, time: str, by: str) -> str:
    """The words "at HH:MM by NAME", each value isolated for bidi, the markup kept out."""
    values = {
        "time": format_html('<bdi class="gate-time">{}</bdi>', time),
        "by": format_html('<bdi class="gate-by">{}</bdi>', by),
    }
    return mark_safe(conditional_escape(words) % values)  # noqa: S308 - escaped above


# --- what a request came to -------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the banner says: admitted (green), already (amber) or refused (red)."""

    kind: str
    code: str
    status: int = 200
    message: str = ""
    name: str = ""
    ticket_code: str = ""
    time: str = ""
    by: str = ""

    @classmethod
    def of(cls, event: Event, rsvp: Rsvp, result: Any) -> Outcome:
        kind = "already" if result.already else "admitted"
        return cls(
            kind=kind,
            code=kind,
            name=gate.person_name(rsvp),
            ticket_code=rsvp.code,
            time=gate.local_time(event, result.check_in.checked_in_at),
            by=gate.staff_name(result.check_in),
        )

    @property
    def already_line(self) -> str:
        return at_by(_("Already checked in at %(time)s by %(by)s."), self.time, self.by)

    @classmethod
    def refused(cls, error: DomainError, rsvp: Rsvp | None = None) -> Outcome:
        return cls(
            kind="refused",
            code=error.code,
            status=error.status,
            message=error.message,
            name=gate.person_name(rsvp) if rsvp is not None else "",
            ticket_code=rsvp.code if rsvp is not None else "",
        )


def _found(event: Event, data: Any) -> tuple[Rsvp, str]:
    """The RSVP a posted form names, and how it was found."""
    if token := data.get("token", "").strip():
        return gate.find_by_token(event, token), "scan"
    if rsvp_id := data.get("rsvp", "").strip():
        return gate.find_by_id(event, rsvp_id), "search"
    if code := data.get("code", "").strip():
        return gate.find_by_code(event, code), "code"
    raise DomainError("nothing_given", _("Type a code or scan a ticket."))


def _check_in(request: HttpRequest, event: Event) -> Outcome:
    rsvp = None
    try:
        rsvp, method = _found(event, request.POST)
        result = gate.admit(
            event=event,
            rsvp=rsvp,
            actor=request.user,
            nonce=request.POST.get("nonce", ""),
            method=method,
        )
    except DomainError as error:
        return Outcome.refused(error, rsvp)
    return Outcome.of(event, rsvp, result)


# --- rendering --------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    rsvp: Rsvp
    name: str
    nonce: str
    check_in: CheckIn | None
    time: str = ""
    by: str = ""

    @property
    def in_line(self) -> str:
        return at_by(_("In at %(time)s by %(by)s"), self.time, self.by)


def _rows(event: Event, q: str) -> list[Row]:
    rows = []
    for rsvp in gate.search(event, q):
        came: CheckIn | None = getattr(rsvp, "check_in", None)
        rows.append(
            Row(
                rsvp=rsvp,
                name=gate.person_name(rsvp),
                nonce=new_nonce(),
                check_in=came,
                time=gate.local_time(event, came.checked_in_at) if came else "",
                by=gate.staff_name(came) if came else "",
            )
        )
    return rows


def counts_context(counts: gate.Counts) -> dict[str, Any]:
    """The counts, and the line saying them, with the numbers marked for the script.

    The markup stays out of the translated words: translators see
    "%(checked)s checked in of %(coming)s coming", never an HTML attribute.
    """
    words = ngettext(
        "%(checked)s checked in of %(coming)s coming",
        "%(checked)s checked in of %(coming)s coming",
        counts.confirmed,
    )
    numbers = {
        key: format_html('<strong data-count="{}">{}</strong>', name, number_format(value))
        for key, name, value in (
            ("checked", "checked_in", counts.checked_in),
            ("coming", "confirmed", counts.confirmed),
        )
    }
    line = mark_safe(conditional_escape(words) % numbers)  # noqa: S308 - escaped above
    return {"counts": counts, "counts_line": line}


def counts_html(request: HttpRequest, counts: gate.Counts) -> str:
    return render_to_string("events/gate/_counts.html", counts_context(counts), request)


def _context(request: HttpRequest, event: Event, **extra: Any) -> dict[str, Any]:
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    return {
        "organization": event.organization,
        "membership": request.membership,  # type: ignore[attr-defined]
        "event": event,
        **counts_context(gate.counts(event)),
        "nonce": new_nonce(),
        "q": q,
        "results": _rows(event, q) if q else [],
        "min_length": gate.SEARCH_MIN_LENGTH,
        "open": event.status == EventStatus.PUBLISHED,
        **extra,
    }


def _page(
    request: HttpRequest, event: Event, *, outcome: Outcome | None = None, **extra: Any
) -> HttpResponse:
    context = _context(request, event, outcome=outcome, **extra)
    status = outcome.status if outcome is not None else 200
    return render(request, "events/gate/page.html", context, status=status)


def _json(request: HttpRequest, event: Event, outcome: Outcome) -> JsonResponse:
    counts = gate.counts(event)
    body = {
        "ok": outcome.kind != "refused",
        "code": outcome.code,
        "message": outcome.message,
        "name": outcome.name,
        "ticket_code": outcome.ticket_code,
        "time": outcome.time,
        "by": outcome.by,
        "banner": render_to_string("events/gate/_result.html", {"outcome": outcome}, request),
        "counts": counts.as_dict(),
        "counts_html": counts_html(request, counts),
    }
    return JsonResponse(body, status=outcome.status)


# --- views --------------------------------------------------------------------------


@json_errors
@organization_view(CHECK_IN)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def gate_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the page (with search results for `?q=`); POST: check someone in."""
    event = _event(request, pk)
    if request.method != "POST":
        return _page(request, event)
    outcome = _check_in(request, event)
    if wants_json(request):
        return _json(request, event, outcome)
    return _page(request, event, outcome=outcome)


@json_errors
@organization_view(CHECK_IN)
@never_cache
@require_GET
def gate_counts(request: HttpRequest, pk: int) -> JsonResponse:
    event = _event(request, pk)
    counts = gate.counts(event)
    return JsonResponse({"counts": counts.as_dict(), "counts_html": counts_html(request, counts)})


class WalkInForm(forms.Form):
    given_name = forms.CharField(label=gettext_lazy("Given name"), max_length=100)
    family_name = forms.CharField(label=gettext_lazy("Family name"), max_length=100, required=False)
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    nonce = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("email") and not cleaned.get("phone") and not self.has_error("email"):
            raise forms.ValidationError(
                _("Give an email address or a phone number."), code="no_contact"
            )
        return cleaned

    def person_data(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
        )


# The field of the walk-in form each refusal of the sign-up belongs to.
WALK_IN_FIELDS = {"invalid_email": "email", "invalid_phone": "phone"}


def _walk_in_form(
    request: HttpRequest, event: Event, form: WalkInForm, status: int
) -> HttpResponse:
    context = {
        "organization": event.organization,
        "membership": request.membership,  # type: ignore[attr-defined]
        "event": event,
        "form": form,
        **counts_context(gate.counts(event)),
        "open": event.status == EventStatus.PUBLISHED,
    }
    return render(request, "events/gate/walk_in.html", context, status=status)


@organization_view(CHECK_IN)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def gate_walk_in(request: HttpRequest, pk: int) -> HttpResponse:
    """Someone not on the list: a name and a contact, then they are in (or the event is full)."""
    event = _event(request, pk)
    if request.method != "POST":
        return _walk_in_form(request, event, WalkInForm(initial={"nonce": new_nonce()}), 200)
    form = WalkInForm(request.POST)
    if not form.is_valid():
        return _walk_in_form(request, event, form, 400)
    try:
        result = gate.add_walk_in(
            event=event,
            data=form.person_data(),
            actor=request.user,
            nonce=form.cleaned_data["nonce"],
        )
    except DomainError as error:
        form.add_error(WALK_IN_FIELDS.get(error.code), error.message)
        return _walk_in_form(request, event, form, error.status)
    rsvp = Rsvp.objects.select_related("person").get(pk=result.check_in.rsvp_id)
    outcome = Outcome.of(event, rsvp, result)
    # The name as typed, never the one on file: an address must not tell staff who it is.
    typed = " ".join(
        filter(None, [form.cleaned_data["given_name"], form.cleaned_data.get("family_name")])
    )
    return _page(request, event, outcome=replace(outcome, name=typed))


urlpatterns = [
    path(PREFIX, gate_page, name="gate"),
    path(f"{PREFIX}counts/", gate_counts, name="gate_counts"),
    path(f"{PREFIX}walk-in/", gate_walk_in, name="gate_walk_in"),
]
