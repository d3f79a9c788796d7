"""What a token may touch: one read and one write scope per resource.

Write implies read. Taggings follow their tag (`tags`), attendances their event
(`events`), signatures their petition (`petitions`). Webhooks are managed on
the organizer pages only, never through a token.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

RESOURCES: dict[str, object] = {
    "people": _("People"),
    "tags": _("Tags and taggings"),
    "events": _("Events and attendances"),
    "petitions": _("Petitions and signatures"),
    "messages": _("Messages (broadcasts)"),
    "queries": _("Queries (segments)"),
}
READ, WRITE = "read", "write"
ALL_SCOPES = [f"{resource}:{access}" for resource in RESOURCES for access in (READ, WRITE)]
# A token created without scopes may read everything and write nothing.
DEFAULT_SCOPES = [f"{resource}:{READ}" for resource in RESOURCES]


def is_valid(scope: str) -> bool:
    return scope in ALL_SCOPES


def allows(scopes: list[str], resource: str, *, write: bool) -> bool:
    if f"{resource}:{WRITE}" in scopes:
        return True
    return not write and f"{resource}:{READ}" in scopes
