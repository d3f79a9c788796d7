"""/people: the collection, the person signup helper (POST), a person (GET, PUT).

Action Network deletes no person through its API, and neither do we: erasure
stays on the organizer pages, where it is gated and audited as such.

The signup helper is also a public helper: without a token, `POST
/people?organization=<slug>` is taken only when that organization turned
public helpers on, and then always answers `200 {}`, whatever happened (an
unknown organization, helpers off, bad data, the rate limit), so it tells a
stranger nothing. What it carries is treated as typed by anyone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, transaction
from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from saha.api import background, filters, hal
from saha.api.errors import ApiError
from saha.api.models import ApiSettings
from saha.api.resources.people import (
    FILTERS,
    PersonInput,
    SignupInput,
    find_person,
    fresh_person,
    prepare_people,
    render_person,
    signup,
    update,
    with_curies,
)
from saha.api.views.base import OsdiView
from saha.core import ratelimit
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.supporters.models import Person

log = logging.getLogger(__name__)

# The audit log's name for what came through the public helper.
PUBLIC_ACTOR = "api:public helper"
# Sign-ups per client address and window; the settings may change them.
PUBLIC_LIMIT, PUBLIC_WINDOW = 10, 60

PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="From 1."),
    OpenApiParameter("per_page", OpenApiTypes.INT, description="At most 25."),
    OpenApiParameter(
        "filter",
        OpenApiTypes.STR,
        description=(
            "OSDI filter: email_address, phone_number, given_name, family_name, region, "
            "postal_code, country (eq); created_date, modified_date (eq, gt, lt)."
        ),
    ),
]
BACKGROUND = OpenApiParameter(
    "background_request", OpenApiTypes.BOOL, description="Queue the write; answers 200 {}."
)
PUBLIC_ORGANIZATION = OpenApiParameter(
    "organization",
    OpenApiTypes.STR,
    description="Without a token: the organization's slug (public helpers must be on).",
)


class PeopleList(OsdiView):
    resource = "people"
    public_helper = True

    @extend_schema(
        operation_id="people_list",
        tags=["people"],
        parameters=PAGE_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("filter")
        rows = (
            Person.objects.for_org(self.organization)
            .filter(filters.parse(text, FILTERS))
            .order_by("pk")
        )
        page = hal.collection(
            request,
            path="people",
            rel="people",
            queryset=rows,
            render=render_person,
            query={"filter": text},
            prepare=prepare_people,
        )
        return Response(page)

    @extend_schema(
        operation_id="people_signup",
        tags=["people"],
        summary="The person signup helper",
        description=(
            "Finds the person by email, then phone, or creates them; merges what is sent; "
            "add_tags / remove_tags by name. Without a token (public helper) it always "
            "answers 200 {}."
        ),
        parameters=[BACKGROUND, PUBLIC_ORGANIZATION],
        request=SignupInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        if request.auth is None:
            return public_signup(request)
        if self.background_requested():
            background.enqueue(
                "people.signup", organization=self.organization, actor=self.actor, data=request.data
            )
            return Response({})
        person = signup(organization=self.organization, actor=self.actor, data=request.data)
        return Response(with_curies(render_person(fresh_person(person))))


def public_signup(request: Request) -> Response:
    """Unauthenticated sign-up: 200 {} always; the work is done only where allowed."""
    limit = int(getattr(settings, "SAHA_API_PUBLIC_HELPER_LIMIT", PUBLIC_LIMIT))
    window = int(getattr(settings, "SAHA_API_PUBLIC_HELPER_WINDOW", PUBLIC_WINDOW))
    over = ratelimit.hit("api", "public", ratelimit.address_of(request), limit=limit, window=window)
    organization = None if over else _public_organization(request)
    if organization is None:
        return Response({})
    try:
        with transaction.atomic():
            signup(organization=organization, actor=PUBLIC_ACTOR, data=request.data, anonymous=True)
    except (DomainError, APIException, DjangoValidationError, DatabaseError) as error:
        log.info("Public sign-up refused: %s", getattr(error, "code", type(error).__name__))
    return Response({})


def _public_organization(request: Request) -> Organization | None:
    slug = request.query_params.get("organization", "")
    if not slug or len(slug) > 50:
        return None
    allowed = ApiSettings.objects.filter(organization__slug=slug, public_helpers=True)
    settings_row = allowed.select_related("organization").first()
    return settings_row.organization if settings_row else None


class PersonDetail(OsdiView):
    resource = "people"

    @extend_schema(
        operation_id="people_retrieve", tags=["people"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, person_id: str) -> Response:
        person = find_person(self.organization, person_id)
        return Response(with_curies(render_person(fresh_person(person))))

    @extend_schema(
        operation_id="people_update",
        tags=["people"],
        description=(
            "Merges: only what is sent changes, a field sent as null is removed. Addresses "
            "and numbers are added; an email's status 'unsubscribed' unsubscribes it."
        ),
        parameters=[BACKGROUND],
        request=PersonInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def put(self, request: Request, person_id: str) -> Response:
        if self.background_requested():
            find_person(self.organization, person_id)  # an unknown id is still a 404
            background.enqueue(
                "people.update",
                organization=self.organization,
                actor=self.actor,
                data=request.data,
                person_id=person_id,
            )
            return Response({})
        person = update(
            organization=self.organization, actor=self.actor, data=request.data, person_id=person_id
        )
        return Response(with_curies(render_person(fresh_person(person))))

    @extend_schema(
        operation_id="people_destroy", tags=["people"], responses={405: OpenApiTypes.OBJECT}
    )
    def delete(self, request: Request, person_id: str) -> Response:
        raise ApiError(
            "method_not_allowed",
            _("People are not deleted through the API: erase a person from the organizer pages."),
            status=405,
        )


urlpatterns = [
    re_path(r"^api/v2/people/?$", PeopleList.as_view(), name="api-people"),
    re_path(r"^api/v2/people/(?P<person_id>[^/]+)/?$", PersonDetail.as_view(), name="api-person"),
]
