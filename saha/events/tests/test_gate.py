"""The gate: staff find an attendee by ticket, code or name and let them in once.

Personas: check-in staff, organizers, admins and owners may work the gate; a
viewer of the organization is refused (403); a member of another organization
is told the page does not exist (404). A request sent twice with the same
nonce is one check-in; a second scan says when, and by whom, the first was.
Assertions name codes, selectors and rows, not wording (it is translated).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.events import gate, services, tickets
from saha.events.models import CheckIn, Event, EventStatus, Rsvp, RsvpStatus
from saha.events.tests.test_rsvp import answer, make_event
from saha.messaging import outbox
from saha.organizations.roles import Role
from saha.supporters.models import Person
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def gate_url(event: Event, suffix: str = "") -> str:
    return f"/manage/{event.organization.slug}/events/{event.pk}/gate/{suffix}"


def post_code(client: Client, event: Event, code: str, nonce: str, **extra: Any) -> Any:
    return client.post(
        gate_url(event), {"code": code, "nonce": nonce}, HTTP_ACCEPT_LANGUAGE="en", **extra
    )


def post_json(client: Client, event: Event, data: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.post(gate_url(event), data, HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def code_of(error: Any) -> str:
    return str(error.value.code)


@pytest.fixture
def event(org_a: Any) -> Event:
    return make_event(org_a)


@pytest.fixture
def rima(event: Event) -> Rsvp:
    return gate_rsvp(event, "rima@example.org", "Rima", "Haddad", phone="+96171123456")


def gate_rsvp(event: Event, email: str, given: str, family: str = "", **data: Any) -> Rsvp:
    from saha.events import services

    person = PersonData(email=email, given_name=given, family_name=family, **data)
    return services.rsvp(event=event, data=person, notify=False).rsvp


# --- finding someone -----------------------------------------------------------------


class TestFind:
    def test_a_scanned_ticket_finds_its_rsvp(self, event: Event, rima: Rsvp) -> None:
        token = tickets.ticket_token(rima.pk)
        assert gate.find_by_token(event, token) == rima
        assert gate.find_by_token(event, f"https://saha.example.org/t/{token}/") == rima

    def test_a_ticket_for_another_event_is_not_found(self, org_a: Any, rima: Rsvp) -> None:
        other = make_event(org_a, slug="other")
        with pytest.raises(DomainError) as error:
            gate.find_by_token(other, tickets.ticket_token(rima.pk))
        assert code_of(error) == "not_found" and error.value.status == 404
        with pytest.raises(DomainError):
            gate.find_by_code(other, rima.code)

    def test_a_forged_token_is_not_found(self, event: Event, rima: Rsvp) -> None:
        with pytest.raises(DomainError) as error:
            token = tickets.ticket_token(rima.pk)
            gate.find_by_token(event, token[:-2] + ("xx" if not token.endswith("xx") else "yy"))
        assert code_of(error) == "not_found"

    def test_a_typed_code_forgives_case_spaces_and_dashes(self, event: Event, rima: Rsvp) -> None:
        typed = f" {rima.code[:4].lower()}-{rima.code[4:]} "
        assert gate.find_by_code(event, typed) == rima
        # a token pasted in the code box is read as a scan
        assert gate.find_by_code(event, tickets.ticket_token(rima.pk)) == rima


class TestSearch:
    @pytest.fixture
    def people(self, event: Event, rima: Rsvp) -> dict[str, Rsvp]:
        return {
            "rima": rima,
            "sami": gate_rsvp(event, "sami@example.org", "Sami", "Khoury"),
            "hala": gate_rsvp(event, "hala@example.org", "هالة", "الخوري"),
        }

    @pytest.mark.parametrize(
        ("term", "expected"),
        [
            ("rim", ["rima"]),
            ("HADD", ["rima"]),  # the family name, from its start
            ("sami@ex", ["sami"]),
            ("71 123 456", ["rima"]),  # the last digits of a phone
            ("هال", ["hala"]),
            ("xyz", []),
            ("r", []),  # too short to mean anything
        ],
    )
    def test_by_name_family_name_email_and_phone(
        self, event: Event, people: dict[str, Rsvp], term: str, expected: list[str]
    ) -> None:
        found = gate.search(event, term)
        assert sorted(found, key=lambda r: r.pk) == sorted(
            [people[name] for name in expected], key=lambda r: r.pk
        )

    def test_by_code(self, event: Event, people: dict[str, Rsvp]) -> None:
        assert gate.search(event, people["sami"].code.lower()) == [people["sami"]]

    def test_only_this_events_people_still_answering(
        self, org_a: Any, event: Event, people: dict[str, Rsvp]
    ) -> None:
        from saha.events import services

        other = make_event(org_a, slug="other")
        gate_rsvp(other, "rima@example.org", "Rima")
        services.cancel_rsvp(rsvp=people["sami"])
        assert gate.search(event, "rima") == [people["rima"]]
        assert gate.search(event, "sami") == []

    def test_is_one_query_with_whom_and_when(
        self, event: Event, people: dict[str, Rsvp], owner: Any
    ) -> None:
        for rsvp in people.values():
            gate.admit(event=event, rsvp=rsvp, actor=owner.user, nonce=f"n{rsvp.pk}", method="code")
        with CaptureQueriesContext(connection) as queries:
            assert gate.search(event, "a") == []  # too short: no query at all
            found = gate.search(event, "Sa")
            names = [(gate.person_name(r), gate.staff_name(r.check_in)) for r in found]
        assert len(queries) == 1
        assert names == [("Sami Khoury", owner.user.get_full_name())]


# --- letting someone in --------------------------------------------------------------


class TestAdmit:
    def test_the_same_request_twice_is_one_check_in_and_one_audit_row(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        first = gate.admit(
            event=event, rsvp=rima, actor=checkin_staff.user, nonce="n1", method="code"
        )
        again = gate.admit(
            event=event, rsvp=rima, actor=checkin_staff.user, nonce="n1", method="code"
        )
        assert not first.already and not again.already
        assert first.check_in.pk == again.check_in.pk
        assert CheckIn.objects.count() == 1
        [entry] = AuditEntry.objects.filter(action="events.check_in.created")
        assert entry.actor == checkin_staff.user and entry.data == {
            "rsvp": rima.pk,
            "method": "code",
        }

    def test_a_second_scan_says_when_and_by_whom(
        self, event: Event, rima: Rsvp, checkin_staff: Any, organizer: Any
    ) -> None:
        gate.admit(event=event, rsvp=rima, actor=checkin_staff.user, nonce="a", method="scan")
        second = gate.admit(event=event, rsvp=rima, actor=organizer.user, nonce="b", method="scan")
        assert second.already
        assert gate.staff_name(second.check_in) == checkin_staff.user.get_full_name()
        assert CheckIn.objects.count() == 1

    def test_a_nonce_reused_for_someone_else_is_refused(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        sami = gate_rsvp(event, "sami@example.org", "Sami")
        gate.admit(event=event, rsvp=rima, actor=checkin_staff.user, nonce="n", method="code")
        with pytest.raises(DomainError) as error:
            gate.admit(event=event, rsvp=sami, actor=checkin_staff.user, nonce="n", method="code")
        assert code_of(error) == "nonce_reused"
        assert not CheckIn.objects.filter(rsvp=sami).exists()

    def test_the_waiting_list_and_the_cancelled_are_refused_with_their_code(
        self, org_a: Any, checkin_staff: Any
    ) -> None:
        from saha.events import services

        event = make_event(org_a, capacity=1)
        coming = answer(event, 1).rsvp
        waiting = answer(event, 2).rsvp
        assert waiting.status == RsvpStatus.WAITING
        services.cancel_rsvp(rsvp=coming)  # the waiting person takes the place
        for rsvp, code in [(coming, "cancelled"), (answer(event, 3).rsvp, "waiting_list")]:
            rsvp.refresh_from_db()
            with pytest.raises(DomainError) as error:
                gate.admit(
                    event=event, rsvp=rsvp, actor=checkin_staff.user, nonce=code, method="code"
                )
            assert code_of(error) == code
        assert not CheckIn.objects.exists()

    def test_a_cancelled_event_lets_nobody_in(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        Event.objects.filter(pk=event.pk).update(status=EventStatus.CANCELLED)
        event.refresh_from_db()
        with pytest.raises(DomainError) as error:
            gate.admit(event=event, rsvp=rima, actor=checkin_staff.user, nonce="n", method="code")
        assert code_of(error) == "event_not_open"

    def test_a_request_without_a_nonce_is_refused(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        with pytest.raises(DomainError) as error:
            gate.admit(event=event, rsvp=rima, actor=checkin_staff.user, nonce=" ", method="code")
        assert code_of(error) == "no_nonce"


class TestWalkIn:
    def walk_in(self, event: Event, actor: Any, nonce: str = "w1", **data: Any) -> Any:
        person = PersonData(**{"given_name": "Nour", "email": "nour@example.org", **data})
        return gate.add_walk_in(event=event, data=person, actor=actor, nonce=nonce)

    def test_a_walk_in_takes_a_place_and_is_in_without_a_ticket(
        self, event: Event, checkin_staff: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            result = self.walk_in(event, checkin_staff.user)
        rsvp = result.check_in.rsvp
        assert (rsvp.status, rsvp.source, result.check_in.method) == (
            "confirmed",
            "walk-in",
            "walk-in",
        )
        assert gate.counts(event) == gate.Counts(confirmed=1, checked_in=1, waiting=0, walk_ins=1)
        assert AuditEntry.objects.filter(action="events.walk_in.added").count() == 1
        outbox.drain(budget_seconds=5)
        assert mail.outbox == []  # already in: no ticket to carry

    def test_the_same_form_sent_twice_is_one_walk_in(
        self, event: Event, checkin_staff: Any
    ) -> None:
        first = self.walk_in(event, checkin_staff.user)
        again = self.walk_in(event, checkin_staff.user)
        assert first.check_in.pk == again.check_in.pk and not again.already
        assert (Rsvp.objects.count(), CheckIn.objects.count()) == (1, 1)

    def test_someone_who_answered_is_let_in_on_their_own_rsvp(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        result = self.walk_in(event, checkin_staff.user, email="rima@example.org")
        assert result.check_in.rsvp_id == rima.pk
        assert Rsvp.objects.count() == 1

    @pytest.mark.parametrize("waiting_list", [True, False])
    def test_a_full_event_refuses_walk_ins_and_keeps_nothing(
        self, org_a: Any, checkin_staff: Any, waiting_list: bool
    ) -> None:
        event = make_event(org_a, capacity=1, waiting_list=waiting_list)
        answer(event, 1)
        with pytest.raises(DomainError) as error:
            self.walk_in(event, checkin_staff.user)
        assert code_of(error) == "event_full"
        assert Rsvp.objects.count() == 1 and not CheckIn.objects.exists()
        assert not Person.objects.filter(given_name="Nour").exists()


def test_counts_in_one_query(org_a: Any, checkin_staff: Any) -> None:
    event = make_event(org_a, capacity=3)
    rows = [answer(event, n).rsvp for n in range(4)]  # three coming, one waiting
    gate.admit(event=event, rsvp=rows[0], actor=checkin_staff.user, nonce="a", method="code")
    with CaptureQueriesContext(connection) as queries:
        counted = gate.counts(event)
    assert len(queries) == 1
    assert counted == gate.Counts(confirmed=3, checked_in=1, waiting=1, walk_ins=0)


def test_times_are_in_the_events_time_zone(event: Event) -> None:
    moment = dt.datetime(2030, 6, 1, 15, 30, tzinfo=dt.UTC)  # 18:30 in Beirut (summer)
    assert gate.local_time(event, moment) == "18:30"


# --- the pages ------------------------------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize("role", ["checkin_staff", "organizer", "admin", "owner"])
    def test_the_gate_team_opens_the_page(
        self, request: pytest.FixtureRequest, event: Event, role: str
    ) -> None:
        persona = request.getfixturevalue(role)
        client = persona.client()
        for suffix in ("", "walk-in/", "counts/"):
            assert client.get(gate_url(event, suffix)).status_code == 200

    def test_a_viewer_is_refused(self, org_a: Any, event: Event) -> None:
        viewer = MembershipFactory(organization=org_a, role=Role.VIEWER).user
        client = Client()
        client.force_login(viewer)
        assert client.get(gate_url(event)).status_code == 403
        assert client.post(gate_url(event), {"code": "X", "nonce": "n"}).status_code == 403

    def test_another_organization_sees_nothing(
        self, event: Event, rima: Rsvp, outsider: Any, org_b: Any
    ) -> None:
        client = outsider.client()
        assert client.get(gate_url(event)).status_code == 404
        assert post_code(client, event, rima.code, "n").status_code == 404
        # nor through its own address: the event is not one of B's
        assert client.get(f"/manage/{org_b.slug}/events/{event.pk}/gate/").status_code == 404
        assert not CheckIn.objects.exists()

    def test_signed_out_goes_to_sign_in(self, client: Client, event: Event) -> None:
        response = client.get(gate_url(event))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_a_script_is_refused_in_json(
        self, client: Client, org_a: Any, event: Event, outsider: Any
    ) -> None:
        viewer = MembershipFactory(organization=org_a, role=Role.VIEWER).user
        viewer_client = Client()
        viewer_client.force_login(viewer)
        cases = [(client, 401, "signed_out"), (viewer_client, 403, "forbidden")]
        cases.append((outsider.client(), 404, "not_found"))
        for who, status, code in cases:
            got, body = post_json(who, event, {"code": "ABCDEFGH", "nonce": "n"})
            assert (got, body["code"]) == (status, code)
            counted = who.get(gate_url(event, "counts/"), HTTP_ACCEPT="application/json")
            assert (counted.status_code, json.loads(counted.content)["code"]) == (status, code)

    def test_a_draft_has_no_gate(self, org_a: Any, checkin_staff: Any) -> None:
        draft = make_event(org_a, slug="draft", status=EventStatus.DRAFT)
        assert checkin_staff.client().get(gate_url(draft)).status_code == 404


class TestGatePage:
    def test_without_script_a_typed_code_lets_in_once_then_says_already(
        self, event: Event, rima: Rsvp, checkin_staff: Any, organizer: Any
    ) -> None:
        page = checkin_staff.client().get(gate_url(event), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200 and 'name="nonce"' in page.content.decode()
        first = post_code(checkin_staff.client(), event, rima.code.lower(), "form-1")
        assert first.status_code == 200
        assert 'data-result="admitted"' in first.content.decode()
        # the same form posted again (a reload): the same answer, still one check-in
        again = post_code(checkin_staff.client(), event, rima.code, "form-1")
        assert 'data-result="admitted"' in again.content.decode()
        assert CheckIn.objects.count() == 1
        # another press, another nonce: already in, at what time and by whom
        CheckIn.objects.update(checked_in_at=dt.datetime(2030, 6, 1, 15, 30, tzinfo=dt.UTC))
        later = post_code(organizer.client(), event, rima.code, "form-2").content.decode()
        assert 'data-result="already"' in later
        assert '<bdi class="gate-time">18:30</bdi>' in later
        assert f'<bdi class="gate-by">{checkin_staff.user.get_full_name()}</bdi>' in later
        assert 'data-count="checked_in">1<' in later

    def test_a_nul_character_is_no_server_error(
        self, event: Event, rima: Rsvp, checkin_staff: Any, organizer: Any
    ) -> None:
        client = checkin_staff.client()
        assert client.get(gate_url(event), {"q": "a\x00@x"}).status_code == 200
        assert post_code(client, event, rima.code, "n\x00").status_code == 200
        assert CheckIn.objects.get().nonce == "n"
        attendees = reverse("events:manage_attendees", args=[event.organization.slug, event.pk])
        assert organizer.client().get(attendees, {"q": "a\x00@x"}).status_code == 200

    def test_in_arabic_the_page_is_right_to_left(self, event: Event, checkin_staff: Any) -> None:
        page = checkin_staff.client().get(gate_url(event), HTTP_ACCEPT_LANGUAGE="ar")
        assert 'dir="rtl"' in page.content.decode()

    def test_a_search_shows_whom_to_let_in(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        page = checkin_staff.client().get(gate_url(event), {"q": "rima"}).content.decode()
        assert f'name="rsvp" value="{rima.pk}"' in page
        response = checkin_staff.client().post(
            gate_url(event), {"rsvp": str(rima.pk), "nonce": "s1", "q": "rima"}
        )
        assert 'data-result="admitted"' in response.content.decode()
        assert CheckIn.objects.get().method == "search"

    def test_an_id_walked_by_hand_finds_nobody_who_cancelled(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        services.cancel_rsvp(rsvp=rima)
        status, body = post_json(
            checkin_staff.client(), event, {"rsvp": str(rima.pk), "nonce": "x"}
        )
        assert (status, body["code"]) == (404, "not_found")
        assert rima.person.given_name not in json.dumps(body)

    def test_a_search_page_costs_the_same_for_one_or_many_found(
        self, event: Event, checkin_staff: Any, django_assert_max_num_queries: Any
    ) -> None:
        client = checkin_staff.client()

        def queries_for(q: str) -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(gate_url(event), {"q": q}).status_code == 200
            return len(queries)

        gate_rsvp(event, "amal0@example.org", "Amal")
        queries_for("amal")  # the session's first writes are not the page's
        one = queries_for("amal")
        for n in range(1, 15):
            rsvp = gate_rsvp(event, f"amal{n}@example.org", "Amal", f"N{n}")
            gate.admit(
                event=event, rsvp=rsvp, actor=checkin_staff.user, nonce=f"n{n}", method="code"
            )
        assert queries_for("amal") <= one
        with django_assert_max_num_queries(16):  # session, membership, event, counts, search
            client.get(gate_url(event), {"q": "amal"})


class TestJson:
    def test_a_scan_answers_with_the_banner_and_the_counts(
        self, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        client = checkin_staff.client()
        token = tickets.ticket_token(rima.pk)
        status, body = post_json(client, event, {"token": token, "nonce": "uuid-1"})
        assert status == 200 and body["ok"] and body["code"] == "admitted"
        assert body["counts"] == {"confirmed": 1, "checked_in": 1, "waiting": 0, "walk_ins": 0}
        assert 'data-result="admitted"' in body["banner"]
        # retried (the answer was lost on the way back): the same answer
        status, body = post_json(client, event, {"token": token, "nonce": "uuid-1"})
        assert (status, body["code"]) == (200, "admitted")
        status, body = post_json(client, event, {"token": token, "nonce": "uuid-2"})
        assert (status, body["code"], body["by"]) == (
            200,
            "already",
            checkin_staff.user.get_full_name(),
        )
        assert CheckIn.objects.get().method == "scan"

    def test_refusals_are_4xx_with_a_stable_code(
        self, org_a: Any, event: Event, rima: Rsvp, checkin_staff: Any
    ) -> None:
        client = checkin_staff.client()
        other = gate_rsvp(make_event(org_a, slug="other"), "x@example.org", "X")
        cases = [
            ({"token": tickets.ticket_token(other.pk)}, 404, "not_found"),
            ({"token": "garbage"}, 404, "not_found"),
            ({"code": "ZZZZZZZZ"}, 404, "not_found"),
            ({"rsvp": str(other.pk)}, 404, "not_found"),
            ({"rsvp": "not-a-number"}, 404, "not_found"),
            ({}, 400, "nothing_given"),
            ({"code": rima.code, "nonce": ""}, 400, "no_nonce"),
        ]
        for data, status, code in cases:
            got, body = post_json(client, event, {"nonce": "n", **data})
            assert (got, body["ok"], body["code"]) == (status, False, code), data
        assert not CheckIn.objects.exists()

    def test_the_waiting_list_is_told_apart(self, org_a: Any, checkin_staff: Any) -> None:
        event = make_event(org_a, capacity=1)
        answer(event, 1)
        waiting = answer(event, 2).rsvp
        status, body = post_json(
            checkin_staff.client(), event, {"code": waiting.code, "nonce": "n"}
        )
        assert (status, body["code"], body["name"]) == (409, "waiting_list", "P2")

    def test_the_counts(self, event: Event, rima: Rsvp, checkin_staff: Any) -> None:
        response = checkin_staff.client().get(gate_url(event, "counts/"))
        body = json.loads(response.content)
        assert (
            body["counts"]["confirmed"] == 1 and 'data-count="confirmed">1<' in body["counts_html"]
        )


class TestWalkInPage:
    def post(self, persona: Any, event: Event, **data: str) -> Any:
        fields = {"given_name": "Nour", "email": "nour@example.org", "nonce": "w1", **data}
        return persona.client().post(gate_url(event, "walk-in/"), fields)

    def test_a_walk_in_is_added_and_let_in(self, event: Event, checkin_staff: Any) -> None:
        form = checkin_staff.client().get(gate_url(event, "walk-in/")).content.decode()
        assert 'name="nonce"' in form
        response = self.post(checkin_staff, event)
        assert response.status_code == 200 and 'data-result="admitted"' in response.content.decode()
        again = self.post(checkin_staff, event)  # the browser sent it twice
        assert 'data-result="admitted"' in again.content.decode()
        assert CheckIn.objects.get().method == "walk-in"

    def test_a_full_event_says_so(self, org_a: Any, checkin_staff: Any) -> None:
        event = make_event(org_a, capacity=1)
        answer(event, 1)
        response = self.post(checkin_staff, event)
        assert response.status_code == 409
        assert not CheckIn.objects.exists()

    def test_an_address_on_file_does_not_tell_staff_whose_it_is(
        self, event: Event, checkin_staff: Any
    ) -> None:
        from saha.supporters.services import upsert_person

        upsert_person(
            organization=event.organization,
            actor="test",
            data=PersonData(email="secret@example.org", given_name="Hidden"),
            source="manual",
        )
        response = self.post(checkin_staff, event, given_name="Whoever", email="secret@example.org")
        page = response.content.decode()
        assert "Hidden" not in page and "Whoever" in page

    def test_a_contact_is_needed(self, event: Event, checkin_staff: Any) -> None:
        assert self.post(checkin_staff, event, email="").status_code == 400
        assert self.post(checkin_staff, event, email="", phone="12").status_code == 400
        assert not Rsvp.objects.exists()


# --- at once (PostgreSQL: SQLite runs one writer at a time) ---------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_phones_scanning_one_ticket_at_once_make_one_check_in(
    org_a: Any, checkin_staff: Any
) -> None:
    event = make_event(org_a)
    rsvp = gate_rsvp(event, "rima@example.org", "Rima")
    # ten phones: five send the same retried request, five scan the ticket anew
    nonces = ["retried"] * 5 + [f"fresh-{n}" for n in range(5)]
    barrier = threading.Barrier(len(nonces))
    answers: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def scan(nonce: str) -> None:
        try:
            barrier.wait(timeout=30)
            result = gate.admit(
                event=event, rsvp=rsvp, actor=checkin_staff.user, nonce=nonce, method="scan"
            )
            answers.append((nonce, result.already))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    phones = [threading.Thread(target=scan, args=(nonce,)) for nonce in nonces]
    for phone in phones:
        phone.start()
    for phone in phones:
        phone.join(timeout=60)
    assert errors == []
    [check_in] = CheckIn.objects.all()
    assert AuditEntry.objects.filter(action="events.check_in.created").count() == 1
    # exactly one request let them in (or all the retried copies of it did)
    admitted = {nonce for nonce, already in answers if not already}
    assert admitted == {check_in.nonce}
    assert gate.counts(event).checked_in == 1  # and the banner counted them once
