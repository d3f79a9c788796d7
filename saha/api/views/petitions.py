"""Petitions and signatures: the collections, the items, and the record signature helper.

Through a token, a signature is the organization's own data: it goes straight
through `petitions.services.sign` (the signer found by email or created with
source "api", one signature per person and per mailbox, the counter, the
confirmation link), so the call can answer with the signature as Action
Network does. Through the public helper (no token, where the organization
allows it) it is typed by a stranger and takes the public form's road: the
same abuse limits, one `PendingSignature` row (`intake.accept`), taken in by
the worker as an anonymous signature; the answer is always `200 {}`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, filters, hal
from saha.api.errors import ApiError
from saha.api.resources import events as person_input
from saha.api.resources import petitions as resources
from saha.api.views.base import OsdiView
from saha.api.views.events import (
    BACKGROUND,
    ID,
    LIST_PARAMETERS,
    not_allowed,
    over_public_limit,
    public_helpers_on,
)
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.petitions import abuse, intake, services
from saha.petitions.models import Petition, PetitionStatus, Signature
from saha.supporters.models import Person, Source

log = logging.getLogger(__name__)


class PetitionList(OsdiView):
    resource = "petitions"

    @extend_schema(
        operation_id="petitions_list",
        tags=["petitions"],
        parameters=LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("filter")
        where = filters.parse(text, resources.PETITION_FILTERS)
        queryset = Petition.objects.filter(where, organization=self.organization)
        return Response(
            hal.collection(
                request,
                path="petitions",
                rel="petitions",
                queryset=resources.petitions(queryset),
                render=resources.render_petition,
                query={"filter": text},
            )
        )


class PetitionDetail(OsdiView):
    resource = "petitions"

    @extend_schema(
        operation_id="petitions_retrieve", tags=["petitions"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, petition_id: str) -> Response:
        petition = self.get_row(resources.petitions(Petition.objects.all()), petition_id)
        return Response(resources.render_petition(petition))


# --- Signatures -------------------------------------------------------------------------


def signature_page(request: Request, queryset: QuerySet[Signature], path: str) -> Response:
    text = request.query_params.get("filter")
    where = filters.parse(text, resources.SIGNATURE_FILTERS)
    return Response(
        hal.collection(
            request,
            path=path,
            rel="signatures",
            queryset=resources.signatures(queryset.filter(where)),
            render=resources.render_signature,
            query={"filter": text},
        )
    )


class SignatureList(OsdiView):
    """GET: the petition's signatures. POST: the record signature helper."""

    resource = "petitions"
    public_helper = True

    @extend_schema(
        operation_id="petition_signatures_list",
        tags=["signatures"],
        parameters=LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, petition_id: str) -> Response:
        petition = self.get_row(Petition.objects.all(), petition_id)
        path = f"{resources.petition_path(petition)}/signatures"
        return signature_page(request, Signature.objects.filter(petition=petition), path)

    @extend_schema(
        operation_id="record_signature_helper",
        tags=["signatures"],
        request=resources.SignatureHelperInput,
        parameters=[BACKGROUND],
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, petition_id: str) -> Response:
        if request.auth is None:
            return public_signature(request, petition_id)
        petition = self.get_row(Petition.objects.all(), petition_id)
        ids = {"petition_id": str(petition.uuid), "token_id": str(self.token.pk)}
        if self.background_requested():
            person_input.read_input(resources.SignatureHelperInput, request.data)
            background.enqueue(
                "petitions.signature",
                organization=self.organization,
                actor=self.actor,
                data=request.data,
                **ids,
            )
            return Response({})
        signature = record_signature(
            organization=self.organization, actor=self.actor, data=request.data, **ids
        )
        return Response(resources.render_signature(signature))


