"""/people: the collection, the person signup helper (POST), a person (GET, PUT).

Action Network deletes no person through its API, and neither do we: erasure
stays on the organizer pages, where it is gated and audited as such.

The signup helper is also a public helper: without a token, `POST
/people?organization=<slug>` is taken only when that organization turned
public helpers on, and then always answers `200 {}`, whatever happened (an
unknown organization, helpers off, bad data, the rate limit), so it tells a
stranger nothing. What it carries is treated as typed by anyone: it fills only
what is empty, tags nobody, and a `subscribed` status counts only for a person
it creates. One rate limit per client address covers every public helper
(`over_public_limit`). With a token, `add_tags` and `remove_tags` need tags:write
besides people:write.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
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
    FILTER_FIELDS,
    SignupInput,
    find_person,
    fresh_person,
    people_filters,
    prepare_people,
    render_person,
    signup,
    update,
    with_curies,
)
from saha.api.resources.person_input import PersonInput
from saha.api.views.base import (
    BACKGROUND,
    PAGE_PARAMETERS,
    PUBLIC_ACTOR,
    OsdiView,
    filter_parameter,
    over_public_limit,
)
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.supporters.models import Person

log = logging.getLogger(__name__)

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
        parameters=[*PAGE_PARAMETERS, filter_parameter(FILTER_FIELDS)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("filter")
        rows = (
            Person.objects.for_org(self.organization)
            .filter(filters.parse(text, people_filters(self.organization)))
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
            "answers 200 {}, tags nobody, and subscribes only a person it creates."
        ),
        parameters=[BACKGROUND, PUBLIC_ORGANIZATION],
        request=SignupInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        if request.auth is None:
            return public_signup(request)
        self.check_tag_scope(request.data)
        if self.background_requested():
            background.enqueue(
                "people.signup", organization=self.organization, actor=self.actor, data=request.data
            )
            return Response({})
        person = signup(organization=self.organization, actor=self.actor, data=request.data)
        return Response(with_curies(render_person(fresh_person(person))))


def public_signup(request: Request) -> Response:
    """Unauthenticated sign-up: 200 {} always; the work is done only where allowed."""
    organization = None if over_public_limit(request) else _public_organization(request)
    if organization is None:
        return Response({})
    try:
        with transaction.atomic():
            signup(organization=organization, actor=PUBLIC_ACTOR, data=request.data, anonymous=True)
    except (DomainError, APIException, DjangoValidationError) as error:
        log.info("Public sign-up refused: %s", getattr(error, "code", type(error).__name__))
    except Exception:
        # Still 200 {}: a stranger learns nothing, not even that something broke.
        log.exception("The public sign-up helper failed")
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
