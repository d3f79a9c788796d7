"""The organizer's campaign pages: who may open and change what; a partner sees the campaign
read-only and only its own sign-ups; a member of any other organization gets 404; and
the pages cost the same number of queries whatever the number of items."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from saha.campaigns import services
from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup, CampaignStatus, Partner
from saha.campaigns.tests.helpers import (
    accepted_partner,
    hub_url,
    manage_url,
    new_campaign,
    new_event,
    new_petition,
    new_statement,
    post_join,
)
from saha.core.models import AuditEntry
from saha.events.models import EventStatus
from saha.organizations.roles import Role
from saha.supporters.tests.people_factories import make_person
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

LIST = "/manage/org-a/campaigns/"


def member(organization: Any, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=organization, role=role).user)
    return client


def item_ids(campaign: Campaign) -> list[int]:
    rows = CampaignItem.objects.filter(campaign=campaign).order_by("position")
    return list(rows.values_list("pk", flat=True))


class TestOrganizer:
    def test_create_edit_publish_end(self, organizer: Any) -> None:
        client = organizer.client()
        assert client.get(f"{LIST}new/").status_code == 200
        assert client.post(f"{LIST}new/", {"title_en": ""}).status_code == 400
        response = client.post(
            f"{LIST}new/",
            {"title_en": "Save the shore", "title_ar": "أنقذوا الشاطئ", "goal_signatures": "500"},
        )
        campaign = Campaign.objects.get()
        assert response.status_code == 302 and response["Location"] == manage_url(campaign)
        assert campaign.slug == "save-the-shore" and campaign.status == CampaignStatus.DRAFT
        assert campaign.goal_signatures == 500 and campaign.created_by == organizer.user
        response = client.post(
            manage_url(campaign, "edit/"),
            {"title_en": "Save the shore", "summary_en": "Keep it open.", "goal_rsvps": "0"},
        )
        assert response.status_code == 400  # a goal of 0 is no goal
        client.post(
            manage_url(campaign, "edit/"),
            {"title_en": "Save the shore", "summary_en": "Keep it open.", "goal_rsvps": "40"},
        )
        campaign.refresh_from_db()
        assert campaign.summaries == {"en": "Keep it open."} and campaign.goal_signatures is None
        assert campaign.goal_rsvps == 40
        page = client.get(manage_url(campaign, "publish/")).content.decode()
        assert 'name="confirm" value="1"' in page  # asked first, without a script
        assert Campaign.objects.get().status == CampaignStatus.DRAFT
        client.post(manage_url(campaign, "publish/"), {"confirm": "1"})
        assert Campaign.objects.get().status == CampaignStatus.PUBLISHED
        client.post(manage_url(campaign, "end/"), {})  # no confirm: nothing
        assert Campaign.objects.get().status == CampaignStatus.PUBLISHED
        client.post(manage_url(campaign, "end/"), {"confirm": "1"})
        assert Campaign.objects.get().status == CampaignStatus.ENDED
        assert client.post(manage_url(campaign, "delete/"), {"confirm": "1"}).status_code == 302
        assert Campaign.objects.exists()  # only a draft can be deleted

    def test_deleting_a_draft(self, organizer: Any, org_a: Any) -> None:
        campaign = new_campaign(org_a, publish=False)
        response = organizer.client().post(manage_url(campaign, "delete/"), {"confirm": "1"})
        assert response.status_code == 302 and response["Location"] == LIST
        assert not Campaign.objects.exists()

    def test_items_added_from_the_select_moved_relabelled_removed(
        self, organizer: Any, org_a: Any, org_b: Any
    ) -> None:
        client = organizer.client()
        campaign = new_campaign(org_a)
        event, petition = new_event(org_a), new_petition(org_a)
        statement = new_statement(org_a)
        theirs = new_event(org_b, slug="theirs")
        page = client.get(manage_url(campaign)).content.decode()
        for value in (f"event:{event.pk}", f"petition:{petition.pk}", f"statement:{statement.pk}"):
            assert f'value="{value}"' in page
        assert f'value="event:{theirs.pk}"' not in page
        add = manage_url(campaign, "items/")
        response = client.post(add, {"target": f"event:{theirs.pk}"})
        assert response.status_code == 400 and not CampaignItem.objects.exists()
        for target in (f"event:{event.pk}", f"petition:{petition.pk}", "nonsense", "event:x"):
            client.post(add, {"target": target})
        first, second = item_ids(campaign)
        client.post(manage_url(campaign, f"items/{second}/move/"), {"direction": "up"})
        assert item_ids(campaign) == [second, first]
        response = client.post(
            manage_url(campaign, f"items/{first}/button/"), {"label_en": "Come on Sunday"}
        )
        assert response.status_code == 302
        assert CampaignItem.objects.get(pk=first).labels == {"en": "Come on Sunday"}
        client.post(manage_url(campaign, f"items/{second}/remove/"))
        assert item_ids(campaign) == [first]
        assert CampaignItem.objects.get().position == 0

    def test_partners_asked_by_web_address_and_removed(
        self, organizer: Any, org_a: Any, org_b: Any
    ) -> None:
        client = organizer.client()
        campaign = new_campaign(org_a)
        invite = manage_url(campaign, "partners/")
        assert client.post(invite, {"organization": "nobody"}).status_code == 400
        assert client.post(invite, {"organization": "org-a"}).status_code == 400
        client.post(invite, {"organization": "/o/org-b/"})
        link = Partner.objects.get()
        assert link.partner == org_b and link.accepted_at is None
        page = client.get(manage_url(campaign)).content.decode()
        assert 'data-partner="org-b"' in page
        client.post(manage_url(campaign, f"partners/{org_b.pk}/remove/"))
        assert not Partner.objects.exists()
        assert AuditEntry.objects.filter(
            organization=org_b, action="campaigns.partner.removed"
        ).exists()


class TestPermissions:
    def test_members_without_content_rights_are_refused(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        for role in (Role.CHECKIN_STAFF, Role.VIEWER):
            client = member(org_a, role)
            assert client.get(LIST).status_code == 403
            assert client.get(manage_url(campaign)).status_code == 403
            assert client.post(manage_url(campaign, "end/"), {"confirm": "1"}).status_code == 403
        assert Campaign.objects.get().status == CampaignStatus.PUBLISHED

    def test_the_sign_ups_need_people_rights(self, org_a: Any) -> None:
        campaign = new_campaign(org_a)
        assert member(org_a, Role.VIEWER).get(manage_url(campaign, "signups/")).status_code == 403
        steward = member(org_a, Role.DATA_STEWARD)
        assert steward.get(manage_url(campaign, "signups/")).status_code == 200

    def test_a_member_of_an_unrelated_organization_gets_404(
        self, org_a: Any, outsider: Any
    ) -> None:
        campaign = new_campaign(org_a)
        client = outsider.client()
        for suffix in ("", "signups/", "edit/", "publish/"):
            assert client.get(manage_url(campaign, suffix)).status_code == 404
            assert (
                client.get(manage_url(campaign, suffix, outsider.organization)).status_code == 404
            )
        for suffix in ("partnership/accept/", "partnership/leave/", "items/"):
            url = manage_url(campaign, suffix, outsider.organization)
            assert client.post(url, {"target": "x"}).status_code == 404
        assert "shore" not in client.get("/manage/org-b/campaigns/").content.decode()

    def test_invitations_are_answered_by_an_admin_of_the_partner_only(
        self, org_a: Any, org_b: Any, outsider: Any
    ) -> None:
        campaign = new_campaign(org_a)
        services.invite_partner(actor="t", campaign=campaign, partner=org_b)
        organizer_b = member(org_b, Role.ORGANIZER)
        listing = organizer_b.get("/manage/org-b/campaigns/").content.decode()
        assert (
            f'data-invitation="{campaign.pk}"' in listing and "partnership/accept/" not in listing
        )
        accept = manage_url(campaign, "partnership/accept/", org_b)
        assert organizer_b.post(accept).status_code == 403
        assert organizer_b.get(manage_url(campaign, "", org_b)).status_code == 404
        client = outsider.client()  # B's owner
        assert "partnership/accept/" in client.get("/manage/org-b/campaigns/").content.decode()
        assert client.post(accept).status_code == 302
        assert Partner.objects.get().accepted_by == outsider.user
        assert organizer_b.get(manage_url(campaign, "", org_b)).status_code == 200

    def test_declining_from_the_list(self, org_a: Any, org_b: Any, outsider: Any) -> None:
        campaign = new_campaign(org_a)
        services.invite_partner(actor="t", campaign=campaign, partner=org_b)
        response = outsider.client().post(manage_url(campaign, "partnership/leave/", org_b))
        assert response.status_code == 302 and not Partner.objects.exists()
        assert AuditEntry.objects.filter(
            organization=org_a, action="campaigns.partner.declined"
        ).exists()


class TestPartnerView:
    @pytest.fixture
    def shared(self, client: Client, org_a: Any, org_b: Any) -> Campaign:
        """A campaign of A with B as partner: one joiner ticked B's box, one did not."""
        campaign = new_campaign(org_a)
        services.add_item(actor="t", campaign=campaign, target=new_petition(org_a))
        draft = new_event(org_a, slug="secret-meeting", status=EventStatus.DRAFT)
        services.add_item(actor="t", campaign=campaign, target=draft)
        accepted_partner(campaign, org_b)
        post_join(
            client,
            campaign,
            email="ticked@example.org",
            given_name="Ticked",
            **{f"partner_{org_b.pk}": "on"},
        )
        post_join(client, campaign, email="host.only@example.org", given_name="Hostonly")
        return campaign

    def test_a_partner_sees_the_campaign_read_only_without_drafts(
        self, shared: Campaign, org_b: Any, outsider: Any
    ) -> None:
        page = outsider.client().get(manage_url(shared, "", org_b)).content.decode()
        assert "partner-note" in page and 'data-kind="petition"' in page
        assert "secret-meeting" not in page and 'data-kind="event"' not in page
        assert "/items/" not in page and "/partners/" not in page and "/edit/" not in page
        assert "partnership/leave/" in page

    def test_a_partner_sees_only_its_own_sign_ups(
        self, shared: Campaign, org_a: Any, org_b: Any, outsider: Any, organizer: Any
    ) -> None:
        page = outsider.client().get(manage_url(shared, "signups/", org_b)).content.decode()
        assert "Ticked" in page and "Hostonly" not in page
        [mine] = CampaignSignup.objects.filter(organization=org_b)
        assert f'href="/manage/org-b/people/{mine.person_id}/"' in page
        host_page = organizer.client().get(manage_url(shared, "signups/")).content.decode()
        assert "Ticked" in host_page and "Hostonly" in host_page
        assert "/manage/org-a/people/" in host_page and "/manage/org-b/" not in host_page
        # The host's changing pages are not the partner's.
        client = outsider.client()
        for suffix in ("edit/", "publish/", "end/"):
            assert client.get(manage_url(shared, suffix, org_b)).status_code == 404

    def test_a_partner_that_left_still_sees_who_came_to_it(
        self, shared: Campaign, org_b: Any, outsider: Any
    ) -> None:
        services.leave_partnership(actor=outsider.user, campaign=shared, partner=org_b)
        page = outsider.client().get(manage_url(shared, "signups/", org_b)).content.decode()
        assert "Ticked" in page and "Hostonly" not in page


def test_sign_ups_are_paged_by_key(org_a: Any, organizer: Any) -> None:
    campaign = new_campaign(org_a)
    for n in range(53):
        person = make_person(org_a, email=f"j{n}@example.org", given_name=f"Joiner{n:02}")
        CampaignSignup.objects.create(
            organization=org_a, campaign=campaign, person=person, source="join"
        )
    client = organizer.client()
    page = client.get(manage_url(campaign, "signups/")).content.decode()
    assert page.count("<tr>") == 51  # the header and 50
    after = re.search(r'href="\?after=(\d+)"', page)
    assert after is not None and "Joiner52" in page and "Joiner02" not in page
    older = client.get(manage_url(campaign, f"signups/?after={after.group(1)}")).content.decode()
    assert older.count("<tr>") == 4 and "Joiner00" in older and 'href="?after=' not in older
    assert client.get(manage_url(campaign, "signups/?after=x")).status_code == 200


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return len(queries)


def grow(campaign: Campaign, organization: Any, start: int, count: int) -> None:
    for n in range(start, start + count):
        for target in (
            new_event(organization, f"e{n}"),
            new_petition(organization, f"p{n}"),
            new_statement(organization, f"s{n}"),
        ):
            services.add_item(actor="t", campaign=campaign, target=target)


