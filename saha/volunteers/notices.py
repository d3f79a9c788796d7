"""What volunteers are told, through the messaging outbox, by email else SMS.

Each message is queued once the transaction that caused it commits, with a key
naming the row and the change, so a retried request or a task run twice sends
nothing twice. Messages carry only ids; the worker renders them in the
person's language from the rows as they are then (templates/volunteers/messages).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from saha.supporters.models import Person
from saha.volunteers.models import Assignment, Offer

TEMPLATES = "volunteers/messages/"
_state = threading.local()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Nothing is sent meanwhile, in this thread (`saha demo` fills the demo through the
    real services without writing to anyone)."""
    before = getattr(_state, "quiet", False)
    _state.quiet = True
    try:
        yield
    finally:
        _state.quiet = before


def _send(person: Person, what: str, context: dict[str, int], key: str) -> None:
    from saha.messaging.services import preferred_channel, send_transactional

    if getattr(_state, "quiet", False):
        return

    def send() -> None:
        send_transactional(
            person, f"{TEMPLATES}{what}", context, preferred_channel(person), key=key
        )

    transaction.on_commit(send)


def _hour() -> str:
    return timezone.now().strftime("%Y%m%d%H")


def offer_saved(offer: Offer) -> None:
    """The link to see, update or withdraw the offer, after it was made or changed."""
    _send(
        offer.person,
        "offer_saved",
        {"offer_id": offer.pk},
        f"offer:{offer.pk}:saved:{offer.modified_at.isoformat()}",
    )


def offer_link_again(offer: Offer) -> None:
    """Someone typed this person's address in the form: their link, at most hourly,
    to their own address; what was typed changed nothing."""
    _send(offer.person, "offer_link", {"offer_id": offer.pk}, f"offer:{offer.pk}:link:{_hour()}")


def _version(assignment: Assignment) -> str:
    when = assignment.responded_at or assignment.created_at
    return when.isoformat()


def assignment(assignment: Assignment, what: str) -> None:
    """`what`: invited, confirmed, waiting, promoted, assigned, released. One message per
    state change (an invitation: once per assignment, whatever happens after)."""
    version = "" if what == "invited" else f":{_version(assignment)}"
    _send(
        assignment.person,
        what,
        {"assignment_id": assignment.pk},
        f"assignment:{assignment.pk}:{what}{version}",
    )


def assignment_again(assignment: Assignment) -> None:
    """The same sign-up sent again: what the person has, once more, at most hourly."""
    what = {"invited": "invited", "waiting": "waiting"}.get(assignment.status, "confirmed")
    _send(
        assignment.person,
        what,
        {"assignment_id": assignment.pk},
        f"assignment:{assignment.pk}:again:{_hour()}",
    )


def reminder(assignment: Assignment, minutes: int, starts: str) -> None:
    _send(
        assignment.person,
        "reminder",
        {"assignment_id": assignment.pk, "minutes": minutes},
        f"assignment:{assignment.pk}:reminder:{minutes}:{starts}",
    )
