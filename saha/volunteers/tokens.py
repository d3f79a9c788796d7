"""Signed links: to one's offer (see, update, withdraw) and to one assignment (accept,
decline, cancel).

A token is the row's id and a truncated HMAC under its own salt
(`saha.core.signed_ids`): short enough for an SMS, naming nothing personal, and
an offer's token opens no assignment (nor an RSVP's ticket). It is sent only
to the person's own address, never shown on a page after a form.
"""

from __future__ import annotations

from django.urls import reverse

from saha.core import signed_ids
from saha.core.public_pages import absolute

_OFFER = b"saha.volunteers.offer"
_ASSIGNMENT = b"saha.volunteers.assignment"


def offer_token(offer_id: int) -> str:
    return signed_ids.make(_OFFER, offer_id)


def read_offer(token: str) -> int | None:
    return signed_ids.read(_OFFER, token)


def assignment_token(assignment_id: int) -> str:
    return signed_ids.make(_ASSIGNMENT, assignment_id)


def read_assignment(token: str) -> int | None:
    return signed_ids.read(_ASSIGNMENT, token)


def offer_url(offer_id: int) -> str:
    return absolute(reverse("volunteers:offer_manage", args=[offer_token(offer_id)]))


def respond_url(assignment_id: int, answer: str = "") -> str:
    url = absolute(reverse("volunteers:respond", args=[assignment_token(assignment_id)]))
    return f"{url}?answer={answer}" if answer else url