def test_the_pages_cost_the_same_queries_whatever_the_items(
    client: Client, org_a: Any, org_b: Any, organizer: Any, outsider: Any
) -> None:
    campaign = new_campaign(org_a, goal_signatures=10, goal_rsvps=10, goal_check_ins=10)
    accepted_partner(campaign, org_b)
    grow(campaign, org_a, 0, 2)
    manager = organizer.client()
    partner = outsider.client()
    for warm in (manager, partner):  # the session's first write is not the page's
        warm.get("/manage/org-a/campaigns/")
        warm.get("/manage/org-b/campaigns/")
    # Nor the first showing of the volunteers' offer form on the hub, which seeds the
    # organization's default capabilities once (four queries, whatever the items).
    client.get(hub_url(campaign))
    before = [
        queries_for(client, hub_url(campaign)),
        queries_for(manager, manage_url(campaign)),
        queries_for(partner, manage_url(campaign, "", org_b)),
    ]
    grow(campaign, org_a, 2, 6)
    after = [
        queries_for(client, hub_url(campaign)),
        queries_for(manager, manage_url(campaign)),
        queries_for(partner, manage_url(campaign, "", org_b)),
    ]
    assert after == before


HUGE = "99999999999999999999"  # past any database's integer: never a row, never a 500


def test_ids_too_large_for_any_row_are_not_found(
    org_a: Any, org_b: Any, organizer: Any, owner: Any
) -> None:
    campaign = new_campaign(org_a)
    accepted_partner(campaign, org_b)
    services.add_item(actor="t", campaign=campaign, target=new_event(org_a))
    item = CampaignItem.objects.get()
    client = organizer.client()
    base = manage_url(campaign)
    for url in (
        f"{base}partners/{HUGE}/remove/",
        f"{base}items/{HUGE}/remove/",
        f"{base}items/{HUGE}/move/",
        f"{base}items/{HUGE}/button/",
        f"{LIST}{HUGE}/items/{item.pk}/remove/",
        f"{LIST}{HUGE}/partners/{org_b.pk}/remove/",
        f"{LIST}{HUGE}/edit/",
        f"{LIST}{HUGE}/publish/",
    ):
        assert client.post(url, {"direction": "up", "confirm": "1"}).status_code == 404, url
    for url in (f"{LIST}{HUGE}/", f"{LIST}{HUGE}/signups/", f"{base}items/{HUGE}/button/"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"{base}signups/?after={HUGE}").status_code == 200
    answer = owner.client()
    for url in (f"{LIST}{HUGE}/partnership/accept/", f"{LIST}{HUGE}/partnership/leave/"):
        assert answer.post(url).status_code == 404, url
    assert Partner.objects.filter(campaign=campaign, accepted_at__isnull=False).count() == 1
    assert CampaignItem.objects.count() == 1
