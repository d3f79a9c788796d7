"""Broadcast pages: write a broadcast once per language, preview it, test it, send it, watch it go.

A draft has one page (`broadcast_detail`) from which everything is written;
once it is asked to go out, its page is the progress page, which htmx
refreshes every two seconds until the broadcast is sent or cancelled. Every
write goes through `saha.messaging.broadcasts` (or `testsend`), whose state
changes are conditional: a button pressed twice does its work once, and the
second press lands on the same page.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import get_language_info, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.core.errors import Conflict, DomainError
from saha.core.models import AuditEntry
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.messaging import broadcasts, rendering, testsend
from saha.messaging.forms import (
    AudienceForm,
    BroadcastForm,
    CancelForm,
    SendForm,
    SendTestForm,
    VersionForm,
    language_names,
)
from saha.messaging.models import Broadcast, BroadcastStatus, BroadcastVersion
from saha.messaging.purposes import purpose_label
from saha.messaging.services import messaging_settings
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission, Role
from saha.supporters.models import DEFAULT_PURPOSE, Channel
from saha.supporters.views.people import keyset_page

PREFIX = "manage/<slug:slug>/messages/"
PAGE_SIZE = 25
# The progress page asks again until the broadcast is over: every 2 s while it goes out.
FINAL = (BroadcastStatus.SENT, BroadcastStatus.CANCELLED)
WAITING = (BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED)
SEND = Permission.SEND_MESSAGES
# Test sends go to any address typed: a member may send this many an hour.
TEST_SENDS_PER_HOUR = 10
# The field of the test-send form each refusal of the service belongs to.
TEST_SEND_FIELDS = {"bad_address": "address", "no_version": "language"}


def _broadcast(request: HttpRequest, pk: int) -> Broadcast:
    return get_for_org_or_404(
        Broadcast.objects.select_related("segment", "organization", "requested_by"),
        request.organization,  # type: ignore[attr-defined]
        pk=pk,
    )


def _posted(request: HttpRequest) -> Any:
    """The form's data on a POST, even an empty one (which must fail validation, not skip it)."""
    return request.POST if request.method == "POST" else None


def _language(language: str) -> str:
    if language not in language_names():
        raise Http404
    return language


def _to_detail(broadcast: Broadcast) -> HttpResponse:
    return redirect("messaging_broadcast_detail", slug=broadcast.organization.slug, pk=broadcast.pk)


def _to_progress(broadcast: Broadcast) -> HttpResponse:
    return redirect(
        "messaging_broadcast_progress", slug=broadcast.organization.slug, pk=broadcast.pk
    )


