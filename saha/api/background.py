"""`?background_request=true`: the write is queued and the call answers `200 {}`.

A write that can run in the background registers itself by name with
`@background.write("people.signup")`. Its function takes keyword arguments
only: `organization`, `actor` (the audit label) and `data` (the parsed JSON
body), plus the ids from the path as strings. The view calls the same
function directly when no background run was asked for, so both paths land in
the same services. The queued task holds only ids and the JSON body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django_tasks import task
from rest_framework.exceptions import APIException

from saha.api.errors import first_code
from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization

log = logging.getLogger(__name__)

Write = Callable[..., Any]
_WRITES: dict[str, Write] = {}


def write(name: str) -> Callable[[Write], Write]:
    def register(function: Write) -> Write:
        _WRITES[name] = function
        return function

    return register


def enqueue(name: str, *, organization: Organization, actor: str, data: Any, **ids: str) -> None:
    if name not in _WRITES:
        raise KeyError(name)
    transaction.on_commit(lambda: run_write.enqueue(name, organization.pk, actor, data, ids))


@task(priority=5)
def run_write(name: str, organization_id: int, actor: str, data: Any, ids: dict[str, str]) -> str:
    import saha.api.urls  # noqa: F401  (the views register their writes when imported)

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return "organization gone"
    try:
        with transaction.atomic():
            _WRITES[name](organization=organization, actor=actor, data=data, **ids)
    except (DomainError, APIException) as error:
        # The caller was told 200 {} already: the refusal goes to the audit log.
        code = error.code if isinstance(error, DomainError) else first_code(error.get_codes())
        audit.log(
            actor,
            "api.background.refused",
            None,
            {"write": name, "code": str(code)},
            organization=organization,
        )
        return f"refused: {code}"
    return "done"
