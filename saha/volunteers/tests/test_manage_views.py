"""The organizer's volunteer pages: who may open them, posting and editing needs in the
event's own time zone, shifts, the matching page (invite in bulk, assign a van), the
coverage board, attendance, the offers' search; bad input answered with a 4xx and the
form's errors, never a 500."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from saha.core.models import AuditEntry
from saha.organizations.roles import ROLE_PERMISSIONS, Permission, Role
from saha.testing.factories import MembershipFactory
from saha.volunteers import services
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Capability,
    Need,
    NeedStatus,
    OfferedCapability,
    Shift,
)
from saha.volunteers.tests.helpers import capability, make_event, make_need, make_offer, offered

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")


def url(name: str, *args: Any, slug: str = "org-a") -> str:
    return reverse(f"volunteers:{name}", args=[slug, *args])


def shown(page: bytes) -> set[str]:
    """The demo volunteers' names (V1, V2…) written on a page, as whole words."""
    return set(re.findall(r"\bV\d\b", page.decode()))


def need_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title_en": "Stewards at the square",
        "title_ar": "منظمون في الساحة",
        "capability": "",
        "wanted": "20",
        "starts": "2027-03-14T10:00",
        "ends": "2027-03-14T14:00",
        "location": "The square",
        "locality": "Hamra",
        "public_sign_up": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def coordinator(org_a: Any) -> Any:
    from saha.conftest import _persona

    return _persona(org_a, Role.VOLUNTEER_COORDINATOR)


