"""How campaigns answer what happens to people elsewhere: merging two records of one person.
(An erased person's sign-ups go with them: the rows cascade.)"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from saha.campaigns.models import CampaignSignup
from saha.supporters.models import Person
from saha.supporters.services import people_merged


@receiver(people_merged, sender=Person)
def move_signups(sender: Any, kept: Person, other: Person, **kwargs: Any) -> None:
    """The other's sign-ups become the kept person's; where both came through the same
    campaign by the same form, one row is enough and the other's goes."""
    had = set(CampaignSignup.objects.filter(person=kept).values_list("campaign_id", "source"))
    twice = [
        row.pk
        for row in CampaignSignup.objects.filter(person=other).only("pk", "campaign_id", "source")
        if (row.campaign_id, row.source) in had
    ]
    CampaignSignup.objects.filter(pk__in=twice).delete()
    CampaignSignup.objects.filter(person=other).update(person=kept)
