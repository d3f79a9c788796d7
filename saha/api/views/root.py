"""The entry point: titled links to every collection, as a generic HAL client reads them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.response import Response

from saha import __version__
from saha.api import hal
from saha.api.views.base import OsdiView


def collections() -> list[tuple[str, str]]:
    return [
        ("people", _("The collection of people in the system")),
        ("tags", _("The collection of tags in the system")),
        ("events", _("The collection of events in the system")),
        ("petitions", _("The collection of petitions in the system")),
        ("messages", _("The collection of messages in the system")),
        ("queries", _("The collection of queries (saved segments) in the system")),
    ]


class EntryPoint(OsdiView):
    @extend_schema(operation_id="entry_point", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Any) -> Response:
        links: dict[str, Any] = {
            "self": hal.link(hal.url(""), _("Saha API entry point")),
            "curies": hal.curies(),
        }
        for rel, title in collections():
            links[f"osdi:{rel}"] = hal.link(hal.url(rel), title)
        links["osdi:person_signup_helper"] = hal.link(
            hal.url("people"), _("The person signup helper")
        )
        return Response(
            {
                "motd": _("Welcome to the Saha API (OSDI, Action Network v2 dialect)."),
                "max_pagesize": hal.MAX_PAGE_SIZE,
                "vendor_name": "Saha",
                "product_name": "Saha",
                "osdi_version": hal.OSDI_VERSION,
                "saha_version": __version__,
                "organization": self.organization.name,
                "_links": links,
            }
        )
