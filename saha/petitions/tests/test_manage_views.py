"""The organizer's petition pages: create, edit, open and close, the signatures, writing to
the signers, seen by each persona, and by another organization."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.events.tests.test_rsvp import make_event
from saha.organizations.roles import Role
from saha.petitions import services
from saha.petitions.models import Petition, PetitionStatus, Signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import Segment
from saha.supporters.services import PersonData
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")
ROUTES_GET = [
    "manage_petition",
    "manage_edit",
    "manage_signatures",
    "manage_document",
    "manage_csv",
]
ROUTES_POST = ["manage_status", "manage_message"]


def url(name: str, petition: Petition | None = None, slug: str = "org-a") -> str:
    args: list[Any] = [slug] if petition is None else [slug, petition.pk]
    return reverse(f"petitions:{name}", args=args)


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "title_en": "Keep the beach open",
        "title_ar": "أبقوا الشاطئ مفتوحًا",
        "text_en": "The shore belongs to everyone.",
        "targets": "  The municipality \n\n The minister ",
        "goal": "1000",
        "deadline": "2031-06-30T18:00",
        "show_signers": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def signed(petition: Petition, n: int, *, confirmed: bool = True, **fields: Any) -> Signature:
    show_name = fields.pop("show_name", False)
    data = PersonData(email=f"s{n}@example.org", language="en", **fields)
    signature = services.sign(petition=petition, data=data, show_name=show_name).signature
    if confirmed:
        services.confirm(signature=signature)
    return signature


def member(organization: Any, role: str) -> Client:
    client = Client()
    client.force_login(MembershipFactory(organization=organization, role=role).user)
    return client


class TestCreateAndEdit:
    def test_an_organizer_creates_a_draft_with_its_deadline_in_the_orgs_zone(
        self, org_a: Any, organizer: Any
    ) -> None:
        org_a.time_zone = "Asia/Beirut"
        org_a.save(update_fields=["time_zone"])
        response = organizer.client().post(url("manage_new"), form())
        petition = Petition.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("manage_petition", petition)
        assert petition.status == PetitionStatus.DRAFT and petition.slug == "keep-the-beach-open"
        assert petition.titles == {"en": "Keep the beach open", "ar": "أبقوا الشاطئ مفتوحًا"}
        assert petition.targets == "The municipality\nThe minister"
        assert petition.deadline == dt.datetime(2031, 6, 30, 18, 0, tzinfo=BEIRUT)
        assert (petition.goal, petition.show_signers, petition.count_unverified) == (
            1000,
            True,
            False,
        )
        assert petition.count_shards.count() == 16  # made by services.create_petition
        assert AuditEntry.objects.filter(action="petitions.petition.created").count() == 1

    def test_an_arabic_only_title_gets_a_dated_address_and_two_never_collide(
        self, organizer: Any
    ) -> None:
        client = organizer.client()
        for _n in range(2):
            client.post(url("manage_new"), form(title_en="", title_ar="عريضة"))
        slugs = sorted(Petition.objects.values_list("slug", flat=True))
        assert slugs[0].startswith("petition-") and slugs[1] == f"{slugs[0]}-2"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"title_en": "", "title_ar": ""}, "__all__"),
            ({"goal": "0"}, "goal"),
            ({"goal": "many"}, "goal"),
            ({"goal": "9" * 30}, "goal"),
            ({"deadline": "tomorrow"}, "deadline"),
            ({"deadline": "2031-06-30T18:00\x00"}, "deadline"),
            ({"targets": "\n".join(f"t{n}" for n in range(60))}, "targets"),
            ({"next_petition": "abc"}, "next_petition"),
            ({"next_petition": "9" * 25}, "next_petition"),
            ({"next_event": "\x00"}, "next_event"),
            ({"title_en": "x" * 201}, "title_en"),
        ],
    )
    def test_bad_input_is_a_400_never_a_500(
        self, organizer: Any, overrides: dict[str, Any], field: str
    ) -> None:
        response = organizer.client().post(url("manage_new"), form(**overrides))
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert not Petition.objects.exists()

    def test_a_skipped_hour_is_refused(self, org_a: Any, organizer: Any) -> None:
        org_a.time_zone = "Asia/Beirut"
        org_a.save(update_fields=["time_zone"])
        # Beirut's clocks go from 00:00 to 01:00 on 28 March 2027
        response = organizer.client().post(url("manage_new"), form(deadline="2027-03-28T00:30"))
        assert response.status_code == 400 and "deadline" in response.context["form"].errors

    def test_next_actions_are_only_the_orgs_own(
        self, org_a: Any, org_b: Any, organizer: Any
    ) -> None:
        theirs = make_petition(org_b, slug="theirs")
        their_event = make_event(org_b)
        for overrides in ({"next_petition": theirs.pk}, {"next_event": their_event.pk}):
            response = organizer.client().post(url("manage_new"), form(**overrides))
            assert response.status_code == 400
        ours = make_petition(org_a, slug="ours")
        draft = services.create_petition(actor=None, organization=org_a, slug="draft")
        event = make_event(org_a)
        page = organizer.client().get(url("manage_new"))
        assert list(page.context["form"].fields["next_petition"].queryset) == [ours]
        assert draft not in page.context["form"].fields["next_petition"].queryset
        response = organizer.client().post(
            url("manage_new"), form(next_petition=ours.pk, next_event=event.pk)
        )
        created = Petition.objects.get(slug="keep-the-beach-open")
        assert response.status_code == 302
        assert (created.next_petition, created.next_event) == (ours, event)

    def test_edit_changes_only_what_changed_and_keeps_the_status(
        self, org_a: Any, organizer: Any
    ) -> None:
        petition = make_petition(org_a, goal=10, targets="The mayor")
        client = organizer.client()
        page = client.get(url("manage_edit", petition))
        assert page.context["form"].initial["title_en"] == "Keep the beach open"
        assert petition not in page.context["form"].fields["next_petition"].queryset
        response = client.post(
            url("manage_edit", petition),
            form(title_en="Keep the beach open", goal="20", deadline="", targets="The mayor"),
        )
        assert response.status_code == 302
        petition.refresh_from_db()
        assert petition.goal == 20 and petition.status == PetitionStatus.OPEN
        entry = AuditEntry.objects.get(action="petitions.petition.updated")
        assert "goal" in entry.data["fields"] and "targets" not in entry.data["fields"]
        bad = client.post(url("manage_edit", petition), form(goal="-1"))
        assert bad.status_code == 400
        petition.refresh_from_db()
        assert petition.goal == 20

    def test_a_deadline_left_alone_stays_the_same_instant(self, org_a: Any, organizer: Any) -> None:
        deadline = dt.datetime(2031, 1, 1, 12, 0, 30, tzinfo=dt.UTC)  # seconds the form can't show
        petition = make_petition(org_a, deadline=deadline)
        initial = organizer.client().get(url("manage_edit", petition)).context["form"].initial
        organizer.client().post(url("manage_edit", petition), form(deadline=initial["deadline"]))
        petition.refresh_from_db()
        assert petition.deadline == deadline


class TestStatus:
    def test_open_close_and_reopen(self, org_a: Any, organizer: Any) -> None:
        petition = services.create_petition(
            actor=None, organization=org_a, slug="p", titles={"en": "P"}
        )
        client = organizer.client()
        assert client.get(url("manage_status", petition)).status_code == 405
        client.post(url("manage_status", petition), {"status": "closed"})  # a draft: not closed
        petition.refresh_from_db()
        assert petition.status == PetitionStatus.DRAFT
        for wanted in ("open", "closed", "open"):
            response = client.post(url("manage_status", petition), {"status": wanted})
            assert response.status_code == 302
            petition.refresh_from_db()
            assert petition.status == wanted
        client.post(url("manage_status", petition), {"status": "draft\x00"})
        petition.refresh_from_db()
        assert petition.status == PetitionStatus.OPEN
        assert AuditEntry.objects.filter(action="petitions.petition.closed").count() == 1


class TestPages:
    def test_the_detail_shows_the_counter_and_the_progress(
        self, org_a: Any, organizer: Any
    ) -> None:
        petition = make_petition(org_a, goal=4)
        signed(petition, 1)
        signed(petition, 2)
        signed(petition, 3, confirmed=False)
        page = organizer.client().get(url("manage_petition", petition))
        progress = page.context["progress"]
        assert (progress.count.verified, progress.count.unverified) == (2, 1)
        assert (progress.public, progress.percent) == (2, 50)
        assert b'<progress max="4" value="2"' in page.content

    def test_the_list_costs_the_same_queries_for_3_or_30_petitions(
        self, org_a: Any, organizer: Any
    ) -> None:
        client = organizer.client()
        for n in range(3):
            signed(make_petition(org_a, slug=f"p{n}", goal=10), n)
        client.get(url("manage_list"))  # the session and caches, warm
        with CaptureQueriesContext(connection) as few:
            client.get(url("manage_list"))
        for n in range(3, 30):
            signed(make_petition(org_a, slug=f"p{n}"), n)
        with CaptureQueriesContext(connection) as many:
            page = client.get(url("manage_list"))
        assert len(page.context["rows"]) == 30
        assert len(many) == len(few)
        assert client.get(url("manage_list"), {"page": "x\x00"}).status_code == 200

    def test_signatures_search_filter_and_keyset_pages(self, org_a: Any, organizer: Any) -> None:
        petition = make_petition(org_a)
        rania = signed(petition, 1, given_name="Rania", family_name="Khoury")
        omar = signed(petition, 2, given_name="Omar", confirmed=False)
        client = organizer.client()
        page = client.get(url("manage_signatures", petition))
        assert [s.pk for s in page.context["rows"]] == [omar.pk, rania.pk]  # newest first
        page = client.get(url("manage_signatures", petition), {"q": "rania"})
        assert [s.pk for s in page.context["rows"]] == [rania.pk]
        page = client.get(url("manage_signatures", petition), {"q": "s2@example"})
        assert [s.pk for s in page.context["rows"]] == [omar.pk]
        page = client.get(url("manage_signatures", petition), {"state": "unconfirmed"})
        assert [s.pk for s in page.context["rows"]] == [omar.pk]
        page = client.get(url("manage_signatures", petition), {"after": omar.pk})
        assert [s.pk for s in page.context["rows"]] == [rania.pk]
        for bad in ({"after": "x"}, {"after": "9" * 40}, {"state": "\x00"}, {"q": "\x00" * 500}):
            assert client.get(url("manage_signatures", petition), bad).status_code == 200

    def test_the_signatures_page_costs_the_same_for_3_or_30(
        self, org_a: Any, organizer: Any
    ) -> None:
        petition = make_petition(org_a)
        client = organizer.client()
        for n in range(3):
            signed(petition, n, given_name=f"N{n}")
        client.get(url("manage_signatures", petition))
        with CaptureQueriesContext(connection) as few:
            client.get(url("manage_signatures", petition))
        for n in range(3, 30):
            signed(petition, n, given_name=f"N{n}")
        with CaptureQueriesContext(connection) as many:
            client.get(url("manage_signatures", petition))
        assert len(many) == len(few)

    def test_writing_to_signers_opens_a_broadcast_for_their_segment(
        self, org_a: Any, admin: Any
    ) -> None:
        petition = make_petition(org_a)
        signed(petition, 1)
        client = admin.client()
        response = client.post(url("manage_message", petition))
        segment = Segment.objects.get()
        assert segment.definition == {"signed_confirmed": [petition.pk]}
        assert response["Location"].endswith(f"?segment={segment.pk}")
        assert client.get(response["Location"]).context["form"].initial["segment"] == segment.pk
        client.post(url("manage_message", petition))
        assert Segment.objects.count() == 1  # the same segment again


class TestPersonas:
    def test_a_viewer_sees_the_list_and_counts_but_nothing_else(self, org_a: Any) -> None:
        petition = make_petition(org_a)
        client = member(org_a, Role.VIEWER)
        assert client.get(url("manage_list")).status_code == 200
        assert client.get(url("manage_petition", petition)).status_code == 200
        assert client.get(url("manage_new")).status_code == 403
        assert client.post(url("manage_new"), form()).status_code == 403
        for name in ("manage_edit", "manage_signatures", "manage_document", "manage_csv"):
            assert client.get(url(name, petition)).status_code == 403, name
        for name in ROUTES_POST:
            assert client.post(url(name, petition), {"status": "closed"}).status_code == 403
        petition.refresh_from_db()
        assert petition.status == PetitionStatus.OPEN

    @pytest.mark.parametrize("role", [Role.MESSENGER, Role.DATA_STEWARD, Role.CHECKIN_STAFF])
    def test_only_content_managers_change_a_petition(self, org_a: Any, role: str) -> None:
        petition = make_petition(org_a)
        client = member(org_a, role)
        assert client.post(url("manage_new"), form()).status_code == 403
        assert client.post(url("manage_edit", petition), form()).status_code == 403
        assert client.post(url("manage_status", petition), {"status": "closed"}).status_code == 403

    def test_an_organizer_may_not_download_the_csv(self, org_a: Any, organizer: Any) -> None:
        petition = make_petition(org_a)
        assert organizer.mfa_client().get(url("manage_csv", petition)).status_code == 403
        assert organizer.client().post(url("manage_message", petition)).status_code == 403

    def test_every_route_of_a_is_404_to_b(self, org_a: Any, outsider: Any) -> None:
        petition = make_petition(org_a)
        signed(petition, 1)
        client = outsider.mfa_client()
        assert client.get(url("manage_list")).status_code == 404  # A's slug: not a member
        assert client.get(url("manage_new")).status_code == 404
        for name in ROUTES_GET + ROUTES_POST:
            # ... with A's slug, and with B's own slug and A's petition
            for slug in ("org-a", "org-b"):
                assert client.get(url(name, petition, slug=slug)).status_code in (404, 405)
                assert client.post(url(name, petition, slug=slug)).status_code in (404, 405)
        get_only = {"manage_petition", "manage_signatures", "manage_document", "manage_csv"}
        for name in get_only:
            assert client.get(url(name, petition, slug="org-b")).status_code == 404
        for name in ROUTES_POST:
            assert client.post(url(name, petition, slug="org-b")).status_code == 404
        petition.refresh_from_db()
        assert petition.status == PetitionStatus.OPEN and not Segment.objects.exists()
        assert client.get(url("manage_petition", petition, slug="org-b") + "x").status_code == 404
