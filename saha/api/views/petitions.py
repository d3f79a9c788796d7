"""Petitions and signatures: the collections, the items, and the record signature helper.

Through a token, a signature is the organization's own data: it goes straight
through `petitions.services.sign` (the signer found by email or created with
source "api", one signature per person and per mailbox, the counter, the
confirmation link), so the call can answer with the signature as Action
Network does; its `add_tags` (which needs tags:write too) are tagged as on the
organizer pages. Through the public helper (no token, where the organization
allows it) it is typed by a stranger and takes the public form's road: the
same abuse limits, one `PendingSignature` row (`intake.accept`), taken in by
the worker as an anonymous signature; the answer is always `200 {}`.

`POST /petitions` and `PUT /petitions/{id}` go through `petitions.organizer`
and `services.set_status`, as the organizer's pages do (the same checks,
address and audit rows); the body is read in `petition_input`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import re_path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, hal, public_rows
from saha.api.resources import event_input, person_input, petition_input
from saha.api.resources import petitions as resources
from saha.api.views.base import (
    BACKGROUND,
    LIST_PARAMETERS,
    PUBLIC_ACTOR,
    OsdiView,
    check_status_moved,
    operation,
    org_row,
    page,
    public_record,
    row_or_404,
    validated,
)
from saha.api.views.events import ID, not_allowed, request_language
from saha.core.errors import Conflict
from saha.core.slugs import create_with_free_slug
from saha.organizations.models import Organization
from saha.petitions import abuse, intake, organizer, services
from saha.petitions.models import Petition, PetitionStatus, Signature
from saha.supporters.models import Source
from saha.supporters.services import tag_people

log = logging.getLogger(__name__)


class PetitionList(OsdiView):
    resource = "petitions"

    @operation("petitions_list", "petitions", parameters=LIST_PARAMETERS)
    def get(self, request: Request) -> Response:
        return page(
            request,
            resources.petitions(Petition.objects.filter(organization=self.organization)),
            path="petitions",
            rel="petitions",
            render=resources.render_petition,
            fields=resources.PETITION_FILTERS,
        )

    @operation(
        "petitions_create",
        "petitions",
        answers=(200, 400),
        request=petition_input.PetitionInput,
        parameters=[BACKGROUND],
    )
    def post(self, request: Request) -> Response:
        language = request_language()
        return self.written(
            "petitions.create",
            create_petition,
            render_fresh_petition,
            check=lambda data: read_petition(data, self.organization, None, language),
            language=language,
        )


class PetitionDetail(OsdiView):
    resource = "petitions"

    @operation("petitions_retrieve", "petitions")
    def get(self, request: Request, petition_id: str) -> Response:
        petition = self.get_row(resources.petitions(Petition.objects.all()), petition_id)
        return Response(resources.render_petition(petition))

    @operation(
        "petitions_update",
        "petitions",
        answers=(200, 400, 409),
        request=petition_input.PetitionInput,
        parameters=[BACKGROUND],
    )
    def put(self, request: Request, petition_id: str) -> Response:
        petition = self.get_row(Petition.objects.select_related("organization"), petition_id)
        language = request_language()
        return self.written(
            "petitions.update",
            update_petition,
            render_fresh_petition,
            check=lambda data: read_petition(data, self.organization, petition, language),
            petition_id=str(petition.uuid),
            language=language,
        )


# --- Writing petitions (through petitions.organizer, as the organizer's pages) -------


def fresh_petition(petition: Petition) -> Petition:
    return resources.petitions(Petition.objects.filter(pk=petition.pk)).get()


def render_fresh_petition(petition: Petition) -> dict[str, Any]:
    return resources.render_petition(fresh_petition(petition))


def read_petition(
    data: Any, organization: Organization, petition: Petition | None, language: str
) -> petition_input.PetitionChange:
    """The body, checked against the petition (None: a new one), or a 400."""
    values = validated(petition_input.PetitionInput, data)
    with translation.override(language):
        return petition_input.petition_change(
            values, organization=organization, petition=petition, language=language
        )


@background.write("petitions.create")
def create_petition(
    *, organization: Organization, actor: str, data: Any, language: str
) -> Petition:
    """A new petition: a draft, opened at once when the body says "open"."""
    change = read_petition(data, organization, None, language)
    if change.status == PetitionStatus.CLOSED:
        raise event_input.invalid(
            "status", _("A new petition is a draft or open."), "invalid_status"
        )
    fields = change.fields
    with transaction.atomic():
        petition = create_with_free_slug(
            Petition.objects.for_org(organization),
            fields["titles"],
            f"petition-{timezone.now():%Y-%m-%d}",
            lambda slug: organizer.create(
                actor=actor, organization=organization, slug=slug, **fields
            ),
        )
        if change.status == PetitionStatus.OPEN:
            services.set_status(actor=actor, petition=petition, status=PetitionStatus.OPEN)
    return petition


@background.write("petitions.update")
def update_petition(
    *, organization: Organization, actor: str, data: Any, petition_id: str, language: str
) -> Petition:
    """Merge the body into the petition: only what differs is written; then the status."""
    petition = find_petition(organization, petition_id)
    change = read_petition(data, organization, petition, language)
    with transaction.atomic():
        if change.fields:
            organizer.update_petition(actor=actor, petition=petition, **change.fields)
        if change.status is not None:
            set_petition_status(actor, petition, change.status)
    return petition


def find_petition(organization: Organization, petition_id: str) -> Petition:
    return org_row(Petition.objects.select_related("organization"), organization, petition_id)


# Where each status can be reached from (services.set_status says the same).
STATUS_FROM: dict[str, tuple[str, ...]] = {
    PetitionStatus.OPEN: (PetitionStatus.DRAFT, PetitionStatus.CLOSED),
    PetitionStatus.CLOSED: (PetitionStatus.OPEN,),
}


def set_petition_status(actor: str, petition: Petition, wanted: str) -> None:
    """Open or close, as the organizer's buttons do; asking for the status the petition
    has changes nothing; anything else (closing a draft, back to draft) is a 409."""
    if petition.status == wanted:
        return
    if petition.status not in STATUS_FROM.get(wanted, ()):
        code = "not_open" if wanted == PetitionStatus.CLOSED else "already_published"
        raise Conflict(code, _("The petition's status does not allow this."))
    if not services.set_status(actor=actor, petition=petition, status=wanted):
        check_status_moved(petition, wanted, _("The petition's status changed meanwhile."))


# --- Signatures -------------------------------------------------------------------------


def signature_page(request: Request, queryset: QuerySet[Signature], path: str) -> Response:
    return page(
        request,
        resources.signatures(queryset),
        path=path,
        rel="signatures",
        render=resources.render_signature,
        fields=resources.SIGNATURE_FILTERS,
    )


class SignatureList(OsdiView):
    """GET: the petition's signatures. POST: the record signature helper."""

    resource = "petitions"
    public_helper = True

    @operation("petition_signatures_list", "signatures", parameters=LIST_PARAMETERS)
    def get(self, request: Request, petition_id: str) -> Response:
        petition = self.get_row(Petition.objects.all(), petition_id)
        path = f"{resources.petition_path(petition)}/signatures"
        return signature_page(request, Signature.objects.filter(petition=petition), path)

    @operation(
        "record_signature_helper",
        "signatures",
        request=resources.SignatureHelperInput,
        parameters=[BACKGROUND],
    )
    def post(self, request: Request, petition_id: str) -> Response:
        if request.auth is None:
            return public_signature(request, petition_id)
        petition = self.get_row(Petition.objects.all(), petition_id)
        self.check_tag_scope(request.data)
        return self.written(
            "petitions.signature",
            record_signature,
            resources.render_signature,
            check=lambda data: validated(resources.SignatureHelperInput, data),
            petition_id=str(petition.uuid),
        )


