"""The base of every API view: the token's organization, its actor, the audit of each call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saha.api import background, filters, hal, scopes
from saha.api.auth import logged_path
from saha.api.errors import ApiError
from saha.api.models import ApiToken
from saha.api.resources.consent import PUBLIC_HELPER
from saha.api.tokens import actor_of
from saha.core import audit, ratelimit
from saha.core.errors import Conflict, DomainError
from saha.organizations.models import Organization
from saha.supporters.models import Person

log = logging.getLogger(__name__)

# The audit log's name for what came through a public helper (no token).
PUBLIC_ACTOR = PUBLIC_HELPER

# The OpenAPI parameters every collection and every write share.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
    OpenApiParameter("per_page", OpenApiTypes.INT, description="Items per page, at most 25."),
]
BACKGROUND = OpenApiParameter(
    "background_request", OpenApiTypes.BOOL, description="Queue the write and answer 200 {}."
)


def filter_parameter(fields: str) -> OpenApiParameter:
    """The OSDI `filter` parameter of a collection; `fields` says what it filters on."""
    return OpenApiParameter("filter", OpenApiTypes.STR, description=f"OSDI filter: {fields}.")


# A collection filtered on its dates only (attendances, petitions, messages...).
LIST_PARAMETERS = [*PAGE_PARAMETERS, filter_parameter("created_date, modified_date (eq, gt, lt)")]


def operation(
    operation_id: str, tag: str, *, answers: tuple[int, ...] = (200,), **more: Any
) -> Callable[[Any], Any]:
    """`extend_schema` as every API operation uses it: its id, its resource's tag, JSON
    objects for the status codes it `answers`, and any other of extend_schema's
    arguments (`request`, `parameters`, `description`...) as given."""
    responses = {code: OpenApiTypes.OBJECT for code in answers}
    return extend_schema(operation_id=operation_id, tags=[tag], responses=responses, **more)


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated body, or a 400 with the field errors (DRF's ValidationError), also
    for a body that is no JSON object at all."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            {"non_field_errors": [_("The body must be a JSON object.")]}, code="invalid"
        )
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def over_public_limit(request: Request) -> bool:
    """One limit for every public helper (people, attendances, signatures): calls per
    client address and minute, SAHA_API_PUBLIC_HELPER_PER_MINUTE."""
    over = ratelimit.hit(
        "api",
        "public_helper",
        ratelimit.address_of(request),
        limit=settings.SAHA_API_PUBLIC_HELPER_PER_MINUTE,
        window=60,
    )
    return over is not None


def public_record(
    request: Request,
    raw_id: str,
    *,
    find: Callable[[str], Any],
    take: Callable[[Request, Any], object],
    logger: logging.Logger,
    what: str,
) -> Response:
    """A record helper called without a token (attendances, signatures): `find` the
    row it is open for (None: closed, helpers off, unknown), `take` the body as the
    public form would; `200 {}` whatever happens, so a stranger learns nothing (not
    whether the row, the organization or an address exists)."""
    if over_public_limit(request):
        return Response({})
    row = find(raw_id)
    if row is None:
        return Response({})
    try:
        take(request, row)
    except (DomainError, APIException):
        pass  # refused as the form would refuse it; the stranger is told nothing more
    except Exception:
        logger.exception("The public %s helper failed", what)
    return Response({})


def page(
    request: Request,
    queryset: QuerySet[Any],
    *,
    path: str,
    rel: str,
    render: Callable[[Any], dict[str, Any]],
    fields: dict[str, filters.Field] | None = None,
    prepare: Callable[[list[Any]], Iterable[Any]] | None = None,
) -> Response:
    """A page of a collection (`hal.collection`); with `fields`, filtered by the OSDI
    `filter` parameter on them, which the page's links keep."""
    if fields is None:
        body = hal.collection(
            request, path=path, rel=rel, queryset=queryset, render=render, prepare=prepare
        )
        return Response(body)
    text = request.query_params.get("filter")
    where = filters.parse(text, fields)
    body = hal.collection(
        request,
        path=path,
        rel=rel,
        queryset=queryset.filter(where),
        render=render,
        query={"filter": text},
        prepare=prepare,
    )
    return Response(body)


