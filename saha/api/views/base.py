"""The base of every API view: the token's organization, its actor, the audit of each call."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saha.api import hal
from saha.api.errors import ApiError
from saha.api.models import ApiToken
from saha.api.tokens import actor_of
from saha.core import audit
from saha.organizations.models import Organization

log = logging.getLogger(__name__)


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
                    "path": request.path[:300],
                    "status": response.status_code,
                },
                organization=token.organization,
            )
        return response


def deleted(row: Model, what: str) -> Response:
    """DELETE answers JSON, never an empty body (Action Network's own words)."""
    return Response({"notice": _("This %(what)s was successfully deleted.") % {"what": what}})
