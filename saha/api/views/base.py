"""The base of every API view: the token's organization, its actor, the audit of each call."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saha.api import hal, scopes
from saha.api.auth import logged_path
from saha.api.errors import ApiError
from saha.api.models import ApiSettings, ApiToken
from saha.api.resources.consent import PUBLIC_HELPER
from saha.api.tokens import actor_of
from saha.core import audit, ratelimit
from saha.organizations.models import Organization

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


def public_helpers_on(organization: Organization) -> bool:
    return ApiSettings.objects.filter(organization=organization, public_helpers=True).exists()


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
        """The organization's row whose uuid `raw_id` names, or 404 (also for
        another organization's row: a token never learns what others hold)."""
        value = hal.parse_id(raw_id)
        if value is None:
            raise ApiError("not_found", _("Not found."), status=404)
        row = queryset.filter(organization=self.organization, uuid=value).first()
        if row is None:
            raise ApiError("not_found", _("Not found."), status=404)
        return row

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
