"""How far a campaign has come: signatures, people coming, people present, sign-ups.

- signatures: the public count of its petitions that are open or closed (a draft
  counts nothing), each as its own page shows it (`Count.public`);
- RSVPs: confirmed answers to its published events;
- check-ins: people who came through the gate of those events;
- sign-ups: people who joined the host from the hub.

Four queries whatever the number of items, once the items are read
(`queries.items_of`): the counters' shards of every petition at once, the
events' tallies in two (`roster.tallies`), and the sign-ups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup
from saha.campaigns.queries import PUBLIC_PETITION
from saha.campaigns.services import JOIN_SOURCE
from saha.events import roster
from saha.events.models import EventStatus
from saha.petitions.models import Petition, SignatureCount
from saha.petitions.services import Count


@dataclass(frozen=True)
class Bar:
    """One goal and how far towards it: for a `<progress>` and the words beside it."""

    key: str  # "signatures", "rsvps", "check_ins"
    count: int
    goal: int

    @property
    def value(self) -> int:
        return min(self.count, self.goal)

    @property
    def percent(self) -> int:
        return min(100, (100 * self.count) // self.goal) if self.goal else 0

    @property
    def reached(self) -> bool:
        return self.count >= self.goal


@dataclass(frozen=True)
class Progress:
    signatures: int = 0
    rsvps: int = 0
    check_ins: int = 0
    signups: int = 0
    # A petition's public count (shown on its card); an event's tally (summed only: an
    # event's card shows its places left as its own page does, from the event itself).
    petition_counts: dict[int, int] = field(default_factory=dict)
    tallies: dict[int, roster.Tally] = field(default_factory=dict)

    def bars(self, campaign: Campaign) -> list[Bar]:
        """One bar per goal set, in a fixed order; none for a goal left empty."""
        goals = (
            ("signatures", self.signatures, campaign.goal_signatures),
            ("rsvps", self.rsvps, campaign.goal_rsvps),
            ("check_ins", self.check_ins, campaign.goal_check_ins),
        )
        return [Bar(key, count, goal) for key, count, goal in goals if goal]


def measure(campaign: Campaign, items: list[CampaignItem]) -> Progress:
    """The campaign's progress from its items (as read by `queries.items_of`)."""
    petitions = [
        item.petition
        for item in items
        if item.petition is not None and item.petition.status in PUBLIC_PETITION
    ]
    events = [
        item.event
        for item in items
        if item.event is not None and item.event.status == EventStatus.PUBLISHED
    ]
    counts = _petition_counts(petitions)
    tallies = roster.tallies(events) if events else {}
    signups = CampaignSignup.objects.filter(
        campaign=campaign, organization_id=campaign.organization_id, source=JOIN_SOURCE
    ).count()
    return Progress(
        signatures=sum(counts.values()),
        rsvps=sum(tally.confirmed for tally in tallies.values()),
        check_ins=sum(tally.checked_in for tally in tallies.values()),
        signups=signups,
        petition_counts=counts,
        tallies=tallies,
    )


def _petition_counts(petitions: list[Petition]) -> dict[int, int]:
    """Each petition's public count, summing every petition's shards in one query."""
    if not petitions:
        return {}
    rows = (
        SignatureCount.objects.filter(petition_id__in=[p.pk for p in petitions])
        .values("petition_id")
        .annotate(verified=Sum("verified"), unverified=Sum("unverified"))
        .values_list("petition_id", "verified", "unverified")
    )
    totals = {pk: Count(verified=v or 0, unverified=u or 0) for pk, v, u in rows}
    empty = Count(verified=0, unverified=0)
    return {p.pk: totals.get(p.pk, empty).public(p) for p in petitions}