def htmx_navigates(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside organization_view: an htmx fragment the member may no longer see moves the page.

    The browser follows a redirect (to sign in again, to set up two-factor
    authentication) by itself, and htmx would swap the page it lands on into
    the fragment. Instead, signed out or refused, the whole page reloads and
    shows why; redirected while signed in, the page goes where it was sent.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.headers.get("HX-Request"):
            return view(request, *args, **kwargs)
        try:
            response = view(request, *args, **kwargs)
        except (PermissionDenied, Http404):
            return HttpResponse(headers={"HX-Refresh": "true"})
        if not response.has_header("Location"):
            return response
        if not request.user.is_authenticated:  # back here once signed in
            return HttpResponse(headers={"HX-Refresh": "true"})
        return HttpResponse(headers={"HX-Redirect": response["Location"]})

    return wrapper


# --- reads shared by the pages ---------------------------------------------------


def language_counts(broadcast: Broadcast) -> tuple[int, list[tuple[str, int]]]:
    """Who would receive it now, in total and by their preferred language (one query)."""
    rows = (
        broadcasts.audience(broadcast)
        .order_by()
        .values("language")
        .annotate(n=Count("id"))
        .order_by("-n", "language")
    )
    names = language_names()
    pairs = [
        (names.get(row["language"]) or row["language"] or _("Not known"), row["n"]) for row in rows
    ]
    return sum(n for _name, n in pairs), pairs


def version_counts(broadcast: Broadcast) -> list[tuple[str, int]]:
    """How many receive each written version (the fallback takes the rest)."""
    names = language_names()
    counts = broadcasts.audience_by_language(broadcast)
    return [(names.get(code, code), n) for code, n in sorted(counts.items())]


def sample_values(language: str, organization: Any, *, empty: bool = False) -> dict[str, str]:
    """What a preview fills the merge fields with: a sample person, or one without a name."""
    values = {"organization": organization.name, "unsubscribe_url": "#", "preferences_url": "#"}
    if empty:
        return values
    with translation.override(language):
        given = pgettext("sample person in a preview", "Rania")
        family = pgettext("sample person in a preview", "Haddad")
        values.update(
            given_name=given,
            family_name=family,
            full_name=f"{given} {family}",
            locality=pgettext("sample person in a preview", "Beirut"),
        )
    return values


def compile_version(broadcast: Broadcast, version: BroadcastVersion) -> rendering.Compiled:
    if broadcast.channel == Channel.EMAIL:
        return rendering.compile_email(
            language=version.language,
            subject=version.subject,
            body=version.body,
            organization_name=broadcast.organization.name,
        )
    return rendering.compile_sms(language=version.language, body=version.body)


def sms_parts_of(broadcast: Broadcast, version: BroadcastVersion) -> int:
    """Parts of the SMS with the sample person's name (names change the length a little)."""
    values = sample_values(version.language, broadcast.organization)
    return rendering.sms_parts(compile_version(broadcast, version).fill(values)[1])


def is_bidi(language: str) -> bool:
    return bool(get_language_info(language)["bidi"])


def audience_label(broadcast: Broadcast) -> str:
    if broadcast.segment is not None:
        return broadcast.segment.name
    if broadcast.definition and broadcast.status != BroadcastStatus.DRAFT:
        return _("A segment deleted since")
    return _("Everyone who agreed")


# --- the list ---------------------------------------------------------------------


def _page_id(value: str | None) -> int | None:
    return int(value) if value and is_row_id(value) else None


@organization_view(SEND)
@require_GET
def broadcast_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    after, before = _page_id(request.GET.get("after")), _page_id(request.GET.get("before"))
    # The people list's keyset paging, newest first by id, works for any rows.
    found, older, newer = keyset_page(
        Broadcast.objects.for_org(organization).select_related("segment"),
        after=after,
        before=before,
        size=PAGE_SIZE,
    )
    rows = cast(list[Broadcast], found)
    for row in rows:
        row.audience_label = audience_label(row)  # type: ignore[attr-defined]
    context = {
        "broadcasts": rows,
        "older": older,
        "newer": newer,
        "paged": bool(after or before),
        "can_configure": request.membership.can(Permission.MANAGE_ORGANIZATION),  # type: ignore[attr-defined]
    }
    return render(request, "messaging/broadcasts/list.html", context)


# --- new and edit -------------------------------------------------------------------


def _audience_context(organization: Any, form: BroadcastForm | AudienceForm) -> dict[str, Any]:
    """The count beside the form: of what is typed when valid, else of the initial choices."""
    fields = {"channel": Channel.EMAIL, "segment": None, "purpose": DEFAULT_PURPOSE}
    if form.is_bound:
        if not form.is_valid() and any(name in form.errors for name in fields):
            return {"invalid": True}
        fields.update({name: form.cleaned_data[name] for name in fields})
    else:
        fields.update({name: form[name].value() or fields[name] for name in fields})
        segment_id = fields["segment"]
        fields["segment"] = (
            form.fields["segment"].queryset.filter(pk=segment_id).first() if segment_id else None  # type: ignore[attr-defined]
        )
    draft = Broadcast(organization=organization, **fields)
    total, by_language = language_counts(draft)
    return {"total": total, "by_language": by_language, "channel": fields["channel"]}


def _render_form(
    request: HttpRequest, form: BroadcastForm, broadcast: Broadcast | None, status: int = 200
) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    context = {
        "form": form,
        "broadcast": broadcast,
        "audience": _audience_context(organization, form),
    }
    return render(request, "messaging/broadcasts/form.html", context, status=status)


def _edit(request: HttpRequest, broadcast: Broadcast | None) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = BroadcastForm(_posted(request), organization=organization, broadcast=broadcast)
    if broadcast is None and is_row_id(request.GET.get("segment", "")):
        # "Write to the attendees" of an event arrives with its segment chosen.
        form.initial["segment"] = int(request.GET["segment"])
    if request.method != "POST":
        return _render_form(request, form, broadcast)
    valid = form.is_valid()
    if "count" in request.POST:  # without JavaScript: the count of what is chosen
        form.errors.pop("name", None)  # a count needs no name yet
        return _render_form(request, form, broadcast, status=400 if form.errors else 200)
    if not valid:
        return _render_form(request, form, broadcast, status=400)
    data = form.data_for_service()
    if broadcast is None:
        broadcast = broadcasts.create_broadcast(
            actor=request.user, organization=organization, data=data
        )
        messages.success(request, _("Broadcast created. Now write its message."))
    else:
        broadcasts.update_broadcast(actor=request.user, broadcast=broadcast, data=data)
        messages.success(request, _("Broadcast saved."))
    return _to_detail(broadcast)


@organization_view(SEND)
def broadcast_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@organization_view(SEND)
def broadcast_edit(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    if not broadcast.is_editable:
        messages.info(request, _("This broadcast is no longer a draft and cannot be changed."))
        return _to_progress(broadcast)
    return _edit(request, broadcast)


@htmx_navigates
@organization_view(SEND)
@require_GET
def audience_count(request: HttpRequest) -> HttpResponse:
    """The count beside the broadcast form as its choices change (htmx): a fragment."""
    organization = request.organization  # type: ignore[attr-defined]
    form = AudienceForm(request.GET, organization=organization)
    context = {"audience": _audience_context(organization, form)}
    return render(request, "messaging/broadcasts/audience.html", context)


# --- the draft's page, its versions and preview -----------------------------------------


def _versions(broadcast: Broadcast) -> list[dict[str, Any]]:
    written = {v.language: v for v in broadcast.versions.all()}
    rows = []
    for code, name in settings.LANGUAGES:
        version = written.get(code)
        rows.append(
            {
                "code": code,
                "name": name,
                "version": version,
                "is_fallback": code == broadcast.fallback_language,
                "parts": sms_parts_of(broadcast, version)
                if version and broadcast.channel == Channel.SMS
                else None,
            }
        )
    return rows


@organization_view(SEND)
@require_GET
def broadcast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    if not broadcast.is_editable:
        return _to_progress(broadcast)
    total, by_language = language_counts(broadcast)
    versions = _versions(broadcast)
    context = {
        "broadcast": broadcast,
        "audience_label": audience_label(broadcast),
        "purpose": purpose_label(broadcast.purpose),
        "fallback_name": language_names().get(broadcast.fallback_language),
        "versions": versions,
        "has_versions": any(row["version"] for row in versions),
        "total": total,
        "by_language": by_language,
        "by_version": version_counts(broadcast),
        "problems": broadcasts.problems(broadcast),
    }
    return render(request, "messaging/broadcasts/detail.html", context)


def _merge_fields() -> list[tuple[str, Any]]:
    """The merge fields as an organizer types them, with their names."""
    return [(f"{{{{ {name} }}}}", label) for name, label in rendering.MERGE_FIELDS.items()]


@organization_view(SEND)
def version_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    language = _language(language)
    if not broadcast.is_editable and request.method != "POST":
        slug = broadcast.organization.slug
        return redirect("messaging_broadcast_preview", slug=slug, pk=pk, language=language)
    version = broadcast.versions.filter(language=language).first()
    initial = {"subject": version.subject, "body": version.body} if version else {}
    form = VersionForm(
        _posted(request),
        initial=initial,
        channel=broadcast.channel,
        language=language,
        bidi=is_bidi(language),
    )
    if request.method == "POST" and form.is_valid():
        broadcasts.save_version(
            actor=request.user,
            broadcast=broadcast,
            language=language,
            subject=form.cleaned_data.get("subject", ""),
            body=form.cleaned_data["body"],
        )
        messages.success(request, _("Version saved."))
        return redirect(
            "messaging_version_edit", slug=broadcast.organization.slug, pk=pk, language=language
        )
    context = {
        "broadcast": broadcast,
        "form": form,
        "language": language,
        "language_name": language_names()[language],
        "version": version,
        "parts": sms_parts_of(broadcast, version)
        if version and broadcast.channel == Channel.SMS
        else None,
        "merge_fields": _merge_fields(),
        "merge_word": (word := pgettext("what a merge field shows when empty", "friend")),
        "merge_example": f"{{{{ given_name | {word} }}}}",
        "bidi": is_bidi(language),
        "others": [(code, name) for code, name in settings.LANGUAGES if code != language],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/broadcasts/version_form.html", context, status=status)


@organization_view(SEND)
@require_POST
def version_delete(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    language = _language(language)
    broadcasts.delete_version(actor=request.user, broadcast=broadcast, language=language)
    messages.success(
        request,
        _("The %(language)s version is deleted.") % {"language": language_names()[language]},
    )
    return _to_detail(broadcast)


@organization_view(SEND)
@require_GET
def broadcast_preview(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The message as a recipient sees it, with a sample person, rendered by the server."""
    broadcast = _broadcast(request, pk)
    language = _language(language)
    written = {v.language: v for v in broadcast.versions.all()}
    version = written.get(language)
    empty = request.GET.get("sample") == "empty"
    context: dict[str, Any] = {
        "broadcast": broadcast,
        "language": language,
        "language_name": language_names()[language],
        "written": [(code, name) for code, name in settings.LANGUAGES if code in written],
        "version": version,
        "empty": empty,
        "fallback_name": language_names().get(broadcast.fallback_language),
    }
    if version is not None:
        subject, text, html = compile_version(broadcast, version).fill(
            sample_values(language, broadcast.organization, empty=empty)
        )
        context.update(subject=subject, text=text, html=html, rtl=is_bidi(language))
        if broadcast.channel == Channel.SMS:
            context["parts"] = rendering.sms_parts(text)
    return render(request, "messaging/broadcasts/preview.html", context)


# --- test and send ----------------------------------------------------------------------


def _test_sends_key(request: HttpRequest) -> str:
    organization = request.organization  # type: ignore[attr-defined]
    return f"saha:test-sends:{organization.pk}:{request.user.pk}"


def _take_test_send(request: HttpRequest) -> bool:
    """Count a test send of this member; False past the hour's limit (counted from the first)."""
    key = _test_sends_key(request)
    cache.add(key, 0, timeout=3600)
    try:
        return int(cache.incr(key)) <= TEST_SENDS_PER_HOUR
    except ValueError:  # the hour ran out between the two calls
        cache.add(key, 1, timeout=3600)
        return True


def _send_test(
    request: HttpRequest, broadcast: Broadcast, form: SendTestForm
) -> HttpResponse | None:
    """Queue the test and say so; None, with the form's errors, when it is refused."""
    if not _take_test_send(request):
        message = _("You sent many tests in the last hour. Wait a while before the next one.")
        form.add_error(None, ValidationError(message, code="too_many_tests"))
        return None
    try:
        address = testsend.request_test_send(
            actor=request.user,
            broadcast=broadcast,
            language=form.cleaned_data["language"],
            address=form.cleaned_data["address"],
        )
    except DomainError as error:
        with suppress(ValueError):  # nothing was sent: it does not count
            cache.decr(_test_sends_key(request))
        if error.code not in TEST_SEND_FIELDS:
            raise  # cancelled meanwhile: the error page, with its status
        form.add_error(
            TEST_SEND_FIELDS[error.code], ValidationError(error.message, code=error.code)
        )
        return None
    shown = getattr(address, "number", address)
    messages.success(request, _("Test sent to %(address)s.") % {"address": shown})
    return _to_detail(broadcast) if broadcast.is_editable else _to_progress(broadcast)


@organization_view(SEND)
def broadcast_test(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    if broadcast.status == BroadcastStatus.CANCELLED:
        raise Conflict("cancelled", _("This broadcast is cancelled: it can no longer be tested."))
    languages = list(broadcast.versions.values_list("language", flat=True))
    email = broadcast.channel == Channel.EMAIL
    form = SendTestForm(
        _posted(request),
        broadcast=broadcast,
        languages=languages,
        initial={
            "address": request.user.email if email else "",  # type: ignore[union-attr]
            "language": broadcast.fallback_language,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid() and (sent := _send_test(request, broadcast, form)):
            return sent
        status = 429 if form.has_error(NON_FIELD_ERRORS, "too_many_tests") else 400
    context = {"broadcast": broadcast, "form": form, "has_versions": bool(languages)}
    return render(request, "messaging/broadcasts/test_send.html", context, status=status)


def _send_summary(broadcast: Broadcast) -> dict[str, Any]:
    total, _by_language = language_counts(broadcast)
    return {
        "total": total,
        "by_version": version_counts(broadcast),
        "problems": broadcasts.problems(broadcast),
        "requires_approval": messaging_settings(broadcast.organization).broadcast_requires_approval,
        "audience_label": audience_label(broadcast),
    }


@organization_view(SEND)
def broadcast_send(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    if not broadcast.is_editable:  # already on its way: a second click, or a stale page
        return _to_progress(broadcast)
    form = SendForm(_posted(request), organization=broadcast.organization)
    if request.method == "POST" and form.is_valid():
        try:
            broadcasts.request_send(
                actor=request.user, broadcast=broadcast, when=form.cleaned_data["send_at"]
            )
        except DomainError as error:
            form.add_error(None, ValidationError(error.message, code=error.code))
        else:
            _announce(request, broadcast)
            return _to_progress(broadcast)
    context = {"broadcast": broadcast, "form": form, **_send_summary(broadcast)}
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/broadcasts/send.html", context, status=status)


def _announce(request: HttpRequest, broadcast: Broadcast) -> None:
    if broadcast.status == BroadcastStatus.AWAITING_APPROVAL:
        messages.info(request, _("Another owner or admin must now approve this broadcast."))
    elif broadcast.status == BroadcastStatus.SCHEDULED:
        messages.success(request, _("The broadcast is scheduled."))
    elif broadcast.status != BroadcastStatus.DRAFT:
        messages.success(request, _("The broadcast is going out."))


# --- after sending: progress and its buttons ------------------------------------------------


def _progress_context(request: HttpRequest, broadcast: Broadcast) -> dict[str, Any]:
    progress = broadcasts.progress(broadcast)
    counts = progress.counts
    membership = request.membership  # type: ignore[attr-defined]
    return {
        "broadcast": broadcast,
        "progress": progress,
        "percent": 100 if broadcast.status == BroadcastStatus.SENT else progress.percent,
        "waiting": counts["queued"] + counts["claimed"] + counts["sending"],
        "counts": counts,
        "polling": broadcast.status not in FINAL and broadcast.status != BroadcastStatus.DRAFT,
        # Waiting for a person or a date changes seldom: ask less often then.
        "poll_every": "30s" if broadcast.status in WAITING else "2s",
        "can_approve": membership.role in (Role.OWNER, Role.ADMIN)
        and broadcast.requested_by_id != request.user.pk,
        "approval": _approval(broadcast),
    }


def _approval(broadcast: Broadcast) -> dict[str, Any] | None:
    """What an approver approves: the audience copied when approval was asked, and its name then."""
    if broadcast.status != BroadcastStatus.AWAITING_APPROVAL:
        return None
    asked = (
        AuditEntry.objects.for_org(broadcast.organization)
        .filter(
            action="messaging.broadcast.approval_requested",
            target_type=Broadcast._meta.label_lower,
            target_id=str(broadcast.pk),
        )
        .order_by("-id")
        .values_list("data", flat=True)
        .first()
    )
    name = (asked or {}).get("segment")
    if name is None:
        name = audience_label(broadcast)
    return {
        "total": broadcasts.audience(broadcast, broadcast.definition).count(),
        "audience_label": name or _("Everyone who agreed"),
    }


@htmx_navigates
@organization_view(SEND)
@require_GET
def broadcast_progress(request: HttpRequest, pk: int) -> HttpResponse:
    broadcast = _broadcast(request, pk)
    context = _progress_context(request, broadcast)
    if request.headers.get("HX-Request"):
        return render(request, "messaging/broadcasts/progress_panel.html", context)
    if broadcast.is_editable:
        return _to_detail(broadcast)
    written = {v.language for v in broadcast.versions.all()}
    approval = context["approval"]
    context.update(
        audience_label=approval["audience_label"] if approval else audience_label(broadcast),
        purpose=purpose_label(broadcast.purpose),
        written=[(code, name) for code, name in settings.LANGUAGES if code in written],
    )
    return render(request, "messaging/broadcasts/progress.html", context)


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    """A button of the progress page: act once, say so only if something changed."""
    broadcast = _broadcast(request, pk)
    before = broadcast.status
    action(actor=request.user, broadcast=broadcast)
    if broadcast.status != before:
        messages.success(request, done)
    return _to_detail(broadcast) if broadcast.is_editable else _to_progress(broadcast)


@organization_view(SEND)
@require_POST
def broadcast_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, broadcasts.approve, _("Approved: the broadcast is on its way."))


@organization_view(SEND)
@require_POST
def broadcast_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, broadcasts.return_to_draft, _("The broadcast is a draft again."))


@organization_view(SEND)
@require_POST
def broadcast_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, broadcasts.pause, _("Paused. Nothing more goes out until you resume."))


@organization_view(SEND)
@require_POST
def broadcast_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, broadcasts.resume, _("Resumed."))


@organization_view(SEND)
def broadcast_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stopping is for good: a page of its own with a box to tick, no JavaScript needed."""
    broadcast = _broadcast(request, pk)
    if broadcast.status in FINAL:
        return _to_progress(broadcast)
    form = CancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        broadcasts.cancel(actor=request.user, broadcast=broadcast)
        messages.success(request, _("The broadcast is cancelled."))
        return _to_progress(broadcast)
    context = {"broadcast": broadcast, "form": form, "progress": broadcasts.progress(broadcast)}
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/broadcasts/cancel.html", context, status=status)


ONE = PREFIX + "<int:pk>/"

urlpatterns = [
    path(PREFIX, broadcast_list, name="messaging_broadcast_list"),
    path(PREFIX + "new/", broadcast_new, name="messaging_broadcast_new"),
    path(PREFIX + "audience/", audience_count, name="messaging_audience_count"),
    path(ONE, broadcast_detail, name="messaging_broadcast_detail"),
    path(ONE + "edit/", broadcast_edit, name="messaging_broadcast_edit"),
    path(ONE + "versions/<slug:language>/", version_edit, name="messaging_version_edit"),
    path(ONE + "versions/<slug:language>/delete/", version_delete, name="messaging_version_delete"),
    path(ONE + "preview/<slug:language>/", broadcast_preview, name="messaging_broadcast_preview"),
    path(ONE + "test/", broadcast_test, name="messaging_broadcast_test"),
    path(ONE + "send/", broadcast_send, name="messaging_broadcast_send"),
    path(ONE + "progress/", broadcast_progress, name="messaging_broadcast_progress"),
    path(ONE + "approve/", broadcast_approve, name="messaging_broadcast_approve"),
    path(ONE + "return/", broadcast_return, name="messaging_broadcast_return"),
    path(ONE + "pause/", broadcast_pause, name="messaging_broadcast_pause"),
    path(ONE + "resume/", broadcast_resume, name="messaging_broadcast_resume"),
    path(ONE + "cancel/", broadcast_cancel, name="messaging_broadcast_cancel"),
]
