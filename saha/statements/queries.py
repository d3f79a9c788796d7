"""What the pages read: the public statements of an organization, one statement with
its versions and accepted co-signers, the organizer's lists, and the invitations an
organization received to co-sign."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from saha.core.tenancy import is_row_id
from saha.organizations.models import Organization
from saha.statements.models import CoSigner, Statement, StatementStatus, StatementVersion


def public_statements(organization: Organization) -> QuerySet[Statement]:
    """Published and withdrawn, the newest first, each with its versions (one query)."""
    return (
        Statement.objects.public()
        .filter(organization=organization)
        .select_related("organization")
        .prefetch_related("versions")
        .order_by("-dated", "-published_at", "-pk")
    )


def public_statement(slug: str, statement: str) -> Statement:
    """A published or withdrawn statement; a draft or a scheduled one does not exist here."""
    return get_object_or_404(
        Statement.objects.public().select_related("organization").prefetch_related("versions"),
        organization__slug=slug,
        slug=statement,
    )


def accepted_co_signers(statement: Statement) -> list[Organization]:
    links = (
        CoSigner.objects.filter(statement=statement, accepted_at__isnull=False)
        .select_related("co_signer")
        .order_by("accepted_at", "pk")
    )
    return [link.co_signer for link in links]


def co_signers_of(statement: Statement) -> list[CoSigner]:
    """Accepted and still asked, for the host's page."""
    return list(
        CoSigner.objects.filter(statement=statement)
        .select_related("co_signer")
        .order_by("invited_at", "pk")
    )


def manage_statements(organization: Organization, status: str) -> QuerySet[Statement]:
    found = (
        Statement.objects.for_org(organization)
        .filter(status=status)
        .prefetch_related("versions")
        .annotate(
            co_signed=Count("co_signer_links", filter=Q(co_signer_links__accepted_at__isnull=False))
        )
    )
    if status == StatementStatus.SCHEDULED:
        return found.order_by("publish_at", "pk")
    if status == StatementStatus.DRAFT:
        return found.order_by("-modified_at", "-pk")
    return found.order_by("-dated", "-published_at", "-pk")


def status_counts(organization: Organization) -> dict[str, int]:
    rows = (
        Statement.objects.for_org(organization)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    counts = dict.fromkeys(StatementStatus.values, 0)
    counts.update(dict(rows))
    return counts


def _asked_links(organization: Organization) -> QuerySet[CoSigner]:
    return (
        CoSigner.objects.filter(co_signer=organization)
        .select_related("statement__organization")
        .prefetch_related(Prefetch("statement__versions", queryset=StatementVersion.objects.all()))
    )


def invitations_for(organization: Organization) -> list[CoSigner]:
    """Other organizations' statements it is asked to co-sign and has not answered yet."""
    return list(
        _asked_links(organization)
        .filter(accepted_at__isnull=True)
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .order_by("-invited_at", "-pk")[:100]
    )


def co_signed_by(organization: Organization) -> list[CoSigner]:
    """The statements it co-signs, the newest first."""
    return list(
        _asked_links(organization)
        .filter(accepted_at__isnull=False)
        .order_by("-statement__dated", "-pk")[:100]
    )


def pending_invitations(organization: Organization) -> int:
    return (
        CoSigner.objects.filter(co_signer=organization, accepted_at__isnull=True)
        .exclude(statement__status=StatementStatus.WITHDRAWN)
        .count()
    )


def asked(organization: Organization, pk: Any) -> CoSigner:
    """The link by which another organization asked this one to co-sign statement `pk`
    (answered or not); 404 for any statement it was not asked about."""
    if not is_row_id(pk):
        raise Http404
    link = _asked_links(organization).filter(statement_id=pk).first()
    if link is None:
        raise Http404
    return link