@background.write("petitions.signature")
def record_signature(
    *,
    organization: Organization,
    actor: str,
    data: Any,
    petition_id: str,
    token_id: str | None = None,  # only in jobs queued before the actor named the token
) -> Signature:
    """The record signature helper with a token: the organization's own data, its
    `subscribed` statuses consent (source_ref: the actor); tags audited as on the
    organizer pages, in the same transaction as the signature."""
    petition = find_petition(organization, petition_id)
    values = validated(resources.SignatureHelperInput, data)
    person = person_input.helper_person_data(
        organization, values["person"], actor=actor, anonymous=False
    )
    with transaction.atomic():
        result = services.sign(
            petition=petition,
            data=person,
            comment=values.get("comments", ""),
            source="api",
            actor=actor,
            anonymous=False,
            person_source=Source.API,
        )
        signer = result.signature.person  # None: an earlier signer since erased
        tags = values.get("add_tags", [])
        tag_people(actor=actor, people=[signer] if signer else [], names=tags)
    return resources.signatures(Signature.objects.filter(pk=result.signature.pk)).get()


def public_signature(request: Request, petition_id: str) -> Response:
    """No token: the public form's road, where the organization allows it, for an open
    petition; `200 {}` whatever happens, so a stranger learns nothing (`public_record`)."""
    return public_record(
        request, petition_id, find=_public_petition, take=_accept, logger=log, what="signature"
    )


