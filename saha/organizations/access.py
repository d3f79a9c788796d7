"""How an organizer view finds its organization and checks the member's role.

A non-member gets 404 (never 403), so URLs do not reveal which organizations
exist. A member whose role lacks the permission gets 403. An organization that
requires MFA sends a member without it to enrol first.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.organizations.models import Membership
from saha.organizations.roles import Permission

LAST_ORGANIZATION_KEY = "saha_organization"


def membership_for(request: HttpRequest, slug: str) -> Membership:
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=request.user, organization__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def organization_view(
    permission: Permission = Permission.VIEW_DASHBOARD,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_for(request, slug)
            organization = membership.organization
            if organization.require_mfa and not request.user.has_mfa():  # type: ignore[union-attr]
                messages.warning(
                    request,
                    _("%(organization)s requires two-factor authentication. Set it up to continue.")
                    % {"organization": organization.name},
                )
                return redirect("mfa_index")
            if not membership.can(permission):
                raise PermissionDenied
            request.organization = organization  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get(LAST_ORGANIZATION_KEY) != organization.slug:
                # Written only when it changes: an unchanged session is not saved again,
                # which spares a write on every scan at the gate.
                request.session[LAST_ORGANIZATION_KEY] = organization.slug
            # Times on an organization's pages are in its own time zone.
            with timezone.override(zoneinfo.ZoneInfo(organization.time_zone)):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate
