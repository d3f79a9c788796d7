"""The campaign services: texts, goals and status; items of the host only, in a dense order
that holds when two organizers reorder at once; partners asked, accepted by an admin of
theirs only, declined, removed, left, each in both organizations' audit logs."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from saha.campaigns import services
from saha.campaigns.models import Campaign, CampaignItem, CampaignStatus, Partner
from saha.campaigns.tests.helpers import (
    accepted_partner,
    new_campaign,
    new_event,
    new_petition,
    new_statement,
)
from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.organizations.roles import Role
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def positions(campaign: Campaign) -> list[tuple[int, int]]:
    """(position, item id) in order."""
    rows = CampaignItem.objects.filter(campaign=campaign).order_by("position", "pk")
    return list(rows.values_list("position", "pk"))


def actions(organization: Any, prefix: str) -> list[str]:
    rows = AuditEntry.objects.filter(organization=organization, action__startswith=prefix)
    return list(rows.order_by("pk").values_list("action", flat=True))


class TestCampaign:
    def test_a_new_campaign_is_a_draft_and_is_audited(self, org_a: Any, owner: Any) -> None:
        campaign = services.create_campaign(
            actor=owner.user,
            organization=org_a,
            slug="shore",
            titles={"en": "Save the shore"},
            goal_signatures=500,
        )
        assert campaign.status == CampaignStatus.DRAFT and campaign.created_by == owner.user
        assert actions(org_a, "campaigns.") == ["campaigns.campaign.created"]

    def test_a_title_and_sensible_goals_are_required(self, org_a: Any) -> None:
        with pytest.raises(DomainError) as error:
            services.create_campaign(actor="t", organization=org_a, slug="x", titles={"en": " "})
        assert error.value.code == "title_required"
        with pytest.raises(DomainError) as error:
            new_campaign(org_a, goal_rsvps=0)
        assert error.value.code == "invalid_goal"
        with pytest.raises(TypeError):
            new_campaign(org_a, status="published")

    def test_an_edit_writes_only_what_changed_and_keeps_the_status(self, org_a: Any) -> None:
        campaign = new_campaign(org_a, publish=False)
        stale = Campaign.objects.get(pk=campaign.pk)
        services.publish(actor="t", campaign=campaign)
        services.update_campaign(actor="t", campaign=stale, goal_rsvps=40, titles=campaign.titles)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.PUBLISHED and campaign.goal_rsvps == 40
        changed = AuditEntry.objects.get(action="campaigns.campaign.changed")
        assert changed.data == {"fields": ["goal_rsvps"]}
        services.update_campaign(actor="t", campaign=campaign, goal_rsvps=40)
        assert AuditEntry.objects.filter(action="campaigns.campaign.changed").count() == 1

    def test_publish_end_and_delete_each_from_their_own_state(self, org_a: Any) -> None:
        campaign = new_campaign(org_a, publish=False)
        assert not services.end(actor="t", campaign=campaign)
        assert services.publish(actor="t", campaign=campaign)
        assert campaign.published_at is not None
        assert not services.publish(actor="t", campaign=campaign)
        assert not services.delete_draft(actor="t", campaign=campaign)
        assert services.end(actor="t", campaign=campaign)
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.ENDED
        draft = new_campaign(org_a, slug="draft", publish=False)
        assert services.delete_draft(actor="t", campaign=draft)
        assert not Campaign.objects.filter(pk=draft.pk).exists()
        assert actions(org_a, "campaigns.campaign.")[-3:] == [
            "campaigns.campaign.ended",
            "campaigns.campaign.created",
            "campaigns.campaign.deleted",
        ]


class TestItems:
    def test_items_of_the_host_are_added_at_the_end_drafts_included(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        statement = new_statement(org_a)
        event = new_event(org_a)
        petition = new_petition(org_a)
        draft = new_petition(org_a, slug="later")
        draft.status = "draft"
        draft.save(update_fields=["status"])
        for target in (petition, event, statement, draft):
            services.add_item(actor="t", campaign=campaign, target=target)
        kinds = [
            i.kind for i in CampaignItem.objects.filter(campaign=campaign).order_by("position")
        ]
        assert kinds == ["petition", "event", "statement", "petition"]
        assert [p for p, _pk in positions(campaign)] == [0, 1, 2, 3]

    def test_another_organizations_item_is_refused_as_not_found(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        for theirs in (new_event(org_b), new_petition(org_b), new_statement(org_b)):
            with pytest.raises(DomainError) as error:
                services.add_item(actor="t", campaign=campaign, target=theirs)
            assert error.value.code == "not_found" and error.value.status == 404
        assert not CampaignItem.objects.exists()

    def test_the_same_target_twice_is_refused(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        event = new_event(org_a)
        services.add_item(actor="t", campaign=campaign, target=event)
        with pytest.raises(DomainError) as error:
            services.add_item(actor="t", campaign=campaign, target=event)
        assert error.value.code == "already_added"

    def test_moving_and_removing_keep_positions_dense(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        first, second, third = (
            services.add_item(actor="t", campaign=campaign, target=new_event(org_a, f"e{n}"))
            for n in range(3)
        )
        assert services.move_item(actor="t", item=third, direction="up")
        assert positions(campaign) == [(0, first.pk), (1, third.pk), (2, second.pk)]
        assert not services.move_item(actor="t", item=first, direction="up")  # the top
        assert services.move_item(actor="t", item=first, direction="down")
        assert positions(campaign) == [(0, third.pk), (1, first.pk), (2, second.pk)]
        assert services.remove_item(actor="t", item=third)
        assert positions(campaign) == [(0, first.pk), (1, second.pk)]
        assert not services.remove_item(actor="t", item=third)
        with pytest.raises(DomainError):
            services.move_item(actor="t", item=first, direction="sideways")
        assert actions(org_a, "campaigns.item.") == [
            *["campaigns.item.added"] * 3,
            "campaigns.item.moved",
            "campaigns.item.moved",
            "campaigns.item.removed",
        ]

    def test_labels_keep_known_languages_trimmed(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        item = services.add_item(actor="t", campaign=campaign, target=new_petition(org_a))
        services.set_labels(
            actor="t", item=item, labels={"en": "  Sign   now ", "xx": "No", "ar": " "}
        )
        assert CampaignItem.objects.get(pk=item.pk).labels == {"en": "Sign now"}
        assert AuditEntry.objects.filter(action="campaigns.item.labelled").count() == 1
        services.set_labels(actor="t", item=item, labels={"en": "Sign now"})
        assert AuditEntry.objects.filter(action="campaigns.item.labelled").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_organizers_reordering_at_once_leave_a_dense_order(org_a: Any) -> None:
    """Each move reads the order and writes it back; without the lock on the campaign two
    moves at once would write positions over each other (two items at one place)."""
    campaign = new_campaign(org_a)
    items = [
        services.add_item(actor="t", campaign=campaign, target=new_event(org_a, f"e{n}"))
        for n in range(8)
    ]
    rounds, threads = 10, 8
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def shuffle(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(rounds):
                item = CampaignItem.objects.get(pk=items[(index + n) % len(items)].pk)
                services.move_item(actor="t", item=item, direction="up" if index % 2 else "down")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=shuffle, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    order = positions(campaign)
    assert [p for p, _pk in order] == list(range(len(items)))
    assert sorted(pk for _p, pk in order) == sorted(item.pk for item in items)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_move_waits_for_the_move_in_progress(org_a: Any, monkeypatch: Any) -> None:
    """The second organizer's move reads the order only once the first one is written:
    the two apply one after the other, as if pressed in turn."""
    campaign = new_campaign(org_a)
    e0, e1, e2 = (
        services.add_item(actor="t", campaign=campaign, target=new_event(org_a, f"e{n}"))
        for n in range(3)
    )
    paused, release = threading.Event(), threading.Event()
    write = services._renumber

    def held(items: list[CampaignItem]) -> None:
        if threading.current_thread().name == "first":
            paused.set()  # the first move has read the order and holds the campaign
            release.wait(timeout=30)
        write(items)

    monkeypatch.setattr(services, "_renumber", held)
    errors: list[BaseException] = []

    def move(item: CampaignItem) -> None:
        try:
            services.move_item(actor="t", item=item, direction="up")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    first = threading.Thread(target=move, args=(e2,), name="first")
    second = threading.Thread(target=move, args=(e1,), name="second")
    first.start()
    assert paused.wait(timeout=30)
    second.start()
    second.join(timeout=2)
    waited = second.is_alive()
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert errors == [] and waited
    # e2 up: e0 e2 e1; then e1 up: e0 e1 e2 (read after the first was written).
    assert positions(campaign) == [(0, e0.pk), (1, e1.pk), (2, e2.pk)]


class TestPartners:
    def test_asked_then_accepted_by_an_admin_of_the_partner(
        self, org_a: Any, org_b: Any, owner: Any, outsider: Any
    ) -> None:
        campaign = new_campaign(org_a)
        assert services.invite_partner(actor=owner.user, campaign=campaign, partner=org_b)
        assert not services.invite_partner(actor=owner.user, campaign=campaign, partner=org_b)
        organizer_of_b = MembershipFactory(organization=org_b, role=Role.ORGANIZER).user
        for not_theirs in (owner.user, organizer_of_b):  # the host, and B's organizer
            with pytest.raises(DomainError) as error:
                services.accept_partnership(actor=not_theirs, campaign=campaign, partner=org_b)
            assert error.value.code == "not_allowed"
        assert Partner.objects.get(campaign=campaign).accepted_at is None
        assert services.accept_partnership(actor=outsider.user, campaign=campaign, partner=org_b)
        link = Partner.objects.get(campaign=campaign)
        assert link.accepted_at and link.accepted_by == outsider.user
        assert not services.accept_partnership(
            actor=outsider.user, campaign=campaign, partner=org_b
        )
        for organization in (org_a, org_b):
            assert actions(organization, "campaigns.partner.") == [
                "campaigns.partner.invited",
                "campaigns.partner.accepted",
            ]

    def test_an_organization_is_not_its_own_partner_nor_joins_an_ended_campaign(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        with pytest.raises(DomainError) as error:
            services.invite_partner(actor="t", campaign=campaign, partner=org_a)
        assert error.value.code == "own_campaign"
        services.end(actor="t", campaign=campaign)
        with pytest.raises(DomainError) as error:
            services.invite_partner(actor="t", campaign=campaign, partner=org_b)
        assert error.value.code == "campaign_ended"

    def test_declining_leaving_and_removal_are_logged_on_both_sides(
        self, org_a: Any, org_b: Any, owner: Any, outsider: Any
    ) -> None:
        campaign = new_campaign(org_a)
        services.invite_partner(actor=owner.user, campaign=campaign, partner=org_b)
        assert services.leave_partnership(actor=outsider.user, campaign=campaign, partner=org_b)
        accepted_partner(campaign, org_b)
        assert services.leave_partnership(actor=outsider.user, campaign=campaign, partner=org_b)
        accepted_partner(campaign, org_b)
        assert services.remove_partner(actor=owner.user, campaign=campaign, partner=org_b)
        assert not services.remove_partner(actor=owner.user, campaign=campaign, partner=org_b)
        assert not Partner.objects.exists()
        expected = ["declined", "left", "removed"]
        for organization in (org_a, org_b):
            done = [a.rsplit(".", 1)[1] for a in actions(organization, "campaigns.partner.")]
            assert [a for a in done if a in expected] == expected

    def test_a_member_of_the_host_cannot_leave_for_the_partner(
        self, org_a: Any, org_b: Any, owner: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        with pytest.raises(DomainError):
            services.leave_partnership(actor=owner.user, campaign=campaign, partner=org_b)
        assert Partner.objects.filter(accepted_at__isnull=False).count() == 1