def check_status_moved(row: Model, wanted: str, message: str) -> None:
    """After a status change the service did not make: another request made it first
    (fine), or moved the row elsewhere (a 409 `status_changed` saying `message`)."""
    now = type(row)._default_manager.filter(pk=row.pk).values_list("status", flat=True).first()
    if now != wanted:
        raise Conflict("status_changed", message)


def row_or_404(queryset: QuerySet[Any], raw_id: str) -> Any:
    """The row of `queryset` whose uuid `raw_id` names, or 404."""
    value = hal.parse_id(raw_id)
    row = queryset.filter(uuid=value).first() if value is not None else None
    if row is None:
        raise ApiError("not_found", _("Not found."), status=404)
    return row


def org_row(queryset: QuerySet[Any], organization: Organization, raw_id: str) -> Any:
    """The organization's row whose uuid `raw_id` names, or 404 (also for another
    organization's row: a token never learns what others hold)."""
    return row_or_404(queryset.filter(organization=organization), raw_id)


class OsdiView(APIView):
    """`resource` names the scope a call needs (see saha.api.scopes)."""

    resource: str | None = None
    # Accepts unauthenticated POSTs where the organization turned public helpers on.
    public_helper = False

    @property
    def token(self) -> ApiToken:
        token = self.request.auth
        assert isinstance(token, ApiToken)  # HasScope let nobody else through
        return token

    @property
    def organization(self) -> Organization:
        return self.token.organization

    @property
    def actor(self) -> str:
        return actor_of(self.token)

    def background_requested(self) -> bool:
        return self.request.query_params.get("background_request", "").lower() in ("true", "1")

    def check_tag_scope(self, data: Any) -> None:
        """A helper's `add_tags` (or `remove_tags`) writes taggings and may create tags:
        the token needs tags:write besides the helper's own scope."""
        sent = isinstance(data, dict) and (data.get("add_tags") or data.get("remove_tags"))
        if sent and not scopes.allows(self.token.scopes, "tags", write=True):
            raise exceptions.PermissionDenied(
                _("Adding or removing tags needs the scope %(scope)s.") % {"scope": "tags:write"},
                code="missing_scope",
            )

    def get_row(self, queryset: QuerySet[Any], raw_id: str) -> Any:
        """The organization's row whose uuid `raw_id` names, or 404 (`org_row`)."""
        return org_row(queryset, self.organization, raw_id)

    def person_rows(self, queryset: QuerySet[Any], person_id: str) -> tuple[Person, QuerySet[Any]]:
        """The person `person_id` names and their rows of `queryset` in the organization
        (`people/{id}/attendances`, `.../signatures`); an unknown person is a 404."""
        person: Person = self.get_row(Person.objects.all(), person_id)
        return person, queryset.filter(person=person, organization=self.organization)

    def body(self) -> Any:
        """What a write reads: the parsed body (MessageView reads an empty one as {})."""
        return self.request.data

    def write(
        self,
        name: str,
        function: Callable[..., Any],
        *,
        check: Callable[[Any], object] | None = None,
        **ids: str,
    ) -> Any:
        """Run the write registered as `name` (`function`) now, or queue it and return
        None when the client asked for the background (`@background.write`). `check`
        reads the body first when queueing, so a bad body (or an unknown id) is a 400
        (a 404) now rather than a refusal in the audit log later."""
        data = self.body()
        if self.background_requested():
            if check is not None:
                check(data)
            background.enqueue(
                name, organization=self.organization, actor=self.actor, data=data, **ids
            )
            return None
        return function(organization=self.organization, actor=self.actor, data=data, **ids)

    def written(
        self,
        name: str,
        function: Callable[..., Any],
        render: Callable[[Any], dict[str, Any]],
        *,
        check: Callable[[Any], object] | None = None,
        **ids: str,
    ) -> Response:
        """`write`, answered: the row as `render` shows it, or `200 {}` once queued."""
        row = self.write(name, function, check=check, **ids)
        return Response({} if row is None else render(row))

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            audit.log(
                actor_of(token),
                "api.call",
                None,
                {
                    "method": request.method,
                    "path": logged_path(request),
                    "status": response.status_code,
                },
                organization=token.organization,
            )
        return response


def deleted(row: Model, what: str) -> Response:
    """DELETE answers JSON, never an empty body (Action Network's own words)."""
    return Response({"notice": _("This %(what)s was successfully deleted.") % {"what": what}})