def _public_petition(petition_id: str) -> Petition | None:
    value = hal.parse_id(petition_id)
    if value is None:
        return None
    petition = public_rows.open_petition(value)
    if petition is None or not petition.is_open:  # is_open: a deadline passed since
        return None
    return petition


def _accept(request: Request, petition: Petition) -> None:
    """The form's checks (client address, flood, no script while challenged, email)."""
    if abuse.check_address(request):
        return
    abuse.note_attempt(petition.pk)
    if abuse.challenge_on(petition.pk) and abuse.check_noscript(request):
        return
    values = validated(resources.SignatureHelperInput, request.data)
    data = person_input.helper_person_data(
        petition.organization, values["person"], actor=PUBLIC_ACTOR, anonymous=True
    )
    if not data.email or abuse.check_email(data.email):
        return
    intake.accept(petition=petition, data=data, comment=values.get("comments", ""), source="api")


class SignatureDetail(OsdiView):
    resource = "petitions"

    def _signature(self, petition_id: str, signature_id: str) -> Signature:
        petition = self.get_row(Petition.objects.all(), petition_id)
        rows = resources.signatures(Signature.objects.filter(petition=petition))
        return self.get_row(rows, signature_id)

    @operation("petition_signatures_retrieve", "signatures")
    def get(self, request: Request, petition_id: str, signature_id: str) -> Response:
        return Response(resources.render_signature(self._signature(petition_id, signature_id)))

    @operation("petition_signatures_destroy", "signatures", answers=(405,))
    def delete(self, request: Request, petition_id: str, signature_id: str) -> Response:
        self._signature(petition_id, signature_id)
        raise not_allowed(_("A signature"))


class PersonSignatureList(OsdiView):
    resource = "petitions"

    @operation("person_signatures_list", "signatures", parameters=LIST_PARAMETERS)
    def get(self, request: Request, person_id: str) -> Response:
        person, rows = self.person_rows(Signature.objects.all(), person_id)
        return signature_page(request, rows, f"people/{person.uuid}/signatures")


class PersonSignatureDetail(OsdiView):
    resource = "petitions"

    @operation("person_signatures_retrieve", "signatures")
    def get(self, request: Request, person_id: str, signature_id: str) -> Response:
        _person, rows = self.person_rows(resources.signatures(Signature.objects.all()), person_id)
        return Response(resources.render_signature(row_or_404(rows, signature_id)))


PETITION = ID.format("petition_id")
urlpatterns = [
    re_path(r"^api/v2/petitions/?$", PetitionList.as_view(), name="api-petitions"),
    re_path(rf"^api/v2/petitions/{PETITION}/?$", PetitionDetail.as_view(), name="api-petition"),
    re_path(
        rf"^api/v2/petitions/{PETITION}/signatures/?$",
        SignatureList.as_view(),
        name="api-petition-signatures",
    ),
    re_path(
        rf"^api/v2/petitions/{PETITION}/signatures/{ID.format('signature_id')}/?$",
        SignatureDetail.as_view(),
        name="api-petition-signature",
    ),
    re_path(
        rf"^api/v2/people/{ID.format('person_id')}/signatures/?$",
        PersonSignatureList.as_view(),
        name="api-person-signatures",
    ),
    re_path(
        rf"^api/v2/people/{ID.format('person_id')}/signatures/{ID.format('signature_id')}/?$",
        PersonSignatureDetail.as_view(),
        name="api-person-signature",
    ),
]
