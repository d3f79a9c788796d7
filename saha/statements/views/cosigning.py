"""Answering other organizations: the statements this organization is asked to co-sign,
each readable in full before answering, accepted or declined by an admin; and those
it co-signs, whose name it may take back.

An organization sees another's statement here only once asked about it (a
draft included: it is asked to read and sign it); any other statement is 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.core.errors import DomainError
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.statements import queries, services
from saha.statements.models import StatementStatus
from saha.statements.rendering import body_html, date_line, direction, known_languages, own_name

ADMIN = Permission.MANAGE_ORGANIZATION
PREFIX = "manage/<slug:slug>/statements/co-signing/"


def _to_list(request: HttpRequest) -> HttpResponse:
    return redirect("statements:co_signing_list", request.organization.slug)  # type: ignore[attr-defined]


@organization_view(ADMIN)
@require_GET
def invitation_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    context = {
        "invitations": [
            (link, link.statement.version_for()) for link in queries.invitations_for(organization)
        ],
        "co_signed": [
            (link, link.statement.version_for()) for link in queries.co_signed_by(organization)
        ],
    }
    return render(request, "statements/manage/co_signing_list.html", context)


@organization_view(ADMIN)
@require_GET
def invitation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole text, every version, as it would be signed."""
    link = queries.asked(request.organization, pk)  # type: ignore[attr-defined]
    statement = link.statement
    order = known_languages()
    versions = sorted(
        statement.versions.all(),
        key=lambda v: order.index(v.language) if v.language in order else len(order),
    )
    texts = [
        {
            "version": version,
            "name": own_name(version.language),
            "dir": direction(version.language),
            "date_line": date_line(statement, version),
            "body": body_html(version.body),
        }
        for version in versions
    ]
    context = {
        "link": link,
        "statement": statement,
        "texts": texts,
        "answerable": statement.status != StatementStatus.WITHDRAWN,
    }
    return render(request, "statements/manage/co_signing_detail.html", context)


@organization_view(ADMIN)
@require_POST
def invitation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    link = queries.asked(organization, pk)
    try:
        accepted = services.accept_co_signing(
            actor=request.user, statement=link.statement, co_signer=organization
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _to_list(request)
    if accepted:
        messages.success(request, _("You co-sign this statement: your name is on it."))
    return _to_list(request)


@organization_view(ADMIN)
@require_POST
def invitation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline, or take the organization's name back from a statement it co-signed."""
    organization = request.organization  # type: ignore[attr-defined]
    link = queries.asked(organization, pk)
    try:
        services.remove_co_signer(
            actor=request.user, statement=link.statement, co_signer=organization
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _to_list(request)
    messages.success(request, _("Your organization is not named on this statement."))
    return _to_list(request)


urlpatterns = [
    path(PREFIX, invitation_list, name="co_signing_list"),
    path(f"{PREFIX}<int:pk>/", invitation_detail, name="co_signing"),
    path(f"{PREFIX}<int:pk>/accept/", invitation_accept, name="co_signing_accept"),
    path(f"{PREFIX}<int:pk>/decline/", invitation_decline, name="co_signing_decline"),
]
