"""What an attendee does from their ticket page: come back after cancelling, change language.

The ticket's signed link is the attendee's only proof of who they are (see
`tickets.py`), so these take the RSVP it names and nothing typed in: a
stranger cannot move someone else's answer by knowing their address.
Like `services.cancel_rsvp` for an attendee, they leave no audit row: the audit
log records what staff and machines do to people, not people's own choices.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core.errors import DomainError
from saha.events import services
from saha.events.models import Rsvp, RsvpStatus
from saha.supporters.models import Person
from saha.supporters.services import PersonData


def come_back(*, rsvp: Rsvp) -> services.RsvpResult:
    """Come back ("I can come after all"): the same answer again, through the same queue.

    A place if one is left, else the waiting list (or `event_full`); a closed
    event raises `event_closed`. An RSVP that was not cancelled is returned
    as it is.
    """
    person = rsvp.person
    if person is None:  # erased since: nothing to answer with
        raise DomainError(
            "person_erased",
            _("We no longer hold your details. Please answer again on the event's page."),
            status=410,
        )
    if rsvp.status != RsvpStatus.CANCELLED:
        return services.RsvpResult(rsvp, created=False)
    return services.rsvp(
        event=rsvp.event,
        data=_contact(person, rsvp.language),
        source=rsvp.source,
    )


def _contact(person: Person, language: str) -> PersonData:
    """One address the person already has: enough to find them again, and nothing new."""
    email = person.emails.order_by("-is_primary", "id").values_list("address", flat=True).first()
    if email:
        return PersonData(email=email, language=language)
    phone = person.phones.order_by("-is_primary", "id").values_list("number", flat=True).first()
    if phone:
        return PersonData(phone=phone, language=language)
    raise DomainError(
        "no_contact",
        _("We no longer hold your details. Please answer again on the event's page."),
        status=409,
    )


def change_rsvp_language(*, rsvp: Rsvp, language: str) -> bool:
    """Speak `language` in this RSVP's messages and the person's from now on.

    Returns False when nothing changed; an unknown language raises `unknown_language`.
    """
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise DomainError("unknown_language", _("Choose one of the languages offered."))
    if rsvp.language == language and (rsvp.person is None or rsvp.person.language == language):
        return False
    with transaction.atomic():
        Rsvp.objects.filter(pk=rsvp.pk).update(language=language, modified_at=timezone.now())
        if rsvp.person_id is not None:
            Person.objects.filter(pk=rsvp.person_id).update(
                language=language, modified_at=timezone.now()
            )
    rsvp.language = language
    if rsvp.person is not None:
        rsvp.person.language = language
    return True
