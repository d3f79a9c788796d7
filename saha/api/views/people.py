"""/people: the collection, the person signup helper (POST), a person (GET, PUT).

Action Network deletes no person through its API, and neither do we: erasure
stays on the organizer pages, where it is gated and audited as such.

The signup helper is also a public helper: without a token, `POST
/people?organization=<slug>` is taken only when that organization turned
public helpers on, and then always answers `200 {}`, whatever happened (an
unknown organization, helpers off, bad data, the rate limit), so it tells a
stranger nothing. What it carries is treated as typed by anyone: it creates a
person it does not find, changes nothing of a person it finds (no field, no
contact), tags nobody, and a `subscribed` status counts only for a person it
creates. With a token or without, a null or "" removes nothing: only a PUT
removes. One rate limit per client address covers every public helper
(`over_public_limit`). With a token, `add_tags` and `remove_tags` need tags:write
besides people:write.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import re_path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

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
    operation,
    over_public_limit,
    page,
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

    @operation(
        "people_list", "people", parameters=[*PAGE_PARAMETERS, filter_parameter(FILTER_FIELDS)]
    )
    def get(self, request: Request) -> Response:
        return page(
            request,
            Person.objects.for_org(self.organization).order_by("pk"),
            path="people",
            rel="people",
            render=render_person,
            fields=people_filters(self.organization),
            prepare=prepare_people,
        )

    @operation(
        "people_signup",
        "people",
        summary="The person signup helper",
        description=(
            "Finds the person by email, then phone, or creates them; merges what is sent; "
            "add_tags / remove_tags by name. Without a token (public helper) it always "
            "answers 200 {}, tags nobody, and subscribes only a person it creates."
        ),
        parameters=[BACKGROUND, PUBLIC_ORGANIZATION],
        request=SignupInput,
    )
    def post(self, request: Request) -> Response:
        if request.auth is None:
            return public_signup(request)
        self.check_tag_scope(request.data)
        return self.written("people.signup", signup, render_fresh_person)


def render_fresh_person(person: Person) -> dict[str, Any]:
    return with_curies(render_person(fresh_person(person)))


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

    @operation("people_retrieve", "people")
    def get(self, request: Request, person_id: str) -> Response:
        return Response(render_fresh_person(find_person(self.organization, person_id)))

    @operation(
        "people_update",
        "people",
        description=(
            "Merges: only what is sent changes, a field sent as null is removed. Addresses "
            "and numbers are added; an email's status 'unsubscribed' unsubscribes it."
        ),
        parameters=[BACKGROUND],
        request=PersonInput,
    )
    def put(self, request: Request, person_id: str) -> Response:
        return self.written(
            "people.update",
            update,
            render_fresh_person,
            # An unknown id is a 404 even when the write is queued.
            check=lambda _data: find_person(self.organization, person_id),
            person_id=person_id,
        )

    @operation("people_destroy", "people", answers=(405,))
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
