"""A campaign's progress: signatures as each petition's page counts them (drafts count
nothing), people coming and present at its published events, people who joined from
the hub; in the same few queries however many items it holds."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from saha.campaigns import queries, services
from saha.campaigns.models import CampaignSignup
from saha.campaigns.progress import Bar, measure
from saha.campaigns.tests.helpers import new_campaign, new_event, new_petition, new_statement
from saha.events import services as events
from saha.events.models import CheckIn, EventStatus
from saha.events.tests.test_rsvp import answer
from saha.petitions import services as petitions
from saha.petitions.models import PetitionStatus
from saha.petitions.tests.test_sign import sign
from saha.supporters.tests.people_factories import make_person

pytestmark = pytest.mark.django_db


def check_in(rsvp: Any, n: int) -> None:
    CheckIn.objects.create(
        organization_id=rsvp.organization_id,
        event=rsvp.event,
        rsvp=rsvp,
        nonce=f"n{n}",
        method="code",
        checked_in_at=timezone.now(),
    )


def test_progress_counts_what_each_page_counts(org_a: Any, org_b: Any) -> None:
    campaign = new_campaign(org_a, goal_signatures=4, goal_rsvps=10)
    counted = new_petition(org_a, slug="counted", count_unverified=True)
    confirmed_only = new_petition(org_a, slug="confirmed")
    closed = new_petition(org_a, slug="closed", count_unverified=True)
    draft = new_petition(org_a, slug="draft", count_unverified=True)
    published = new_event(org_a, slug="published")
    cancelled = new_event(org_a, slug="cancelled")
    for target in (counted, confirmed_only, closed, draft, published, cancelled):
        services.add_item(actor="t", campaign=campaign, target=target)
    services.add_item(actor="t", campaign=campaign, target=new_statement(org_a))
    sign(counted, 1)
    sign(counted, 2)
    petitions.confirm(signature=sign(confirmed_only, 3).signature)
    sign(confirmed_only, 4)  # not confirmed: not counted on that page
    sign(closed, 5)
    petitions.set_status(actor="t", petition=closed, status=PetitionStatus.CLOSED)
    sign(draft, 6)
    draft.status = PetitionStatus.DRAFT
    draft.save(update_fields=["status"])
    coming = [answer(published, n).rsvp for n in range(3)]
    events.cancel_rsvp(rsvp=coming[2])
    check_in(coming[0], 0)
    check_in(answer(cancelled, 9).rsvp, 9)
    cancelled.status = EventStatus.CANCELLED
    cancelled.save(update_fields=["status"])
    person = make_person(org_a, email="joined@example.org")
    CampaignSignup.objects.create(
        organization=org_a, campaign=campaign, person=person, source="join"
    )
    theirs = make_person(org_b, email="partner@example.org")
    CampaignSignup.objects.create(
        organization=org_b, campaign=campaign, person=theirs, source="join"
    )

    progress = measure(campaign, queries.items_of(campaign))
    assert (progress.signatures, progress.rsvps, progress.check_ins) == (4, 2, 1)
    assert progress.signups == 1  # the host's own, not the partner's
    assert progress.petition_counts == {counted.pk: 2, confirmed_only.pk: 1, closed.pk: 1}
    assert progress.bars(campaign) == [Bar("signatures", 4, 4), Bar("rsvps", 2, 10)]


def test_bars_never_overflow() -> None:
    bar = Bar("signatures", 150, 100)
    assert (bar.value, bar.percent, bar.reached) == (100, 100, True)
    assert Bar("rsvps", 1, 3).percent == 33


def test_the_queries_do_not_grow_with_the_items(org_a: Any, django_assert_num_queries: Any) -> None:
    campaign = new_campaign(org_a)
    for n in range(10):
        for target in (new_event(org_a, f"e{n}"), new_petition(org_a, f"p{n}")):
            services.add_item(actor="t", campaign=campaign, target=target)
        services.add_item(actor="t", campaign=campaign, target=new_statement(org_a, f"s{n}"))
    # items and their targets, statement versions; then shards, RSVPs, check-ins, sign-ups
    with django_assert_num_queries(6):
        measure(campaign, queries.items_of(campaign))
    small = new_campaign(org_a, slug="small")
    services.add_item(actor="t", campaign=small, target=new_event(org_a, "only"))
    with django_assert_num_queries(4):  # no statement, no petition: nothing to read for them
        measure(small, queries.items_of(small))
