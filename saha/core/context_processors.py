from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

import saha as saha_package


def saha(request: HttpRequest) -> dict[str, Any]:
    def user_memberships() -> list[Any]:
        # Called by the template only where the switcher is drawn.
        if not request.user.is_authenticated:
            return []
        from saha.organizations.models import Membership

        return list(Membership.objects.of_user(request.user))

    def signup_open() -> bool:
        from allauth.account.adapter import get_adapter

        return bool(get_adapter(request).is_open_for_signup(request))

    # Where the language switcher returns to: this page, without a ?lang= that
    # would switch the language straight back.
    query = request.GET.copy()
    query.pop("lang", None)
    here = request.path + (f"?{query.urlencode()}" if query else "")

    return {
        "SAHA_VERSION": saha_package.__version__,
        "SAHA_LANGUAGES": settings.LANGUAGES,
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        "user_memberships": user_memberships,
        "signup_open": signup_open,
        "path_without_lang": here,
    }
