"""The organizer's statement pages: the list by status, writing a statement and each of
its language versions, the date line, previews, scheduling, publishing, withdrawing,
and asking other organizations to co-sign.

Every page needs content.manage: a statement is the organization's voice, and a
draft may not be shown to every member. Answering another organization's
request to co-sign is in `cosigning.py` (it needs organization.manage).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.core.errors import DomainError
from saha.core.slugs import create_with_free_slug
from saha.core.tenancy import get_for_org_or_404
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission
from saha.statements import queries, services
from saha.statements.manage_forms import (
    AddVersionForm,
    CoSignerForm,
    DateLineForm,
    NewStatementForm,
    ScheduleForm,
    VersionForm,
    WithdrawForm,
)
from saha.statements.models import CoSigner, Statement, StatementStatus, StatementVersion
from saha.statements.rendering import date_line, direction, known_languages, own_name
from saha.statements.views.public import page_context, print_page

PREFIX = "manage/<slug:slug>/statements/"
CONTENT = Permission.MANAGE_CONTENT
STATEMENTS_PAGE = 50
TABS = (
    StatementStatus.DRAFT,
    StatementStatus.SCHEDULED,
    StatementStatus.PUBLISHED,
    StatementStatus.WITHDRAWN,
)


def statement_of(request: HttpRequest, pk: Any) -> Statement:
    """One of this organization's statements, else 404 (never saying which exists)."""
    organization = request.organization  # type: ignore[attr-defined]
    found = Statement.objects.select_related("organization").prefetch_related("versions")
    return get_for_org_or_404(found, organization, pk=pk)


def to_statement(statement: Statement) -> HttpResponse:
    return redirect("statements:manage_statement", statement.organization.slug, statement.pk)


def _version(statement: Statement, language: str) -> StatementVersion | None:
    return next((v for v in statement.versions.all() if v.language == language), None)


def _order(language: str) -> int:
    codes = known_languages()
    return codes.index(language) if language in codes else len(codes)


def _refused(request: HttpRequest, statement: Statement, error: DomainError) -> HttpResponse:
    messages.error(request, error.message)
    return to_statement(statement)


# --- The list and one statement -------------------------------------------------------


@organization_view(CONTENT)
@require_GET
def statement_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    status = request.GET.get("status", "")
    counts = queries.status_counts(organization)
    if status not in TABS:
        status = next((tab for tab in TABS if counts[tab]), StatementStatus.DRAFT)
    statements = queries.manage_statements(organization, status)
    # Statements are few (dozens a year): numbered pages are cheap here.
    page_obj = Paginator(statements, STATEMENTS_PAGE).get_page(request.GET.get("page"))
    rows = [(s, s.version_for(), sorted(v.language for v in s.versions.all())) for s in page_obj]
    context = {
        "rows": rows,
        "status": status,
        "tabs": [(tab, StatementStatus(tab).label, counts[tab]) for tab in TABS],
        "page_obj": page_obj,
        "invitations": queries.pending_invitations(organization)
        if request.membership.can(Permission.MANAGE_ORGANIZATION)  # type: ignore[attr-defined]
        else 0,
    }
    return render(request, "statements/manage/list.html", context)


@organization_view(CONTENT)
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    return _detail_page(request, statement)


