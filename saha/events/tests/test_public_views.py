"""The public event pages: a list, an event with its RSVP form, the ticket, the calendar file.

All work without JavaScript and carry none; a ticket is found by its signed
token alone, and shows the private details only to someone who has a place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from saha.events import tickets
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.events.tests.test_rsvp import answer, make_event
from saha.supporters.models import ConsentRecord

pytestmark = pytest.mark.django_db


def event_url(event: Event, suffix: str = "") -> str:
    return f"/o/{event.organization.slug}/events/{event.slug}/{suffix}"


def ticket_url(rsvp: Rsvp) -> str:
    return f"/t/{tickets.ticket_token(rsvp.pk)}/"


def post_rsvp(client: Client, event: Event, **fields: str) -> Any:
    data = {"given_name": "Rima", "language": "en", **fields}
    return client.post(event_url(event), data, HTTP_ACCEPT_LANGUAGE="en")


class TestList:
    def test_lists_published_public_upcoming_events_only(self, client: Client, org_a: Any) -> None:
        make_event(org_a, slug="shown", titles={"en": "Shown march"})
        make_event(org_a, slug="draft", titles={"en": "Draft one"}, status=EventStatus.DRAFT)
        make_event(
            org_a, slug="unlisted", titles={"en": "Secret one"}, visibility=Visibility.UNLISTED
        )
        past = timezone.now() - dt.timedelta(days=3)
        make_event(
            org_a,
            slug="past",
            titles={"en": "Old one"},
            starts_at=past,
            ends_at=past + dt.timedelta(hours=1),
        )
        response = client.get(f"/o/{org_a.slug}/events/", HTTP_ACCEPT_LANGUAGE="en")
        page = response.content.decode()
        assert response.status_code == 200
        assert "Shown march" in page
        assert "Draft one" not in page and "Secret one" not in page and "Old one" not in page
        assert "<script" not in page

    def test_shows_the_local_time_in_the_events_zone(self, client: Client, org_a: Any) -> None:
        start = dt.datetime(2030, 6, 1, 15, 30, tzinfo=dt.UTC)  # 18:30 in Beirut (summer)
        make_event(org_a, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        page = client.get(f"/o/{org_a.slug}/events/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "6:30" in page and "Asia/Beirut" in page


class TestEventPage:
    def test_in_arabic_it_is_right_to_left_and_without_script(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, private_location="Back door, code 1234")
        response = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="ar")
        page = response.content.decode()
        assert response.status_code == 200
        assert 'dir="rtl"' in page and "تنظيف الشاطئ" in page
        assert "<script" not in page
        assert "1234" not in page
        assert 'name="csrfmiddlewaretoken"' in page

    def test_a_draft_is_not_found(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a, status=EventStatus.DRAFT)
        assert client.get(event_url(event)).status_code == 404
        assert client.get(event_url(event, "event.ics")).status_code == 404

    def test_another_organizations_slug_does_not_find_the_event(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        event = make_event(org_a)
        assert client.get(f"/o/{org_b.slug}/events/{event.slug}/").status_code == 404
        assert client.post(f"/o/{org_b.slug}/events/{event.slug}/").status_code == 404

    def test_places_left_and_full(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a, capacity=2)
        answer(event, 1)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "1 place left" in page
        answer(event, 2)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "waiting list" in page


class TestRsvpForm:
    def test_a_post_without_javascript_answers_and_redirects_to_the_ticket(
        self, org_a: Any
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        event = make_event(org_a)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        csrf = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            event_url(event),
            {
                "csrfmiddlewaretoken": csrf,
                "given_name": "Rima",
                "email": "rima@example.org",
                "language": "en",
                "consent_email": "on",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        rsvp = Rsvp.objects.get(event=event)
        assert response.status_code == 303
        assert response["Location"] == ticket_url(rsvp)
        assert rsvp.status == RsvpStatus.CONFIRMED and rsvp.person.given_name == "Rima"
        consent = ConsentRecord.objects.get(person=rsvp.person)
        assert consent.channel == "email" and consent.source == "form"
        assert consent.wording == f"Send me news from {org_a.name} by email."
        assert consent.source_ref.endswith(event_url(event))

    def test_without_the_csrf_token_nothing_happens(self, org_a: Any) -> None:
        event = make_event(org_a)
        client = Client(enforce_csrf_checks=True)
        response = post_rsvp(client, event, email="rima@example.org")
        assert response.status_code == 403 and not Rsvp.objects.exists()

    def test_the_same_person_twice_is_one_rsvp(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        first = post_rsvp(client, event, email="rima@example.org")
        again = post_rsvp(client, event, email="RIMA@example.org")
        assert first.status_code == again.status_code == 303
        assert first["Location"] == again["Location"]
        assert Rsvp.objects.filter(event=event).count() == 1

    def test_without_email_or_phone_the_form_says_so(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        response = post_rsvp(client, event)
        assert response.status_code == 400
        assert "Give an email address or a phone number." in response.content.decode()
        assert not Rsvp.objects.exists()

    def test_an_invalid_phone_is_a_form_error(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        response = post_rsvp(client, event, phone="12")
        assert response.status_code == 400
        assert "This phone number is not valid." in response.content.decode()

    def test_full_without_waiting_list_is_an_error_not_a_crash(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, capacity=1, waiting_list=False)
        answer(event, 1)
        response = post_rsvp(client, event, email="late@example.org")
        assert response.status_code == 409
        assert "This event is full." in response.content.decode()

    def test_a_cancelled_event_takes_no_answer(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a, status=EventStatus.CANCELLED)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "This event is cancelled." in page and "given_name" not in page
        response = post_rsvp(client, event, email="late@example.org")
        assert response.status_code == 409 and not Rsvp.objects.exists()


class TestTicket:
    def test_a_confirmed_ticket_shows_the_code_the_qr_and_the_private_location(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, private_location="Back door, code 1234")
        rsvp = answer(event, 1, language="en").rsvp
        response = client.get(ticket_url(rsvp))
        page = response.content.decode()
        assert response.status_code == 200
        assert rsvp.code in page and "<svg" in page and "1234" in page
        assert "<script" not in page
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Robots-Tag"] == "noindex"
        assert "no-store" in response["Cache-Control"]

    def test_the_waiting_list_does_not_see_the_private_location(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, capacity=1, private_location="Back door, code 1234")
        answer(event, 1)
        waiting = answer(event, 2, language="en").rsvp
        page = client.get(ticket_url(waiting)).content.decode()
        assert waiting.status == RsvpStatus.WAITING
        assert "waiting list" in page
        assert "1234" not in page and waiting.code not in page and "<svg" not in page

    def test_a_forged_token_is_not_found(self, client: Client, org_a: Any) -> None:
        rsvp = answer(make_event(org_a), 1).rsvp
        forged = tickets.ticket_token(rsvp.pk).split("-")[0] + "-AAAAAAAAAAAAAAAA"
        assert client.get(f"/t/{forged}/").status_code == 404
        assert client.post(f"/t/{forged}/", {"confirm": "1"}).status_code == 404
        assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CONFIRMED

    def test_cancel_asks_first_then_frees_the_place_for_the_waiting_list(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, capacity=1)
        coming = answer(event, 1, language="en").rsvp
        waiting = answer(event, 2).rsvp
        asked = client.post(ticket_url(coming))
        assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode()
        assert Rsvp.objects.get(pk=coming.pk).status == RsvpStatus.CONFIRMED
        done = client.post(ticket_url(coming), {"confirm": "1"})
        assert done.status_code == 303 and done["Location"] == ticket_url(coming)
        assert Rsvp.objects.get(pk=coming.pk).status == RsvpStatus.CANCELLED
        assert Rsvp.objects.get(pk=waiting.pk).status == RsvpStatus.CONFIRMED
        page = client.get(ticket_url(coming)).content.decode()
        assert "Your place is cancelled." in page and "<svg" not in page

    def test_the_ticket_speaks_the_language_given_with_the_rsvp(
        self, client: Client, org_a: Any
    ) -> None:
        rsvp = answer(make_event(org_a), 1, language="ar").rsvp
        page = client.get(ticket_url(rsvp)).content.decode()
        assert 'dir="rtl"' in page and "تنظيف الشاطئ" in page


class TestCalendarFile:
    def test_the_ics_parses_with_the_local_start_and_revision(
        self, client: Client, org_a: Any
    ) -> None:
        start = dt.datetime(2030, 6, 1, 15, 30, tzinfo=dt.UTC)
        event = make_event(org_a, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        Event.objects.filter(pk=event.pk).update(revision=3)
        response = client.get(event_url(event, "event.ics"), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        assert response["Content-Disposition"] == 'attachment; filename="beach-clean-up.ics"'
        [vevent] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        local = vevent.decoded("DTSTART")
        assert local == start
        assert local.astimezone(ZoneInfo("Asia/Beirut")).hour == 18
        assert str(vevent["DTSTART"].params["TZID"]) == "Asia/Beirut"
        assert vevent["SEQUENCE"] == 3 and vevent["STATUS"] == "CONFIRMED"
        assert str(vevent["SUMMARY"]) == "Beach clean-up"

    def test_a_cancelled_event_says_so(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a, status=EventStatus.CANCELLED)
        [vevent] = icalendar.Calendar.from_ical(
            client.get(event_url(event, "event.ics")).content
        ).walk("VEVENT")
        assert vevent["STATUS"] == "CANCELLED"

    def test_an_arabic_title_names_the_file_after_the_slug(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a)
        response = client.get(event_url(event, "event.ics"), HTTP_ACCEPT_LANGUAGE="ar")
        assert response["Content-Disposition"] == 'attachment; filename="clean-up.ics"'
