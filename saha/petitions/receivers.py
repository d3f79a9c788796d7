"""How petitions answer what happens to people elsewhere: erasure and merging."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.dispatch import receiver

from saha.petitions.models import PendingSignature, Signature, SignatureCount
from saha.supporters.models import Person
from saha.supporters.services import people_merged, person_erasing


@receiver(person_erasing, sender=Person)
def forget_signer(sender: Any, person: Person, **kwargs: Any) -> None:
    """The signature keeps counting; what they typed goes (a comment can name them), and
    signatures not yet taken in with their addresses go too, or the worker would bring
    the person back."""
    Signature.objects.filter(person=person).update(
        comment="", given_name="", locality="", mailbox=""
    )
    addresses = list(person.emails.values_list("address", flat=True))
    if addresses:
        PendingSignature.objects.filter(data__person__email__in=addresses).delete()


@receiver(people_merged, sender=Person)
def move_signatures(sender: Any, kept: Person, other: Person, **kwargs: Any) -> None:
    """One person, one signature per petition: the other's move to the kept person; where
    both had signed, the other's goes, and the count with it."""
    signed = set(Signature.objects.filter(person=kept).values_list("petition_id", flat=True))
    Signature.objects.filter(person=other).exclude(petition_id__in=signed).update(person=kept)
    for twice in Signature.objects.filter(person=other):
        field = "verified" if twice.verified_at else "unverified"
        SignatureCount.objects.filter(petition_id=twice.petition_id, shard=0).update(
            **{field: F(field) - 1}
        )
        twice.delete()