@background.write("petitions.signature")
def record_signature(
    *, organization: Organization, actor: str, data: Any, petition_id: str, token_id: str
) -> Signature:
    """The record signature helper with a token: the organization's own data."""
    petition = (
        Petition.objects.select_related("organization")
        .filter(organization=organization, uuid=hal.parse_id(petition_id))
        .first()
    )
    if petition is None:
        raise ApiError("not_found", _("Not found."), status=404)
    values = person_input.read_input(resources.SignatureHelperInput, data)
    origin = person_input.Origin(token_label=actor, token_id=int(token_id))
    result = services.sign(
        petition=petition,
        data=person_input.person_data(values, origin),
        comment=values.get("comments", ""),
        source="api",
        actor=actor,
        anonymous=False,
        person_source=Source.API,
    )
    return resources.signatures(Signature.objects.filter(pk=result.signature.pk)).get()


def public_signature(request: Request, petition_id: str) -> Response:
    """No token: the public form's road, where the organization allows it, for an open
    petition; `200 {}` whatever happens, so a stranger learns nothing."""
    if over_public_limit(request):
        return Response({})
    petition = _public_petition(petition_id)
    if petition is None:
        return Response({})
    try:
        _accept(request, petition)
    except (DomainError, APIException):
        pass  # refused as the form would refuse it; the stranger is told nothing more
    except Exception:
        log.exception("The public signature helper failed")
    return Response({})


def _public_petition(petition_id: str) -> Petition | None:
    value = hal.parse_id(petition_id)
    if value is None:
        return None
    petition = (
        Petition.objects.select_related("organization")
        .filter(uuid=value, status=PetitionStatus.OPEN)
        .first()
    )
    if petition is None or not petition.is_open or not public_helpers_on(petition.organization):
        return None
    return petition


def _accept(request: Request, petition: Petition) -> None:
    """The form's checks (client address, flood, no script while challenged, email)."""
    if abuse.check_address(request):
        return
    abuse.note_attempt(petition.pk)
    if abuse.challenge_on(petition.pk) and abuse.check_noscript(request):
        return
    values = person_input.read_input(resources.SignatureHelperInput, request.data)
    data = person_input.person_data(values, person_input.Origin())
    if not data.email or abuse.check_email(data.email):
        return
    intake.accept(petition=petition, data=data, comment=values.get("comments", ""), source="api")


class SignatureDetail(OsdiView):
    resource = "petitions"

    def _signature(self, petition_id: str, signature_id: str) -> Signature:
        petition = self.get_row(Petition.objects.all(), petition_id)
        rows = resources.signatures(Signature.objects.filter(petition=petition))
        return self.get_row(rows, signature_id)

    @extend_schema(
        operation_id="petition_signatures_retrieve",
        tags=["signatures"],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, petition_id: str, signature_id: str) -> Response:
        return Response(resources.render_signature(self._signature(petition_id, signature_id)))

    @extend_schema(
        operation_id="petition_signatures_destroy",
        tags=["signatures"],
        responses={405: OpenApiTypes.OBJECT},
    )
    def delete(self, request: Request, petition_id: str, signature_id: str) -> Response:
        self._signature(petition_id, signature_id)
        raise not_allowed(_("A signature"))


class PersonSignatureList(OsdiView):
    resource = "petitions"

    @extend_schema(
        operation_id="person_signatures_list",
        tags=["signatures"],
        parameters=LIST_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, person_id: str) -> Response:
        person = self.get_row(Person.objects.all(), person_id)
        rows = Signature.objects.filter(person=person, organization=self.organization)
        return signature_page(request, rows, f"people/{person.uuid}/signatures")


class PersonSignatureDetail(OsdiView):
    resource = "petitions"

    @extend_schema(
        operation_id="person_signatures_retrieve",
        tags=["signatures"],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, person_id: str, signature_id: str) -> Response:
        person = self.get_row(Person.objects.all(), person_id)
        rows = resources.signatures(Signature.objects.filter(person=person))
        return Response(resources.render_signature(self.get_row(rows, signature_id)))


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