class TestWhoMayOpen:
    def test_anonymous_is_sent_to_sign_in(self, client: Any, org_a: Any) -> None:
        response = client.get(url("manage_home"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_a_member_without_volunteers_manage_gets_403(self, checkin_staff: Any) -> None:
        assert checkin_staff.client().get(url("manage_home")).status_code == 403

    @pytest.mark.parametrize("name", ["manage_home", "offers", "capabilities"])
    def test_an_organizer_and_a_coordinator_open_them(
        self, organizer: Any, coordinator: Any, name: str
    ) -> None:
        for persona in (organizer, coordinator):
            assert persona.client().get(url(name)).status_code == 200

    def test_another_organizations_member_gets_404_everywhere(
        self, org_a: Any, organizer: Any, outsider: Any
    ) -> None:
        need = make_need(org_a)
        client = outsider.client()
        for name, args in (
            ("manage_home", ()),
            ("coverage", (need.event_id,)),
            ("manage_need", (need.pk,)),
            ("match", (need.pk,)),
        ):
            assert client.get(url(name, *args)).status_code == 404
        # nor through its own organization's address
        for name in ("manage_need", "match"):
            assert client.get(url(name, need.pk, slug="org-b")).status_code == 404
        assert client.get(url("coverage", need.event_id, slug="org-b")).status_code == 404
        response = client.post(url("match_invite", need.pk, slug="org-b"), {"offers": ["1"]})
        assert response.status_code == 404
        assert not Assignment.objects.exists()


class TestNeeds:
    def test_post_a_need_on_an_event_in_its_own_time_zone(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a, time_zone="Europe/Paris")
        steward = capability(org_a, "stewarding")
        response = organizer.client().post(
            url("need_new_event", event.pk), need_form(capability=str(steward.pk))
        )
        need = Need.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("manage_need", need.pk)
        paris = zoneinfo.ZoneInfo("Europe/Paris")
        assert need.starts_at == dt.datetime(2027, 3, 14, 10, tzinfo=paris)
        assert need.event == event and need.wanted == 20 and need.capability == steward
        assert need.titles == {"en": "Stewards at the square", "ar": "منظمون في الساحة"}
        assert need.locality_key == services.fold_locality("Hamra")
        assert AuditEntry.objects.filter(action="volunteers.need.created").count() == 1

    def test_vans_with_at_least_eight_seats(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        driver = capability(org_a, "driver")
        organizer.client().post(
            url("need_new_event", event.pk),
            need_form(capability=str(driver.pk), wanted="3", min_quantity="8"),
        )
        need = Need.objects.get()
        assert (need.wanted, need.min_quantity) == (3, 8)

    @pytest.mark.parametrize(
        "bad",
        [
            {"wanted": ""},
            {"wanted": "0"},
            {"wanted": "many"},
            {"ends": "2027-03-14T09:00"},
            {"starts": "tomorrow"},
            {"capability": "999999"},
            {"min_quantity": "8"},  # stewards are people, not units
            {"latitude": "33.9"},
            {"starts": "2027-03-28T00:30"},  # skipped: Beirut's clocks go forward then
        ],
    )
    def test_bad_input_is_a_400_with_the_form_and_nothing_saved(
        self, org_a: Any, organizer: Any, bad: dict[str, str]
    ) -> None:
        event = make_event(org_a)
        steward = capability(org_a, "stewarding")
        data = need_form(**{"capability": str(steward.pk), **bad})
        response = organizer.client().post(url("need_new_event", event.pk), data)
        assert response.status_code == 400
        assert b'class="errors"' in response.content or b"errorlist" in response.content
        assert not Need.objects.exists()

    def test_a_need_on_a_campaign(self, org_a: Any, organizer: Any) -> None:
        from saha.campaigns.models import Campaign

        campaign = Campaign.objects.create(organization=org_a, slug="c", titles={"en": "C"})
        steward = capability(org_a, "stewarding")
        response = organizer.client().post(
            url("need_new_campaign", campaign.pk), need_form(capability=str(steward.pk))
        )
        assert response.status_code == 302
        need = Need.objects.get()
        assert need.campaign == campaign and need.starts_at == dt.datetime(
            2027, 3, 14, 10, tzinfo=BEIRUT
        )

    def test_the_form_starts_from_the_events_time(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        page = organizer.client().get(url("need_new_event", event.pk)).content.decode()
        local = event.starts_at.astimezone(BEIRUT).strftime("%Y-%m-%dT%H:%M")
        assert f'value="{local}"' in page

    def test_edit_keeps_the_capability_and_saves_the_rest(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a, wanted=2)
        van = capability(org_a, "driver")
        form = need_form(capability=str(van.pk), wanted="5", starts="2027-03-14T09:00")
        response = organizer.client().post(url("need_edit", need.pk), form)
        assert response.status_code == 302
        need.refresh_from_db()
        assert need.wanted == 5 and need.capability.key == "stewarding"
        assert need.starts_at == dt.datetime(2027, 3, 14, 9, tzinfo=BEIRUT)

    def test_fewer_wanted_than_already_in_is_refused_on_the_form(
        self, org_a: Any, organizer: Any
    ) -> None:
        need = make_need(org_a, wanted=2)
        for n in range(2):
            services.assign(
                actor="t", need=need, offered=offered(make_offer(org_a, n), "stewarding")
            )
        form = need_form(wanted="1", starts=_wall(need.starts_at), ends=_wall(need.ends_at))
        response = organizer.client().post(url("need_edit", need.pk), form)
        assert response.status_code == 409
        assert Need.objects.get(pk=need.pk).wanted == 2

    def test_close_and_reopen(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        client = organizer.client()
        assert client.post(url("need_close", need.pk)).status_code == 302
        assert Need.objects.get(pk=need.pk).status == NeedStatus.CLOSED
        assert client.get(url("need_close", need.pk)).status_code == 405
        client.post(url("need_reopen", need.pk))
        assert Need.objects.get(pk=need.pk).status == NeedStatus.OPEN

    def test_shifts_added_and_removed(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        client = organizer.client()
        shift = {"starts": "2027-03-14T10:00", "ends": "2027-03-14T12:00", "capacity": "5"}
        assert client.post(url("shift_add", need.pk), shift).status_code == 302
        added = Shift.objects.get(need=need)
        assert added.starts_at == dt.datetime(2027, 3, 14, 10, tzinfo=BEIRUT)
        bad = {**shift, "capacity": "0"}
        assert client.post(url("shift_add", need.pk), bad).status_code == 400
        backwards = {**shift, "ends": "2027-03-14T08:00"}
        assert client.post(url("shift_add", need.pk), backwards).status_code == 400
        assert client.post(url("shift_remove", need.pk, added.pk)).status_code == 302
        assert not Shift.objects.exists()
        assert client.post(url("shift_remove", need.pk, added.pk)).status_code == 404

    def test_a_shift_with_volunteers_is_not_removed(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        shift = services.add_shift(
            actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=2
        )
        services.assign(
            actor="t", need=need, offered=offered(make_offer(org_a, 1), "stewarding"), shift=shift
        )
        response = organizer.client().post(url("shift_remove", need.pk, shift.pk))
        assert response.status_code == 409
        assert Shift.objects.filter(pk=shift.pk).exists()


def _wall(moment: dt.datetime) -> str:
    return moment.astimezone(BEIRUT).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.usefixtures("english")
class TestMatching:
    def test_candidates_with_their_reasons(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        make_offer(org_a, 1, locality="Hamra")
        page = organizer.client().get(url("match", need.pk)).content.decode()
        assert "V1" in page
        assert "No past shifts recorded yet" in page
        assert 'name="offers"' in page

    def test_names_only_for_who_may_see_people(
        self, org_a: Any, coordinator: Any, monkeypatch: Any
    ) -> None:
        need = make_need(org_a)
        offer = make_offer(org_a, 1)
        without = ROLE_PERMISSIONS[Role.VOLUNTEER_COORDINATOR] - {Permission.VIEW_PEOPLE}
        monkeypatch.setitem(ROLE_PERMISSIONS, Role.VOLUNTEER_COORDINATOR, without)
        page = coordinator.client().get(url("match", need.pk)).content.decode()
        assert "V1" not in page and f"#{offer.person_id}" in page

    def test_invite_selected_sends_one_invitation_each(
        self, org_a: Any, organizer: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        need = make_need(org_a, wanted=3)
        offers = [make_offer(org_a, n) for n in range(3)]
        client = organizer.client()
        chosen = {"offers": [str(offers[0].pk), str(offers[2].pk)]}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("match_invite", need.pk), chosen)
        assert response.status_code == 302
        invited = Assignment.objects.filter(need=need, status=AssignmentStatus.INVITED)
        assert {a.person_id for a in invited} == {offers[0].person_id, offers[2].person_id}
        # invited people leave the list of candidates
        page = client.get(url("match", need.pk)).content.decode()
        assert f'value="{offers[1].pk}"' in page and f'value="{offers[0].pk}"' not in page
        client.post(url("match_invite", need.pk), chosen)
        assert invited.count() == 2

    @pytest.mark.parametrize("chosen", [{}, {"offers": ["999999"]}, {"offers": ["x"]}])
    def test_a_bad_selection_is_a_400(self, org_a: Any, organizer: Any, chosen: Any) -> None:
        need = make_need(org_a)
        make_offer(org_a, 1)
        response = organizer.client().post(url("match_invite", need.pk), chosen)
        assert response.status_code == 400
        assert not Assignment.objects.exists()

    def test_another_organizations_offer_cannot_be_invited(
        self, org_a: Any, org_b: Any, organizer: Any
    ) -> None:
        need = make_need(org_a)
        theirs = make_offer(org_b, 1)
        response = organizer.client().post(url("match_invite", need.pk), {"offers": [theirs.pk]})
        assert response.status_code == 400
        assert not Assignment.objects.exists()

    def test_with_shifts_the_shift_is_chosen(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        shift = services.add_shift(
            actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=2
        )
        offer = make_offer(org_a, 1)
        client = organizer.client()
        assert client.post(url("match_invite", need.pk), {"offers": [offer.pk]}).status_code == 400
        data = {"offers": [offer.pk], "shift": shift.pk}
        assert client.post(url("match_invite", need.pk), data).status_code == 302
        assert Assignment.objects.get().shift == shift

    def test_assign_a_van_then_a_full_need_and_an_exhausted_van_are_said(
        self, org_a: Any, organizer: Any
    ) -> None:
        need = make_need(org_a, "driver", wanted=1, min_quantity=8, titles={"en": "Vans"})
        other = make_need(org_a, "driver", event=need.event, wanted=2, min_quantity=8)
        van = offered(make_offer(org_a, 1, gives={"driver": 9}), "driver")
        second = offered(make_offer(org_a, 2, gives={"driver": 12}), "driver")
        client = organizer.client()
        response = client.post(url("match_assign", need.pk), {"offered": van.pk})
        assert response.status_code == 302
        assert OfferedCapability.objects.get(pk=van.pk).committed == 8
        full = client.post(url("match_assign", need.pk), {"offered": second.pk})
        assert full.status_code == 409
        assert "already covered" in full.content.decode()
        exhausted = client.post(url("match_assign", other.pk), {"offered": van.pk})
        assert exhausted.status_code in (400, 409)  # no longer a candidate, or refused
        assert OfferedCapability.objects.get(pk=van.pk).committed == 8
        assert Need.objects.get(pk=other.pk).filled == 0

    @pytest.mark.parametrize("data", [{}, {"offered": "x"}, {"offered": "999999"}])
    def test_assign_with_bad_input_is_a_400(self, org_a: Any, organizer: Any, data: Any) -> None:
        need = make_need(org_a, "driver", wanted=1, min_quantity=8)
        make_offer(org_a, 1, gives={"driver": 9})
        response = organizer.client().post(url("match_assign", need.pk), data)
        assert response.status_code == 400
        assert not Assignment.objects.exists()

    def test_a_skill_offer_cannot_be_assigned_to_a_van_need(
        self, org_a: Any, organizer: Any
    ) -> None:
        need = make_need(org_a, "driver", wanted=1, min_quantity=8)
        steward = offered(make_offer(org_a, 1), "stewarding")
        response = organizer.client().post(url("match_assign", need.pk), {"offered": steward.pk})
        assert response.status_code == 400
        assert not Assignment.objects.exists()

    def test_the_matching_page_of_a_covered_need_says_so(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a, wanted=1)
        services.assign(actor="t", need=need, offered=offered(make_offer(org_a, 1), "stewarding"))
        response = organizer.client().get(url("match", need.pk))
        assert response.status_code == 200


class TestBoardAndAttendance:
    def test_the_board_shows_every_need_gaps_first_and_full_ones_covered(
        self, org_a: Any, organizer: Any
    ) -> None:
        event = make_event(org_a)
        full = make_need(org_a, event=event, wanted=1, titles={"en": "Covered one"})
        make_need(org_a, event=event, wanted=3, titles={"en": "Gap one"})
        services.assign(actor="t", need=full, offered=offered(make_offer(org_a, 1), "stewarding"))
        page = organizer.client().get(url("coverage", event.pk)).content.decode()
        assert page.index("Gap one") < page.index("Covered one")
        assert "(100%)" in page and "Covered" in page

    def test_attendance_and_hours(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a, wanted=3)
        came, missed = (
            services.assign(
                actor="t", need=need, offered=offered(make_offer(org_a, n), "stewarding")
            )
            for n in range(2)
        )
        data = {f"attended_{came.pk}": "yes", f"hours_{came.pk}": "3.5"}
        data[f"attended_{missed.pk}"] = "no"
        response = organizer.client().post(url("attendance", need.pk), data)
        assert response.status_code == 302
        came.refresh_from_db()
        missed.refresh_from_db()
        assert (came.attended, came.hours) == (True, Decimal("3.5"))
        assert missed.attended is False
        assert AuditEntry.objects.filter(action="volunteers.assignment.attendance").count() == 2

    def test_bad_hours_are_a_400(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        row = services.assign(
            actor="t", need=need, offered=offered(make_offer(org_a, 1), "stewarding")
        )
        data = {f"attended_{row.pk}": "yes", f"hours_{row.pk}": "-2"}
        assert organizer.client().post(url("attendance", need.pk), data).status_code == 400
        data = {f"attended_{row.pk}": "maybe"}
        assert organizer.client().post(url("attendance", need.pk), data).status_code == 400
        row.refresh_from_db()
        assert row.attended is None

    def test_release_gives_the_place_back(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a, wanted=1)
        row = services.assign(
            actor="t", need=need, offered=offered(make_offer(org_a, 1), "stewarding")
        )
        response = organizer.client().post(url("release", need.pk, row.pk))
        assert response.status_code == 302
        assert Need.objects.get(pk=need.pk).filled == 0

    def test_the_need_page(self, org_a: Any, organizer: Any) -> None:
        need = make_need(org_a)
        services.assign(actor="t", need=need, offered=offered(make_offer(org_a, 1), "stewarding"))
        response = organizer.client().get(url("manage_need", need.pk))
        assert response.status_code == 200
        assert "V1" in response.content.decode()


class TestOffers:
    def test_search_by_capability_and_locality(
        self, org_a: Any, org_b: Any, organizer: Any
    ) -> None:
        make_offer(org_a, 1, gives={"driver": 8}, locality="Hamra")
        make_offer(org_a, 2, gives={"stewarding": None}, locality="Hamra")
        make_offer(org_a, 3, gives={"driver": 4}, locality="Tripoli")
        make_offer(org_b, 4, gives={"stewarding": None}, locality="Hamra")
        driver = capability(org_a, "driver")
        client = organizer.client()
        page = client.get(url("offers"), {"capability": driver.pk, "locality": "ham"}).content
        # Whole words: a random token on the page may hold "V3" inside it.
        assert shown(page) == {"V1"}
        everyone = client.get(url("offers")).content
        assert shown(everyone) == {"V1", "V2", "V3"}

    def test_a_bad_search_is_a_400(self, org_a: Any, organizer: Any) -> None:
        response = organizer.client().get(url("offers"), {"capability": "nothing"})
        assert response.status_code == 400

    def test_pages_by_id_in_a_constant_number_of_queries(
        self, org_a: Any, organizer: Any, django_assert_max_num_queries: Any
    ) -> None:
        for n in range(55):
            make_offer(org_a, n, gives={"stewarding": None, "driver": 4})
        client = organizer.client()
        # Sessions, the member and the top bar take about ten; the page itself five,
        # however many offers (55 here, two capabilities each).
        with django_assert_max_num_queries(18):
            first = client.get(url("offers"))
        assert first.status_code == 200 and "after=" in first.content.decode()
        after = first.context["offers"][-1].pk
        second = client.get(url("offers"), {"after": after})
        assert len(second.context["offers"]) == 5

    def test_names_hidden_without_people_view(
        self, org_a: Any, coordinator: Any, monkeypatch: Any
    ) -> None:
        make_offer(org_a, 1)
        without = ROLE_PERMISSIONS[Role.VOLUNTEER_COORDINATOR] - {Permission.VIEW_PEOPLE}
        monkeypatch.setitem(ROLE_PERMISSIONS, Role.VOLUNTEER_COORDINATOR, without)
        assert shown(coordinator.client().get(url("offers")).content) == set()


class TestHome:
    def test_upcoming_events_with_their_needs(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        make_event(
            org_a,
            slug="old",
            starts_at=timezone.now() - dt.timedelta(days=9),
            ends_at=timezone.now() - dt.timedelta(days=8),
            titles={"en": "Old one"},
        )
        make_need(org_a, event=event, wanted=4)
        page = organizer.client().get(url("manage_home")).content.decode()
        assert url("coverage", event.pk) in page
        assert "Old one" not in page


def test_a_member_of_two_organizations_sees_each_ones_own(org_a: Any, org_b: Any) -> None:
    member = MembershipFactory(organization=org_a, role=Role.ORGANIZER)
    MembershipFactory(organization=org_b, user=member.user, role=Role.ORGANIZER)
    theirs = make_need(org_b)
    from django.test import Client

    client = Client()
    client.force_login(member.user)
    assert client.get(url("manage_need", theirs.pk, slug="org-a")).status_code == 404
    assert client.get(url("manage_need", theirs.pk, slug="org-b")).status_code == 200


class TestCapabilities:
    def test_the_defaults_are_listed_and_one_is_added(self, org_a: Any, organizer: Any) -> None:
        client = organizer.client()
        page = client.get(url("capabilities")).content.decode()
        assert "Sign language" in page or "لغة الإشارة" in page
        data = {"name_en": "Boats", "name_ar": "قوارب", "kind": "resource", "unit": "seats"}
        assert client.post(url("capabilities"), data).status_code == 302
        boats = Capability.objects.get(organization=org_a, names__en="Boats")
        assert (boats.kind, boats.unit, boats.names["ar"]) == ("resource", "seats", "قوارب")
        assert AuditEntry.objects.filter(action="volunteers.capability.added").count() == 1

    @pytest.mark.parametrize(
        "bad",
        [
            {"kind": "skill"},  # no name
            {"name_en": "Boats", "kind": "boat"},
            {"name_en": "Boats", "kind": "resource", "unit": "people"},
            {"name_en": "x" * 101, "kind": "skill"},
        ],
    )
    def test_bad_input_is_a_400(self, org_a: Any, organizer: Any, bad: dict[str, str]) -> None:
        response = organizer.client().post(url("capabilities"), {"unit": "people", **bad})
        assert response.status_code == 400
        assert not Capability.objects.filter(names__en__startswith="Boats").exists()

    def test_renamed_and_switched_off(self, org_a: Any, organizer: Any) -> None:
        cooking = capability(org_a, "cooking")
        client = organizer.client()
        data = {"name_en": "Cooking for the crowd", "name_ar": "طبخ"}
        assert client.post(url("capability_edit", cooking.pk), data).status_code == 302
        cooking.refresh_from_db()
        assert cooking.names == {"en": "Cooking for the crowd", "ar": "طبخ"}
        assert not cooking.active  # the box was left unticked
        assert client.post(url("capability_edit", cooking.pk), {}).status_code == 400

    def test_another_organizations_capability_is_a_404(
        self, org_a: Any, org_b: Any, organizer: Any
    ) -> None:
        theirs = capability(org_b, "cooking")
        response = organizer.client().post(url("capability_edit", theirs.pk), {"name_en": "Mine"})
        assert response.status_code == 404
        assert Capability.objects.get(pk=theirs.pk).names["en"] == "Cooking"
