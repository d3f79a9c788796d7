"""The organizer's event pages: create, edit, copy, publish, cancel, co-hosts, attendees,
export and writing to them, seen by each persona, and by another organization."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.events import organizer, roster, services
from saha.events.models import CoHost, Event, EventStatus, Rsvp, RsvpStatus
from saha.events.tests.test_rsvp import answer, make_event
from saha.organizations.roles import Role
from saha.supporters.models import ExportRequest, Person, Segment
from saha.supporters.services import PersonData
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")


def url(name: str, event: Event | None = None, *extra: Any, slug: str = "org-a") -> str:
    args: list[Any] = [slug]
    if event is not None:
        args.append(event.pk)
    return reverse(f"events:{name}", args=[*args, *extra])


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title_en": "Neighbourhood clean-up",
        "title_ar": "تنظيف الحي",
        "description_en": "Bring gloves.",
        "kind": "meeting",
        "time_zone": "Asia/Beirut",
        "starts": "2027-03-27T11:00",
        "ends": "2027-03-27T13:00",
        "venue_name": "The square",
        "address": "1 Harbour Road",
        "latitude": "33.89",
        "longitude": "35.50",
        "capacity": "100",
        "waiting_list": "on",
        "visibility": "public",
        "reminders": ["1440", "120"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def named(event: Event, given: str, family: str = "") -> Rsvp:
    data = PersonData(email=f"{given.lower()}@example.org", given_name=given, family_name=family)
    return services.rsvp(event=event, data=data).rsvp


def wall(moment: dt.datetime) -> str:
    return moment.astimezone(BEIRUT).strftime("%Y-%m-%dT%H:%M")


class TestCreate:
    def test_an_organizer_creates_a_draft_in_the_events_own_time_zone(self, organizer: Any) -> None:
        response = organizer.client().post(url("manage_new"), form())
        event = Event.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("manage_event", event)
        assert event.status == EventStatus.DRAFT
        assert event.slug == "neighbourhood-clean-up"
        assert event.titles == {"en": "Neighbourhood clean-up", "ar": "تنظيف الحي"}
        assert event.starts_at == dt.datetime(2027, 3, 27, 11, 0, tzinfo=BEIRUT)
        assert event.reminders == [1440, 120]
        assert event.capacity == 100
        assert AuditEntry.objects.filter(action="events.event.created").count() == 1

    def test_the_events_own_zone_decides_not_the_organizations(self, organizer: Any) -> None:
        # 02:30 on 29 March 2026 does not exist in Paris, but exists in Beirut; and
        # 00:30 on 27 March 2026 does not exist in Beirut, but exists in Paris.
        response = organizer.client().post(
            url("manage_new"),
            form(time_zone="Europe/Paris", starts="2026-03-27T00:30", ends="2026-03-27T02:00"),
        )
        assert response.status_code == 302
        event = Event.objects.get()
        assert event.starts_at == dt.datetime(2026, 3, 26, 23, 30, tzinfo=dt.UTC)

    def test_an_arabic_only_title_gets_an_address_from_its_date(self, organizer: Any) -> None:
        organizer.client().post(url("manage_new"), form(title_en="", title_ar="وقفة"))
        organizer.client().post(url("manage_new"), form(title_en="", title_ar="وقفة"))
        assert sorted(Event.objects.values_list("slug", flat=True)) == [
            "event-2027-03-27",
            "event-2027-03-27-2",
        ]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"title_en": "", "title_ar": ""}, "__all__"),
            ({"ends": "2027-03-27T10:00"}, "ends"),
            ({"starts": "yesterday"}, "starts"),
            ({"latitude": "95"}, "latitude"),
            ({"longitude": ""}, "longitude"),
            ({"capacity": "0"}, "capacity"),
            ({"kind": "party"}, "kind"),
            ({"time_zone": "Mars/Olympus"}, "time_zone"),
            # Beirut's clocks go from 00:00 to 01:00 on 28 March 2027
            ({"starts": "2027-03-28T00:30", "ends": "2027-03-28T03:00"}, "starts"),
            # ... and from 00:00 back to 23:00 on 30 October 2027: 23:30 happens twice
            ({"starts": "2027-10-30T23:30", "ends": "2027-10-31T03:00"}, "starts"),
            ({"starts": "2027-03-27T11:00\x00"}, "starts"),
        ],
    )
    def test_bad_input_is_a_400_with_the_error_on_its_field(
        self, organizer: Any, overrides: dict[str, Any], field: str
    ) -> None:
        response = organizer.client().post(url("manage_new"), form(**overrides))
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert not Event.objects.exists()

    @pytest.mark.parametrize("role", [Role.CHECKIN_STAFF, Role.MESSENGER, Role.VIEWER])
    def test_only_content_managers_create(self, org_a: Any, role: str) -> None:
        member = MembershipFactory(organization=org_a, role=role)
        from django.test import Client

        client = Client()
        client.force_login(member.user)
        assert client.post(url("manage_new"), form()).status_code == 403
        assert client.get(url("manage_list")).status_code == 200  # everyone sees the list


class TestEdit:
    def test_a_new_time_bumps_the_revision_and_tells_attendees(
        self, org_a: Any, organizer: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        event = make_event(org_a, capacity=10)
        answer(event, 1, language="en")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = organizer.client().post(
                url("manage_edit", event), form(starts="2027-04-01T18:00", ends="2027-04-01T20:00")
            )
        assert response.status_code == 302
        event.refresh_from_db()
        assert event.revision == 1
        assert event.starts_at == dt.datetime(2027, 4, 1, 18, 0, tzinfo=BEIRUT)
        assert callbacks  # the notice task, enqueued on commit

    def test_the_form_shows_the_wall_clock_of_the_event(self, org_a: Any, organizer: Any) -> None:
        start = dt.datetime(2027, 5, 1, 8, 0, tzinfo=dt.UTC)
        event = make_event(org_a, starts_at=start, ends_at=start + dt.timedelta(hours=1))
        page = organizer.client().get(url("manage_edit", event))
        assert page.context["form"].initial["starts"] == "2027-05-01T11:00"

    def test_a_bad_edit_changes_nothing(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        before = event.starts_at
        response = organizer.client().post(url("manage_edit", event), form(ends="garbage"))
        assert response.status_code == 400
        event.refresh_from_db()
        assert event.starts_at == before


class TestLifecycle:
    def test_publish_then_cancel_with_a_confirmation_page(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a, status=EventStatus.DRAFT)
        client = organizer.client()
        assert client.get(url("manage_publish", event)).status_code == 405
        client.post(url("manage_publish", event))
        event.refresh_from_db()
        assert event.status == EventStatus.PUBLISHED
        assert client.get(url("manage_cancel", event)).status_code == 200  # asks first
        client.post(url("manage_cancel", event))  # no confirm: still asks
        event.refresh_from_db()
        assert event.status == EventStatus.PUBLISHED
        client.post(url("manage_cancel", event), {"confirm": "1"})
        event.refresh_from_db()
        assert event.status == EventStatus.CANCELLED

    def test_an_event_stored_at_a_time_the_clocks_pass_twice_can_still_be_edited(
        self, org_a: Any, organizer: Any
    ) -> None:
        # 23:30 on 30 October 2027 happens twice in Beirut; stored as the first one
        first = dt.datetime(2027, 10, 30, 23, 30, tzinfo=BEIRUT)
        event = make_event(org_a, starts_at=first, ends_at=first + dt.timedelta(hours=4))
        response = organizer.client().post(
            url("manage_edit", event),
            form(starts="2027-10-30T23:30", ends=wall(event.ends_at), title_en="Renamed"),
        )
        assert response.status_code == 302
        event.refresh_from_db()
        # (an ambiguous local time never compares equal across zones: compare in UTC)
        assert event.starts_at == first.astimezone(dt.UTC) and event.titles["en"] == "Renamed"

    def test_a_draft_is_deleted_not_cancelled(self, org_a: Any, organizer: Any) -> None:
        draft = make_event(org_a, status=EventStatus.DRAFT)
        client = organizer.client()
        client.post(url("manage_cancel", draft), {"confirm": "1"})
        draft.refresh_from_db()
        assert draft.status == EventStatus.DRAFT  # never shown as "cancelled" to the public
        published = make_event(org_a, slug="other")
        client.post(url("manage_delete", published))
        assert Event.objects.filter(pk=published.pk).exists()
        response = client.post(url("manage_delete", draft))
        assert response["Location"] == url("manage_list")
        assert not Event.objects.filter(pk=draft.pk).exists()
        assert AuditEntry.objects.filter(action="events.event.deleted").count() == 1

    def test_duplicate_makes_a_draft_at_the_new_time(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a, capacity=5)
        answer(event, 1)
        response = organizer.client().post(
            url("manage_duplicate", event), {"starts": "2027-06-05T09:30"}
        )
        copy = Event.objects.exclude(pk=event.pk).get()
        assert response["Location"] == url("manage_event", copy)
        assert copy.status == EventStatus.DRAFT and copy.capacity == 5
        assert copy.starts_at == dt.datetime(2027, 6, 5, 9, 30, tzinfo=BEIRUT)
        assert copy.ends_at - copy.starts_at == event.ends_at - event.starts_at
        assert not copy.rsvps.exists()
        bad = organizer.client().post(url("manage_duplicate", event), {"starts": ""})
        assert bad.status_code == 400


class TestAttendees:
    def test_search_by_name_and_code_and_filter_by_status(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a, capacity=1)
        first = named(event, "Rania", "Khoury")
        named(event, "Omar")
        client = organizer.client()
        page = client.get(url("manage_attendees", event), {"q": "rania"})
        assert [r.pk for r in page.context["rows"]] == [first.pk]
        page = client.get(url("manage_attendees", event), {"q": first.code.lower()})
        assert [r.pk for r in page.context["rows"]] == [first.pk]
        page = client.get(url("manage_attendees", event), {"status": "waiting"})
        assert [r.person.given_name for r in page.context["rows"]] == ["Omar"]

    def test_the_list_costs_the_same_queries_for_3_or_30(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        client = organizer.client()
        for n in range(3):
            answer(event, n)
        client.get(url("manage_attendees", event))  # warm the session and caches
        with CaptureQueriesContext(connection) as few:
            client.get(url("manage_attendees", event))
        for n in range(3, 30):
            answer(event, n)
        with CaptureQueriesContext(connection) as many:
            client.get(url("manage_attendees", event))
        assert len(many) == len(few)

    def test_add_by_hand_takes_a_place_without_recording_consent(
        self, org_a: Any, organizer: Any
    ) -> None:
        event = make_event(org_a)
        response = organizer.client().post(
            url("manage_attendee_add", event),
            {"given_name": "Lina", "phone": "+33 6 12 34 56 78", "language": "ar"},
        )
        assert response.status_code == 302
        rsvp = Rsvp.objects.get()
        assert rsvp.status == RsvpStatus.CONFIRMED and rsvp.source == "organizer"
        assert not rsvp.person.consents.exists()

    def test_add_by_hand_needs_a_contact(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        response = organizer.client().post(
            url("manage_attendee_add", event), {"given_name": "Lina", "language": "ar"}
        )
        assert response.status_code == 400
        assert not Rsvp.objects.exists()

    def test_add_by_hand_to_a_draft_is_refused_clearly(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a, status=EventStatus.DRAFT)
        response = organizer.client().post(
            url("manage_attendee_add", event),
            {"given_name": "Lina", "email": "lina@example.org", "language": "ar"},
        )
        assert response.status_code == 409
        assert response.context["form"].non_field_errors()

    def test_cancelling_for_someone_promotes_the_first_waiting(
        self, org_a: Any, organizer: Any
    ) -> None:
        event = make_event(org_a, capacity=1)
        first = answer(event, 1).rsvp
        second = answer(event, 2).rsvp
        organizer.client().post(url("manage_attendee_cancel", event, first.pk))
        second.refresh_from_db()
        assert second.status == RsvpStatus.CONFIRMED

    def test_export_is_the_supporters_export_behind_the_second_factor(
        self, org_a: Any, admin: Any
    ) -> None:
        event = make_event(org_a)
        answer(event, 1)
        answer(event, 2)
        assert admin.client().get(url("manage_export", event)).status_code == 302  # to MFA
        client = admin.mfa_client()
        page = client.get(url("manage_export", event))
        assert page.status_code == 200 and page.context["count"] == 2
        client.post(url("manage_export", event), {"which": "coming"})
        export = ExportRequest.objects.get()
        assert export.definition == {"rsvped_to": [event.pk]}
        assert export.requested_count == 2

    def test_an_organizer_may_not_export(self, org_a: Any, organizer: Any) -> None:
        event = make_event(org_a)
        assert organizer.mfa_client().get(url("manage_export", event)).status_code == 403

    def test_writing_to_attendees_opens_a_broadcast_for_their_segment(
        self, org_a: Any, admin: Any
    ) -> None:
        event = make_event(org_a)
        client = admin.client()
        response = client.post(url("manage_message", event), {"which": "coming"})
        segment = Segment.objects.get()
        assert segment.definition == {"rsvped_to": [event.pk]}
        assert response["Location"].endswith(f"?segment={segment.pk}")
        page = client.get(response["Location"])
        assert page.context["form"].initial["segment"] == segment.pk
        client.post(url("manage_message", event), {"which": "coming"})
        assert Segment.objects.count() == 1  # the same segment again


class TestCoHosts:
    def test_a_co_host_sees_only_those_who_agreed(
        self, org_a: Any, org_b: Any, organizer: Any, outsider: Any
    ) -> None:
        event = make_event(org_a)
        organizer.client().post(url("manage_co_host_add", event), {"organization": "org-b"})
        assert CoHost.objects.filter(event=event, co_host=org_b).exists()
        client = outsider.client()
        # asked, not yet accepted: B sees the invitation, not the event; no box is offered
        listing = client.get(url("manage_list", slug="org-b")).context
        assert listing["rows"] == [] and listing["invitations"][0].event == event
        assert client.get(url("manage_event", event, slug="org-b")).status_code == 404
        assert roster.public_co_hosts(event) == []
        client.post(url("co_hosting_accept", event, slug="org-b"))
        assert roster.public_co_hosts(event) == [org_b]
        agreed = services.rsvp(
            event=event,
            data=PersonData(email="yes@example.org", given_name="Yes"),
            share_with={org_b.pk: "Share my name with B"},
        ).rsvp
        services.rsvp(event=event, data=PersonData(email="no@example.org", given_name="No"))
        assert client.get(url("manage_list", slug="org-b")).context["rows"][0][0] == event
        page = client.get(url("manage_attendees", event, slug="org-b"))
        assert [r.pk for r in page.context["rows"]] == [agreed.pk]
        assert agreed.code not in page.content.decode()  # a ticket code is a pass: host only
        # ... and cannot change anything of the host's
        for name in ("manage_edit", "manage_duplicate", "manage_attendee_add", "manage_cancel"):
            assert client.get(url(name, event, slug="org-b")).status_code == 404
        assert client.post(url("manage_message", event, slug="org-b")).status_code == 404
        assert (
            client.post(url("manage_attendee_cancel", event, agreed.pk, slug="org-b")).status_code
            == 404
        )

    def test_a_removed_co_host_sees_nothing(self, org_a: Any, org_b: Any, outsider: Any) -> None:
        event = make_event(org_a)
        organizer.add_co_host(actor=None, event=event, co_host=org_b)
        organizer.accept_co_hosting(actor=None, event=event, co_host=org_b)
        assert outsider.client().get(url("manage_event", event, slug="org-b")).status_code == 200
        organizer.remove_co_host(actor=None, event=event, co_host=org_b)
        assert outsider.client().get(url("manage_event", event, slug="org-b")).status_code == 404

    def test_a_co_host_may_leave_and_never_sees_drafts(
        self, org_a: Any, org_b: Any, outsider: Any
    ) -> None:
        draft = make_event(org_a, status=EventStatus.DRAFT)
        organizer.add_co_host(actor=None, event=draft, co_host=org_b)
        assert roster.invitations_for(org_b) == []  # not even its title
        organizer.accept_co_hosting(actor=None, event=draft, co_host=org_b)
        client = outsider.client()
        assert client.get(url("manage_event", draft, slug="org-b")).status_code == 404
        assert client.post(url("co_hosting_leave", draft, slug="org-b")).status_code == 404
        published = make_event(org_a, slug="published")
        organizer.add_co_host(actor=None, event=published, co_host=org_b)
        organizer.accept_co_hosting(actor=None, event=published, co_host=org_b)
        client.post(url("co_hosting_leave", published, slug="org-b"))
        assert not CoHost.objects.filter(event=published).exists()
        logged = AuditEntry.objects.filter(action="events.co_host.removed")
        assert sorted(logged.values_list("organization__slug", flat=True)) == ["org-a", "org-b"]

    def test_an_unknown_or_own_organization_is_a_form_error(
        self, org_a: Any, organizer: Any
    ) -> None:
        event = make_event(org_a)
        for value in ("nobody-here", "org-a"):
            response = organizer.client().post(
                url("manage_co_host_add", event), {"organization": value}
            )
            assert response.status_code == 400
        assert not CoHost.objects.exists()


class TestOtherOrganizations:
    def test_every_event_page_of_a_is_404_to_b(self, org_a: Any, outsider: Any) -> None:
        event = make_event(org_a)
        rsvp = answer(event, 1).rsvp
        client = outsider.client()
        for name in ("manage_event", "manage_edit", "manage_attendees", "manage_duplicate"):
            assert client.get(url(name, event, slug="org-b")).status_code == 404
        for name in ("manage_publish", "manage_cancel", "manage_message"):
            assert client.post(url(name, event, slug="org-b")).status_code == 404
        assert (
            client.post(url("manage_attendee_cancel", event, rsvp.pk, slug="org-b")).status_code
            == 404
        )
        assert client.get(url("manage_event", event)).status_code == 404  # A's slug: not a member
        rsvp.refresh_from_db()
        assert rsvp.status == RsvpStatus.CONFIRMED
        assert Person.objects.count() == 1


def test_the_event_list_pages_with_constant_queries(org_a: Any, organizer: Any) -> None:
    import datetime as dt_

    from django.utils import timezone

    start = timezone.now() + dt_.timedelta(days=1)
    for n in range(55):
        event = make_event(
            org_a,
            slug=f"e{n}",
            starts_at=start + dt_.timedelta(hours=n),
            ends_at=start + dt_.timedelta(hours=n + 1),
        )
        answer(event, n)
    client = organizer.client()
    client.get(url("manage_list"))  # the session and caches, warm
    with CaptureQueriesContext(connection) as fifty:
        first = client.get(url("manage_list"))
    assert len(first.context["rows"]) == 50
    with CaptureQueriesContext(connection) as five:
        second = client.get(url("manage_list"), {"page": "2"})
    assert len(second.context["rows"]) == 5
    assert len(fifty) == len(five)  # the counts of a page: two queries, however long
    assert client.get(url("manage_list"), {"page": "x\x00"}).status_code == 200


def test_the_gauge_counts(org_a: Any) -> None:
    event = make_event(org_a, capacity=2)
    for n in range(4):
        answer(event, n)
    tally = roster.tally(event)
    assert (tally.confirmed, tally.waiting, tally.percent_full, tally.places_left) == (2, 2, 100, 0)