def _detail_page(
    request: HttpRequest,
    statement: Statement,
    *,
    schedule_form: ScheduleForm | None = None,
    co_signer_form: CoSignerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = statement.organization
    co_signers = queries.co_signers_of(statement)
    versions = [
        {
            "version": v,
            "name": own_name(v.language),
            "dir": direction(v.language),
            "date_line": date_line(statement, v),
        }
        for v in sorted(statement.versions.all(), key=lambda v: _order(v.language))
    ]
    context = {
        "statement": statement,
        "title": statement.version_for(),
        "versions": versions,
        "add_version_form": AddVersionForm(statement=statement),
        "schedule_form": schedule_form or ScheduleForm(time_zone=organization.time_zone),
        "co_signer_form": co_signer_form or CoSignerForm(statement=statement),
        "co_signers": co_signers,
        "co_signed": sum(1 for link in co_signers if link.accepted_at),
        "editable": statement.status != StatementStatus.WITHDRAWN,
    }
    return render(request, "statements/manage/detail.html", context, status=status)


# --- Writing --------------------------------------------------------------------------


@organization_view(CONTENT)
def statement_new(request: HttpRequest) -> HttpResponse:
    """First the language it is written in (links, no script), then its form in that
    language's direction."""
    organization: Organization = request.organization  # type: ignore[attr-defined]
    language = request.GET.get("language", "")
    if language not in known_languages():
        status = 400 if language or request.method == "POST" else 200
        context = {"languages": [(c, own_name(c)) for c in known_languages()], "bad": status}
        return render(request, "statements/manage/new.html", context, status=status)
    data = request.POST if request.method == "POST" else None
    form = NewStatementForm(data, language=language, initial={"dated": timezone.localdate()})
    if request.method != "POST":
        return _version_form_page(request, form, None)
    if not form.is_valid():
        return _version_form_page(request, form, None, status=400)
    text = form.text()
    try:
        statement = create_with_free_slug(
            Statement.objects.for_org(organization),
            {language: text.title},
            f"statement-{form.cleaned_data['dated']:%Y-%m-%d}",
            lambda slug: services.create_statement(
                actor=request.user,
                organization=organization,
                slug=slug,
                versions={language: text},
                dated=form.cleaned_data["dated"],
            ),
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _version_form_page(request, form, None, status=error.status)
    messages.success(request, _("Statement saved as a draft. Add other languages, then publish."))
    return to_statement(statement)


def _version_form_page(
    request: HttpRequest, form: VersionForm, statement: Statement | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "statement": statement,
        "language": form.language,
        "language_name": own_name(form.language),
        "existing": statement is not None and _version(statement, form.language) is not None,
        "co_signed": _accepted(statement) if statement is not None else 0,
    }
    return render(request, "statements/manage/version_form.html", context, status=status)


def _accepted(statement: Statement) -> int:
    return CoSigner.objects.filter(statement=statement, accepted_at__isnull=False).count()


def _asked_again(request: HttpRequest, before: int, statement: Statement) -> None:
    if before and not _accepted(statement):
        messages.warning(
            request, _("The text changed: the co-signers are asked to confirm it again.")
        )


@organization_view(CONTENT)
def version_edit(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """Write a version: change the one in `language`, or add it."""
    statement = statement_of(request, pk)
    if language not in known_languages():
        raise Http404
    if statement.status == StatementStatus.WITHDRAWN:
        messages.info(request, _("A withdrawn statement cannot be changed."))
        return to_statement(statement)
    version = _version(statement, language)
    data = request.POST if request.method == "POST" else None
    form = VersionForm(data, language=language, initial=VersionForm.initial_for(version))
    if request.method != "POST":
        return _version_form_page(request, form, statement)
    if not form.is_valid():
        return _version_form_page(request, form, statement, status=400)
    before = _accepted(statement)
    try:
        services.save_version(
            actor=request.user, statement=statement, language=language, text=form.text()
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _version_form_page(request, form, statement, status=error.status)
    messages.success(
        request, _("The %(language)s version is saved.") % {"language": own_name(language)}
    )
    _asked_again(request, before, statement)
    return to_statement(statement)


@organization_view(CONTENT)
@require_GET
def version_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Which language to add (a GET form): then that language's version form."""
    statement = statement_of(request, pk)
    form = AddVersionForm(request.GET or None, statement=statement)
    if form.is_valid():
        language = form.cleaned_data["language"]
        return redirect("statements:manage_version", statement.organization.slug, pk, language)
    status = 400 if request.GET else 200
    context = {"statement": statement, "form": form}
    return render(request, "statements/manage/version_add.html", context, status=status)


@organization_view(CONTENT)
@require_POST
def version_remove(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    statement = statement_of(request, pk)
    before = _accepted(statement)
    try:
        removed = services.remove_version(
            actor=request.user, statement=statement, language=language
        )
    except DomainError as error:
        return _refused(request, statement, error)
    if removed:
        messages.success(
            request, _("The %(language)s version is removed.") % {"language": own_name(language)}
        )
        _asked_again(request, before, statement)
    return to_statement(statement)


@organization_view(CONTENT)
def date_line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    if statement.status == StatementStatus.WITHDRAWN:
        messages.info(request, _("A withdrawn statement cannot be changed."))
        return to_statement(statement)
    posted = request.method == "POST"
    form = DateLineForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        statement=statement,
        initial=DateLineForm.initial_for(statement),
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_date_line(
                actor=request.user,
                statement=statement,
                dated=data["dated"],
                original_language=data["original_language"],
                issuing_bodies=form.per_version("issuing_body"),
                places=form.per_version("place"),
            )
            services.set_image(
                actor=request.user,
                statement=statement,
                image=data.get("image") or None,
                clear=data.get("clear_image", False),
            )
        except DomainError as error:
            return _refused(request, statement, error)
        messages.success(request, _("Date line saved."))
        return to_statement(statement)
    fields = [(form[f"issuing_body_{c}"], form[f"place_{c}"], own_name(c)) for c in form.languages]
    context = {"statement": statement, "form": form, "per_version": fields}
    status = 400 if posted else 200
    return render(request, "statements/manage/date_line.html", context, status=status)


# --- Seeing it as readers will --------------------------------------------------------


@organization_view(CONTENT)
@require_GET
def statement_preview(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The public page of any version, drafts included, for members only."""
    statement = statement_of(request, pk)
    version = _version(statement, language)
    if version is None:
        raise Http404
    if request.GET.get("print") == "1":
        return print_page(request, statement, version)
    slug = statement.organization.slug

    def preview_url(code: str) -> str:
        return reverse("statements:manage_preview", args=[slug, statement.pk, code])

    context = {**page_context(statement, version, preview_url), "preview": True}
    return render(request, "statements/public/statement.html", context)


# --- Publication ----------------------------------------------------------------------


@organization_view(CONTENT)
@require_POST
def statement_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    form = ScheduleForm(request.POST, time_zone=statement.organization.time_zone)
    if not form.is_valid():
        return _detail_page(request, statement, schedule_form=form, status=400)
    try:
        done = services.schedule(
            actor=request.user, statement=statement, publish_at=form.cleaned_data["publish_at"]
        )
    except DomainError as error:
        form.add_error("publish_at", error.message)
        return _detail_page(request, statement, schedule_form=form, status=error.status)
    if done:
        messages.success(request, _("Scheduled: it is published at the time set."))
    else:
        messages.info(request, _("Only a draft or a scheduled statement can be scheduled."))
    return to_statement(statement)


@organization_view(CONTENT)
@require_POST
def statement_unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    if services.unschedule(actor=request.user, statement=statement):
        messages.success(request, _("Back to a draft: it will not be published on its own."))
    return to_statement(statement)


@organization_view(CONTENT)
@require_POST
def statement_publish(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    if services.publish(actor=request.user, statement=statement):
        messages.success(request, _("Published: the statement is on its public page."))
    else:
        messages.info(request, _("Only a draft or a scheduled statement can be published."))
    return to_statement(statement)


@organization_view(CONTENT)
def statement_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (a page, not a script), with the note; the POST with confirm=1 withdraws."""
    statement = statement_of(request, pk)
    if statement.status != StatementStatus.PUBLISHED:
        messages.info(request, _("Only a published statement can be withdrawn."))
        return to_statement(statement)
    posted = request.method == "POST" and request.POST.get("confirm") == "1"
    form = WithdrawForm(request.POST if posted else None, statement=statement)
    if posted and form.is_valid():
        try:
            services.withdraw(actor=request.user, statement=statement, notes=form.notes())
        except DomainError as error:
            return _refused(request, statement, error)
        messages.success(request, _("Withdrawn: its page now says so, with your note."))
        return to_statement(statement)
    context = {"statement": statement, "title": statement.version_for(), "form": form}
    status = 400 if posted else 200
    return render(request, "statements/manage/withdraw.html", context, status=status)


@organization_view(CONTENT)
@require_POST
def statement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    if services.delete_draft(actor=request.user, statement=statement):
        messages.success(request, _("Draft deleted."))
        return redirect("statements:manage_list", statement.organization.slug)
    messages.info(
        request, _("Only a draft can be deleted; a published statement can be withdrawn.")
    )
    return to_statement(statement)


# --- Co-signers -----------------------------------------------------------------------


@organization_view(CONTENT)
@require_POST
def co_signer_add(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    form = CoSignerForm(request.POST, statement=statement)
    if not form.is_valid():
        return _detail_page(request, statement, co_signer_form=form, status=400)
    co_signer = form.cleaned_data["organization"]
    try:
        asked = services.invite_co_signer(
            actor=request.user, statement=statement, co_signer=co_signer
        )
    except DomainError as error:
        return _refused(request, statement, error)
    if asked:
        messages.success(
            request,
            _("%(name)s is asked to co-sign; it is named once one of its admins accepts.")
            % {"name": co_signer.name},
        )
    return to_statement(statement)


@organization_view(CONTENT)
@require_POST
def co_signer_remove(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statement_of(request, pk)
    wanted = request.POST.get("organization", "")
    link = next(
        (c for c in queries.co_signers_of(statement) if str(c.co_signer_id) == wanted), None
    )
    if link is not None:
        try:
            services.remove_co_signer(
                actor=request.user, statement=statement, co_signer=link.co_signer
            )
        except DomainError as error:
            return _refused(request, statement, error)
        messages.success(
            request, _("%(name)s is no longer a co-signer.") % {"name": link.co_signer.name}
        )
    return to_statement(statement)


_ONE = f"{PREFIX}<int:pk>/"

urlpatterns = [
    path(PREFIX, statement_list, name="manage_list"),
    path(f"{PREFIX}new/", statement_new, name="manage_new"),
    path(_ONE, statement_detail, name="manage_statement"),
    path(f"{_ONE}versions/", version_add, name="manage_version_add"),
    path(f"{_ONE}versions/<slug:language>/", version_edit, name="manage_version"),
    path(f"{_ONE}versions/<slug:language>/remove/", version_remove, name="manage_version_remove"),
    path(f"{_ONE}date-line/", date_line_edit, name="manage_date_line"),
    path(f"{_ONE}preview/<slug:language>/", statement_preview, name="manage_preview"),
    path(f"{_ONE}schedule/", statement_schedule, name="manage_schedule"),
    path(f"{_ONE}unschedule/", statement_unschedule, name="manage_unschedule"),
    path(f"{_ONE}publish/", statement_publish, name="manage_publish"),
    path(f"{_ONE}withdraw/", statement_withdraw, name="manage_withdraw"),
    path(f"{_ONE}delete/", statement_delete, name="manage_delete"),
    path(f"{_ONE}co-signers/", co_signer_add, name="manage_co_signer_add"),
    path(f"{_ONE}co-signers/remove/", co_signer_remove, name="manage_co_signer_remove"),
]
