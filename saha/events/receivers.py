"""How events answer what happens to people elsewhere: merging two records of one person."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from saha.events.models import Rsvp
from saha.supporters.models import Person
from saha.supporters.services import people_merged


@receiver(people_merged, sender=Person)
def move_rsvps(sender: Any, kept: Person, other: Person, **kwargs: Any) -> None:
    """The other's answers (and check-ins) become the kept person's; where both answered
    one event, the other's stays as it was, counted, with nobody attached once the
    other record goes (as after an erasure): the places taken stay right."""
    answered = set(Rsvp.objects.filter(person=kept).values_list("event_id", flat=True))
    Rsvp.objects.filter(person=other).exclude(event_id__in=answered).update(person=kept)
