"""The public pages: the offer form (standalone and embedded), a need with its shifts, and
the pages reached by a signed link. No script anywhere; the same page after a form
whatever address was typed; the link only ever in the person's own messages; bad input
a 4xx with the error, never a 500."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.utils import timezone

from saha.events.models import EventStatus
from saha.supporters.models import Person
from saha.supporters.services import PersonData
from saha.volunteers import services, tokens
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Need,
    Offer,
    OfferStatus,
    Shift,
)
from saha.volunteers.tests.helpers import (
    capability,
    link_in,
    make_event,
    make_need,
    make_offer,
    offered,
    sent_email_bodies,
)

pytestmark = pytest.mark.django_db
DIRECTION = {"en": "ltr", "ar": "rtl"}


def offer_url(organization: Any) -> str:
    return f"/o/{organization.slug}/volunteer/"


def van_form(organization: Any, **extra: str) -> dict[str, str]:
    driver = capability(organization, "driver")
    return {
        "given_name": "Rima",
        "email": "rima@example.org",
        "language": "en",
        f"cap_{driver.pk}": "on",
        f"qty_{driver.pk}": "9",
        f"details_{driver.pk}": "Minibus",
        "from_1": "2030-05-01",
        "until_1": "2030-05-03",
        "from_time_1": "09:00",
        "to_time_1": "13:00",
        "locality": "Hamra",
        **extra,
    }


def post(client: Client, url: str, data: dict[str, str], language: str = "en") -> Any:
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


def no_script(page: str) -> bool:
    return "<script" not in page


class TestOfferForm:
    @pytest.mark.parametrize("language", ["en", "ar"])
    def test_the_form_works_without_script_in_each_language(
        self, client: Client, org_a: Any, language: str
    ) -> None:
        response = client.get(offer_url(org_a), HTTP_ACCEPT_LANGUAGE=language)
        page = response.content.decode()
        assert response.status_code == 200
        assert f'lang="{language}" dir="{DIRECTION[language]}"' in page
        assert no_script(page)
        driver = capability(org_a, "driver")
        assert f'name="cap_{driver.pk}"' in page and f'name="qty_{driver.pk}"' in page
        assert driver.names[language] in page
        assert 'type="date"' in page and 'name="website"' in page

    def test_an_offer_is_saved_and_the_link_goes_to_the_persons_mailbox_only(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, offer_url(org_a), van_form(org_a))
        assert response.status_code == 303
        assert response["Location"] == f"/o/{org_a.slug}/volunteer/thanks/"
        offer = Offer.objects.get()
        van = offered(offer, "driver")
        assert (van.quantity, van.details, offer.locality, offer.source_ref) == (
            9,
            "Minibus",
            "Hamra",
            "form",
        )
        window = offer.availability.get()
        assert (window.from_time, window.to_time) == (dt.time(9), dt.time(13))
        thanks = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "/v/" not in thanks and "rima@example.org" not in thanks
        [body] = sent_email_bodies()
        assert tokens.read_offer(link_in(body).split("/")[2]) == offer.pk

    def test_a_known_supporters_offer_is_not_changed_by_the_form_and_the_page_is_the_same(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        make_offer(org_a, 1, {"cooking": None})
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, offer_url(org_a), van_form(org_a, email="v1@example.org"))
        assert response.status_code == 303
        assert response["Location"] == f"/o/{org_a.slug}/volunteer/thanks/"
        offer = Offer.objects.get()
        assert [r.capability.key for r in offer.capabilities.all()] == ["cooking"]
        assert offer.locality == ""
        [body] = sent_email_bodies()
        assert "was not changed" in body and tokens.offer_url(offer.pk) in body

    def test_a_bot_filling_the_honeypot_gets_the_same_answer_and_nothing_is_saved(
        self, client: Client, org_a: Any
    ) -> None:
        response = post(client, offer_url(org_a), van_form(org_a, website="http://spam"))
        assert response.status_code == 303
        assert not Person.objects.exists()

    @pytest.mark.parametrize(
        ("change", "error"),
        [
            ({"cap": ""}, "Tick at least one thing you can offer."),
            ({"qty": ""}, "Say how many."),
            ({"qty": "0"}, "greater than or equal to 1"),
            ({"until_1": "2030-04-01"}, "The last day cannot be before the first."),
            ({"to_time_1": ""}, "Give both times of the day, or neither."),
            ({"to_time_1": "08:00"}, "The end time must be after the start time."),
            ({"from_1": "not a date"}, "Enter a valid date."),
            ({"email": ""}, "Give an email address or a phone number."),
            ({"email": "", "phone": "12"}, "This phone number is not valid."),
        ],
    )
    def test_bad_input_is_a_400_with_the_error_and_keeps_what_was_typed(
        self, client: Client, org_a: Any, change: dict[str, str], error: str
    ) -> None:
        driver = capability(org_a, "driver")
        data = van_form(org_a)
        for name, value in change.items():
            key = {"cap": f"cap_{driver.pk}", "qty": f"qty_{driver.pk}"}.get(name, name)
            if value:
                data[key] = value
            else:
                data.pop(key)
        response = post(client, offer_url(org_a), data)
        page = response.content.decode()
        assert response.status_code == 400
        assert error in page.replace("&#x27;", "'")
        assert 'value="Hamra"' in page  # nothing typed is lost
        assert not Offer.objects.exists()

    def test_another_organizations_capability_is_no_field_of_the_form(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        theirs = capability(org_b, "cooking")
        data = {
            "given_name": "Rima",
            "email": "rima@example.org",
            "language": "en",
            f"cap_{theirs.pk}": "on",
        }
        response = post(client, offer_url(org_a), data)
        assert response.status_code == 400 and not Offer.objects.exists()

    @override_settings(SAHA_VOLUNTEER_IP_LIMIT=2)
    def test_too_many_attempts_from_one_address_are_refused(
        self, client: Client, org_a: Any
    ) -> None:
        for n in range(2):
            post(client, offer_url(org_a), van_form(org_a, email=f"r{n}@example.org"))
        response = post(client, offer_url(org_a), van_form(org_a, email="r9@example.org"))
        assert response.status_code == 429 and response["Retry-After"]
        assert Offer.objects.count() == 2

    def test_the_embedded_form_records_where_it_came_from(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        event = make_event(org_a)
        html = render_to_string(
            "volunteers/public/_offer_form.html", {"organization": org_a, "event": event}
        )
        assert f'action="/o/{org_a.slug}/volunteer/"' in html
        assert f'name="event" value="{event.pk}"' in html and no_script(html)
        post(client, offer_url(org_a), van_form(org_a, event=str(event.pk)))
        assert Offer.objects.get().source_ref == f"event:{event.pk}"
        theirs = make_event(org_b)
        for forged in (str(theirs.pk), "²", "99999999999999999999999"):
            Offer.objects.all().delete()
            response = post(client, offer_url(org_a), van_form(org_a, event=forged))
            assert response.status_code == 303
            assert Offer.objects.get().source_ref == "form"

    def test_a_capability_can_be_ticked_in_advance(self, client: Client, org_a: Any) -> None:
        driver = capability(org_a, "driver")
        page = client.get(f"{offer_url(org_a)}?capability={driver.pk}").content.decode()
        assert re.search(rf'name="cap_{driver.pk}"[^>]*checked', page)

    def test_an_unknown_organization_is_a_404(self, client: Client, db: Any) -> None:
        assert client.get("/o/nobody/volunteer/").status_code == 404


class TestOwnOffer:
    def page(self, offer: Offer) -> str:
        return f"/v/{tokens.offer_token(offer.pk)}/"

    def test_the_link_shows_the_offer_prefilled_privately(self, client: Client, org_a: Any) -> None:
        offer = make_offer(org_a, 1, {"driver": 9})
        response = client.get(self.page(offer), HTTP_ACCEPT_LANGUAGE="ar")
        page = response.content.decode()
        assert response.status_code == 200
        assert response["X-Robots-Tag"] == "noindex" and "no-cache" in response["Cache-Control"]
        driver = capability(org_a, "driver")
        assert re.search(rf'name="qty_{driver.pk}"[^>]*value="9"', page)
        assert no_script(page)

    def test_a_wrong_or_foreign_token_is_a_404(self, client: Client, org_a: Any) -> None:
        offer = make_offer(org_a, 1)
        need = make_need(org_a)
        row = services.assign(actor="t", need=need, offered=offered(offer, "stewarding"))
        assert client.get(f"/v/{tokens.offer_token(offer.pk)}x/").status_code == 404
        assert client.get(f"/v/{tokens.assignment_token(row.pk)}/").status_code == 404
        assert client.get(f"/v/{tokens.offer_token(offer.pk)}/respond/").status_code == 404
        assert client.get("/v/٤٢-abc/").status_code == 404

    def test_the_owner_updates_and_withdraws_after_confirming(
        self, client: Client, org_a: Any
    ) -> None:
        offer = make_offer(org_a, 1, {"driver": 9})
        driver = capability(org_a, "driver")
        data = {"action": "update", f"cap_{driver.pk}": "on", f"qty_{driver.pk}": "12"}
        response = post(client, self.page(offer), data)
        assert response.status_code == 303 and offered(offer, "driver").quantity == 12
        bad = post(client, self.page(offer), {"action": "update"})
        assert bad.status_code == 400
        asked = post(client, self.page(offer), {"action": "withdraw"})
        assert asked.status_code == 200 and Offer.objects.get().status == OfferStatus.ACTIVE
        post(client, self.page(offer), {"action": "withdraw", "confirm": "1"})
        assert Offer.objects.get().status == OfferStatus.WITHDRAWN
        post(client, self.page(offer), data)
        assert Offer.objects.get().status == OfferStatus.ACTIVE

    def test_seats_promised_cannot_be_lowered_from_the_page(
        self, client: Client, org_a: Any
    ) -> None:
        offer = make_offer(org_a, 1, {"driver": 9})
        services.assign(
            actor="t",
            need=make_need(org_a, "driver", min_quantity=8),
            offered=offered(offer, "driver"),
        )
        driver = capability(org_a, "driver")
        data = {"action": "update", f"cap_{driver.pk}": "on", f"qty_{driver.pk}": "4"}
        response = post(client, self.page(offer), data)
        assert response.status_code == 409 and offered(offer, "driver").quantity == 9

    def test_the_page_lists_invitations_with_buttons(self, client: Client, org_a: Any) -> None:
        offer = make_offer(org_a, 1)
        need = make_need(org_a)
        services.invite(actor="t", need=need, offers=[offer])
        row = Assignment.objects.get()
        page = client.get(self.page(offer), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        respond = f"/v/{tokens.assignment_token(row.pk)}/respond/"
        assert f'action="{respond}"' in page and 'value="accept"' in page
        response = post(client, respond, {"action": "accept"})
        assert response.status_code == 303
        assert Assignment.objects.get().status == AssignmentStatus.ACCEPTED


class TestRespond:
    def page(self, row: Assignment) -> str:
        return f"/v/{tokens.assignment_token(row.pk)}/respond/"

    def invited(self, organization: Any, n: int, need: Need) -> Assignment:
        offer = make_offer(organization, n)
        services.invite(actor="t", need=need, offers=[offer])
        return Assignment.objects.get(need=need, person=offer.person)

    def test_opening_the_link_changes_nothing_pressing_the_button_does(
        self, client: Client, org_a: Any
    ) -> None:
        need = make_need(org_a, wanted=1)
        row = self.invited(org_a, 1, need)
        response = client.get(f"{self.page(row)}?answer=accept", HTTP_ACCEPT_LANGUAGE="ar")
        assert response.status_code == 200 and 'value="accept"' in response.content.decode()
        assert Assignment.objects.get().status == AssignmentStatus.INVITED
        assert post(client, self.page(row), {"action": "accept"}).status_code == 303
        assert Need.objects.get(pk=need.pk).filled == 1

    def test_a_full_need_answers_with_a_clear_page(self, client: Client, org_a: Any) -> None:
        need = make_need(org_a, wanted=1)
        first, second = self.invited(org_a, 1, need), self.invited(org_a, 2, need)
        post(client, self.page(first), {"action": "accept"})
        response = post(client, self.page(second), {"action": "accept"})
        page = response.content.decode()
        assert response.status_code == 409
        assert "already covered" in page and "data-error" in page

    def test_declining_and_cancelling_after_confirming(self, client: Client, org_a: Any) -> None:
        need = make_need(org_a)
        row = self.invited(org_a, 1, need)
        post(client, self.page(row), {"action": "accept"})
        asked = post(client, self.page(row), {"action": "cancel"})
        assert asked.status_code == 200 and Need.objects.get(pk=need.pk).filled == 1
        post(client, self.page(row), {"action": "cancel", "confirm": "1"})
        assert Assignment.objects.get().status == AssignmentStatus.CANCELLED
        assert Need.objects.get(pk=need.pk).filled == 0
        other = self.invited(org_a, 2, need)
        post(client, self.page(other), {"action": "decline"})
        assert Assignment.objects.get(pk=other.pk).status == AssignmentStatus.DECLINED
        assert post(client, self.page(other), {"action": "nonsense"}).status_code == 400


class TestNeedPage:
    def page(self, need: Need) -> str:
        return f"/o/{need.organization.slug}/needs/{need.pk}/"

    def with_shifts(self, organization: Any) -> tuple[Need, list[Shift]]:
        need = make_need(organization, wanted=10)
        middle = need.starts_at + dt.timedelta(hours=1)
        shifts = [
            services.add_shift(
                actor="t", need=need, starts_at=need.starts_at, ends_at=middle, capacity=1
            ),
            services.add_shift(
                actor="t", need=need, starts_at=middle, ends_at=need.ends_at, capacity=3
            ),
        ]
        return need, shifts

    @pytest.mark.parametrize("language", ["en", "ar"])
    def test_the_need_its_shifts_and_places_left(
        self, client: Client, org_a: Any, language: str
    ) -> None:
        need, shifts = self.with_shifts(org_a)
        response = client.get(self.page(need), HTTP_ACCEPT_LANGUAGE=language)
        page = response.content.decode()
        assert response.status_code == 200 and no_script(page)
        assert f'lang="{language}" dir="{DIRECTION[language]}"' in page
        assert need.titles[language] in page and "Asia/Beirut" in page
        assert page.count('name="shift"') == 2
        assert f'data-shift="{shifts[1].pk}"' in page

    def test_signing_up_takes_a_place_then_the_waiting_list_with_the_same_thanks(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        need, shifts = self.with_shifts(org_a)
        answers = []
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(2):
                data = {
                    "given_name": f"S{n}",
                    "email": f"s{n}@example.org",
                    "language": "en",
                    "shift": str(shifts[0].pk),
                }
                answers.append(post(client, self.page(need), data))
        assert {a.status_code for a in answers} == {303}
        assert len({a["Location"] for a in answers}) == 1
        statuses = list(Assignment.objects.order_by("pk").values_list("status", flat=True))
        assert statuses == ["accepted", "waiting"]
        bodies = sent_email_bodies()
        assert "you are in" in bodies[0] and "waiting list" in bodies[1]
        respond = link_in(bodies[1])
        assert tokens.read_assignment(respond.split("/")[2]) == Assignment.objects.last().pk

    def test_bad_input_is_a_400(self, client: Client, org_a: Any) -> None:
        need, shifts = self.with_shifts(org_a)
        for data in (
            {"given_name": "S", "email": "s@example.org", "language": "en"},  # no shift
            {"given_name": "S", "email": "s@example.org", "language": "en", "shift": "999"},
            {"given_name": "S", "language": "en", "shift": str(shifts[0].pk)},  # no contact
        ):
            assert post(client, self.page(need), data).status_code == 400
        assert not Assignment.objects.exists()

    def test_only_open_public_needs_of_published_events_are_shown(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        need = make_need(org_a)
        hidden = make_need(org_a, event=need.event, public_sign_up=False)
        closed = make_need(org_a, event=need.event)
        services.close_need(actor="t", need=closed)
        draft = make_need(org_a, event=make_event(org_a, slug="d", status=EventStatus.DRAFT))
        assert client.get(self.page(need)).status_code == 200
        for missing in (hidden, closed, draft):
            assert client.get(self.page(missing)).status_code == 404
        assert client.get(f"/o/{org_b.slug}/needs/{need.pk}/").status_code == 404

    def test_a_resource_need_points_to_the_offer_form(self, client: Client, org_a: Any) -> None:
        vans = make_need(org_a, "driver", min_quantity=8)
        page = client.get(self.page(vans), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        driver = capability(org_a, "driver")
        assert f"/volunteer/?capability={driver.pk}&amp;event={vans.event_id}" in page
        assert 'name="shift"' not in page and "at least 8 seats" in page
        data = {"given_name": "S", "email": "s@example.org", "language": "en"}
        assert post(client, self.page(vans), data).status_code == 409

    def test_a_past_need_no_longer_takes_sign_ups(self, client: Client, org_a: Any) -> None:
        past = timezone.now() - dt.timedelta(days=1)
        need = make_need(org_a, starts_at=past, ends_at=past)
        page = client.get(self.page(need), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'name="given_name"' not in page
        data = {"given_name": "S", "email": "s@example.org", "language": "en"}
        assert post(client, self.page(need), data).status_code == 409

    def test_the_same_person_twice_is_one_sign_up_and_the_same_page(
        self, client: Client, org_a: Any
    ) -> None:
        need = make_need(org_a)
        data = {"given_name": "S", "email": "s@example.org", "language": "en"}
        first, again = post(client, self.page(need), data), post(client, self.page(need), data)
        assert first["Location"] == again["Location"]
        assert Assignment.objects.count() == 1
        services.sign_up_for_need(need=need, data=PersonData(email="s@example.org"))
        assert Need.objects.get(pk=need.pk).filled == 1
