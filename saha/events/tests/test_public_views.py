"""The public event pages: a list, an event with its RSVP form, the ticket, the calendar file.

All work without JavaScript: the only script is a static file that adds the
map on request and the share sheet (see test_public_browser.py); a ticket is
found by its signed token alone, and shows the private details only to
someone who has a place.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saha.events import tickets
from saha.events.models import CoHost, Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.events.tests.test_rsvp import answer, make_event
from saha.messaging import outbox
from saha.messaging.models import Delivery
from saha.supporters.models import ConsentRecord
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def event_url(event: Event, suffix: str = "") -> str:
    return f"/o/{event.organization.slug}/events/{event.slug}/{suffix}"


def ticket_url(rsvp: Rsvp) -> str:
    return f"/t/{tickets.ticket_token(rsvp.pk)}/"


def only_the_static_script(page: str) -> bool:
    """Every script is events/map.js, loaded from a file: nothing inline."""
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    return scripts == [""] and '<script src="/static/events/map.js" defer>' in page


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
        assert "<script" not in page  # no event has a place on the map: no script at all

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
        assert only_the_static_script(page)
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
    def test_a_post_without_javascript_answers_and_the_ticket_goes_by_message(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        event = make_event(org_a)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        csrf = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        with django_capture_on_commit_callbacks(execute=True):
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
        assert response["Location"] == event_url(event, "thanks/")
        thanks = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        assert thanks.status_code == 200 and rsvp.code not in thanks.content.decode()
        # the ticket, with the link to its page, by email
        outbox.drain(budget_seconds=5)
        assert ticket_url(rsvp) in mail.outbox[0].body
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
        assert first["Location"] == again["Location"] == event_url(event, "thanks/")
        assert Rsvp.objects.filter(event=event).count() == 1

    def test_an_address_that_answered_before_gets_its_ticket_by_message_not_on_screen(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        event = make_event(org_a, private_location="Back door, code 1234")
        post_rsvp(client, event, email="rima@example.org")
        stranger = Client()
        with django_capture_on_commit_callbacks(execute=True):
            for _twice in range(2):
                again = post_rsvp(stranger, event, email="rima@example.org")
        # whoever typed the address sees what anyone sees: no ticket, code or place
        rsvp = Rsvp.objects.get(event=event)
        assert again["Location"] == event_url(event, "thanks/")
        page = stranger.get(again["Location"]).content.decode()
        assert rsvp.code not in page and "1234" not in page
        assert tickets.ticket_token(rsvp.pk) not in page
        # the ticket went again to the address on file, once within the hour
        again_sent = Delivery.objects.filter(message__key__contains=":again:")
        assert again_sent.count() == 1

    def test_a_stranger_cannot_add_their_address_to_someone_elses_answer(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        event = make_event(org_a)
        post_rsvp(client, event, phone="+961 3 123 456", given_name="Victim")
        stranger = Client()
        with django_capture_on_commit_callbacks(execute=True):
            post_rsvp(
                stranger,
                event,
                phone="+961 3 123 456",
                email="attacker@example.net",
                given_name="Other",
                consent_email="on",
            )
        rsvp = Rsvp.objects.get(event=event)
        person = rsvp.person
        # the typed email is not theirs now, no consent for it, the name is unchanged
        assert not person.emails.exists() and person.given_name == "Victim"
        assert not ConsentRecord.objects.filter(person=person, channel="email").exists()
        # the ticket went again, by SMS, to their own phone
        again = Delivery.objects.get(message__key__contains=":again:")
        assert again.channel == "sms" and "attacker" not in again.address

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


BEIRUT = ZoneInfo("Asia/Beirut")
PARIS = ZoneInfo("Europe/Paris")


def located(organization: Any, **fields: Any) -> Event:
    return make_event(organization, **{"latitude": "33.89590", "longitude": "35.50770", **fields})


class TestMapAndPlaceLinks:
    def test_without_script_the_map_is_two_links(self, client: Client, org_a: Any) -> None:
        event = located(org_a)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert (
            'href="https://www.openstreetmap.org/?mlat=33.89590&amp;mlon=35.50770'
            '#map=16/33.89590/35.50770"' in page
        )
        assert 'href="geo:33.89590,35.50770"' in page
        assert "Open in OpenStreetMap" in page and "Open in my maps app" in page

    def test_the_show_map_button_waits_hidden_for_the_script(
        self, client: Client, org_a: Any
    ) -> None:
        page = client.get(event_url(located(org_a)), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert re.search(r"<button[^>]*data-show-map[^>]*hidden", page)
        # The tile server is named for the script to use, never asked by the page itself.
        assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
        assert "<img" not in page.split("<main", 1)[1].replace('src="/static/', "")
        assert "tile.openstreetmap.org" in page  # the note saying who will see the visitor

    def test_coordinates_are_never_localized(self, client: Client, org_a: Any) -> None:
        page = client.get(event_url(located(org_a)), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert 'data-lat="33.89590"' in page and "33,89590" not in page

    def test_the_tile_server_is_a_setting(self, client: Client, org_a: Any, settings: Any) -> None:
        settings.SAHA_MAP_TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
        page = client.get(event_url(located(org_a)), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in page
        assert "tiles.example.org" in page and "openstreetmap.org/copyright" not in page

    def test_an_event_without_coordinates_has_no_map(self, client: Client, org_a: Any) -> None:
        page = client.get(event_url(make_event(org_a)), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "geo:" not in page and "data-map" not in page

    def test_the_list_marks_each_located_event_and_loads_the_script(
        self, client: Client, org_a: Any, django_assert_max_num_queries: Any
    ) -> None:
        located(org_a, slug="here", titles={"en": "Here"})
        make_event(org_a, slug="nowhere", titles={"en": "Nowhere"})
        located(org_a, slug="there", titles={"en": "There"}, latitude="48.85660")
        with django_assert_max_num_queries(4):
            page = client.get(f"/o/{org_a.slug}/events/", HTTP_ACCEPT_LANGUAGE="en")
        page = page.content.decode()
        assert page.count("data-map-point") == 2
        assert f'data-href="/o/{org_a.slug}/events/here/"' in page
        assert "geo:48.85660,35.50770" in page
        assert only_the_static_script(page)


class TestSharing:
    def test_plain_links_for_each_app_carry_the_page_address(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a)
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        url = f"http%3A%2F%2F127.0.0.1%3A8000%2Fo%2F{org_a.slug}%2Fevents%2Fclean-up%2F"
        title = "Beach%20clean-up"
        assert f'href="https://wa.me/?text={title}%0A{url}"' in page
        assert f'href="https://t.me/share/url?url={url}&amp;text={title}"' in page
        assert f'href="mailto:?subject={title}&amp;body={title}%0A{url}"' in page
        assert f'href="sms:?&amp;body={title}%0A{url}"' in page
        assert re.search(r"<button[^>]*data-share [^>]*hidden", page)  # for navigator.share

    def test_link_previews_and_indexing(self, client: Client, org_a: Any) -> None:
        public = make_event(org_a, descriptions={"en": "Bring gloves.\n\nAnd water."})
        page = client.get(event_url(public), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        address = f"http://127.0.0.1:8000{event_url(public)}"
        assert '<meta property="og:title" content="Beach clean-up">' in page
        assert f'<meta property="og:url" content="{address}">' in page
        assert '<meta name="twitter:description" content="Bring gloves. And water.">' in page
        assert f'<link rel="canonical" href="{address}">' in page
        assert "noindex" not in page
        unlisted = make_event(org_a, slug="quiet", visibility=Visibility.UNLISTED)
        response = client.get(event_url(unlisted), HTTP_ACCEPT_LANGUAGE="en")
        assert '<meta name="robots" content="noindex">' in response.content.decode()
        assert response["X-Robots-Tag"] == "noindex"


class TestCoHosts:
    @pytest.fixture
    def co_hosted(self, org_a: Any, org_b: Any) -> Event:
        event = make_event(org_a)
        accepted = timezone.now()
        for co_host in (org_b, OrganizationFactory(slug="org-c")):
            CoHost.objects.create(
                event=event, organization=org_a, co_host=co_host, accepted_at=accepted
            )
        # asked but not (yet) accepted: named nowhere, no box
        CoHost.objects.create(
            event=event, organization=org_a, co_host=OrganizationFactory(slug="org-d")
        )
        return event

    def test_the_page_names_the_co_hosts_and_a_box_for_each(
        self, client: Client, co_hosted: Event, org_a: Any, org_b: Any
    ) -> None:
        page = client.get(event_url(co_hosted), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f"Called by {org_a.name} with Organization org-b and Organization org-c" in page
        box = re.search(rf'<input type="checkbox" name="share_{org_b.pk}"[^>]*>', page)
        assert box is not None and "checked" not in box.group(0)
        assert f"Share my name and contact details with {org_b.name}" in page

    def test_a_ticked_box_shares_and_an_unticked_one_does_not(
        self, client: Client, co_hosted: Event, org_b: Any
    ) -> None:
        response = post_rsvp(
            client, co_hosted, email="rima@example.org", **{f"share_{org_b.pk}": "on"}
        )
        rsvp = Rsvp.objects.get(event=co_hosted)
        assert response.status_code == 303
        assert list(rsvp.shared_with.values_list("slug", flat=True)) == ["org-b"]
        # the exact words of the box, as for any consent
        assert rsvp.shares.get().wording == f"Share my name and contact details with {org_b.name}"

    def test_a_box_ticked_for_someone_already_known_shares_nothing(
        self, client: Client, co_hosted: Event, org_a: Any, org_b: Any
    ) -> None:
        from saha.supporters.services import PersonData, upsert_person

        upsert_person(
            organization=org_a,
            actor="test",
            data=PersonData(email="known@example.org", given_name="Known"),
            source="manual",
        )
        post_rsvp(client, co_hosted, email="known@example.org", **{f"share_{org_b.pk}": "on"})
        assert not Rsvp.objects.get(event=co_hosted).shared_with.exists()

    def test_no_box_ticked_shares_with_nobody(self, client: Client, co_hosted: Event) -> None:
        post_rsvp(client, co_hosted, email="rima@example.org")
        assert not Rsvp.objects.get(event=co_hosted).shared_with.exists()

    def test_a_forged_box_for_another_organization_is_ignored(
        self, client: Client, co_hosted: Event
    ) -> None:
        outsider = OrganizationFactory(slug="org-outsider")
        response = post_rsvp(
            client, co_hosted, email="rima@example.org", **{f"share_{outsider.pk}": "on"}
        )
        assert response.status_code == 303
        assert not Rsvp.objects.get(event=co_hosted).shared_with.exists()


class TestTicketChanges:
    def test_the_ticket_offers_the_calendar_file(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        page = client.get(ticket_url(answer(event, 1).rsvp)).content.decode()
        assert f'href="{event_url(event, "event.ics")}"' in page

    def test_after_cancelling_the_attendee_can_come_after_all(
        self, client: Client, org_a: Any
    ) -> None:
        event = make_event(org_a, capacity=5)
        rsvp = answer(event, 1, language="en").rsvp
        client.post(ticket_url(rsvp), {"action": "cancel", "confirm": "1"})
        assert 'value="come_back"' in client.get(ticket_url(rsvp)).content.decode()
        response = client.post(ticket_url(rsvp), {"action": "come_back"})
        assert response.status_code == 303 and response["Location"] == ticket_url(rsvp)
        assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CONFIRMED
        assert Rsvp.objects.filter(event=event).count() == 1
        assert Event.objects.get(pk=event.pk).confirmed == 1

    def test_coming_back_to_a_full_event_says_so(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a, capacity=1, waiting_list=False)
        rsvp = answer(event, 1, language="en").rsvp
        client.post(ticket_url(rsvp), {"confirm": "1"})
        answer(event, 2)
        response = client.post(ticket_url(rsvp), {"action": "come_back"})
        assert response.status_code == 409
        assert "This event is full." in response.content.decode()
        assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CANCELLED

    def test_an_erased_person_cannot_come_back(self, client: Client, org_a: Any) -> None:
        rsvp = answer(make_event(org_a), 1, language="en").rsvp
        client.post(ticket_url(rsvp), {"confirm": "1"})
        Rsvp.objects.filter(pk=rsvp.pk).update(person=None)
        assert 'value="come_back"' not in client.get(ticket_url(rsvp)).content.decode()
        response = client.post(ticket_url(rsvp), {"action": "come_back"})
        assert response.status_code == 410
        assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CANCELLED

    def test_the_attendee_changes_the_language_of_their_messages(
        self, client: Client, org_a: Any
    ) -> None:
        rsvp = answer(make_event(org_a), 1, language="en").rsvp
        response = client.post(ticket_url(rsvp), {"action": "language", "language": "ar"})
        assert response.status_code == 303
        rsvp.refresh_from_db()
        assert rsvp.language == "ar" and rsvp.person.language == "ar"
        assert 'dir="rtl"' in client.get(ticket_url(rsvp)).content.decode()

    @pytest.mark.parametrize(
        "data",
        [{"action": "language", "language": "xx"}, {"action": "language"}, {"action": "boom"}],
    )
    def test_bad_input_is_a_4xx_with_a_message(
        self, client: Client, org_a: Any, data: dict[str, str]
    ) -> None:
        rsvp = answer(make_event(org_a), 1, language="en").rsvp
        response = client.post(ticket_url(rsvp), data)
        assert response.status_code == 400
        assert 'class="message error"' in response.content.decode()
        assert Rsvp.objects.get(pk=rsvp.pk).language == "en"

    def test_changes_need_the_csrf_token(self, org_a: Any) -> None:
        rsvp = answer(make_event(org_a), 1, language="en").rsvp
        client = Client(enforce_csrf_checks=True)
        response = client.post(ticket_url(rsvp), {"action": "language", "language": "ar"})
        assert response.status_code == 403
        assert Rsvp.objects.get(pk=rsvp.pk).language == "en"


def feed(client: Client, organization: Any, **headers: str) -> Any:
    return client.get(f"/o/{organization.slug}/events/calendar.ics", **headers)


def wall(zone: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


class TestFeed:
    def test_local_times_in_two_zones_across_a_change_of_clocks(
        self, client: Client, org_a: Any
    ) -> None:
        # Paris, the night clocks go forward (31 March 2030): 22:00 CET to 04:00 CEST.
        make_event(
            org_a,
            slug="night",
            time_zone="Europe/Paris",
            starts_at=wall(PARIS, 2030, 3, 30, 22),
            ends_at=wall(PARIS, 2030, 3, 31, 4),
        )
        for slug, month in (("winter", 1), ("summer", 7)):
            start = wall(BEIRUT, 2030, month, 12, 18, 30)
            make_event(org_a, slug=slug, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        response = feed(client, org_a)
        parsed = icalendar.Calendar.from_ical(response.content)
        events = {str(e["URL"]).rsplit("/", 2)[-2]: e for e in parsed.walk("VEVENT")}
        night = events["night"]
        assert night.decoded("DTSTART").replace(tzinfo=None) == dt.datetime(2030, 3, 30, 22)
        assert night.decoded("DTEND").replace(tzinfo=None) == dt.datetime(2030, 3, 31, 4)
        hours = night.decoded("DTEND").astimezone(dt.UTC) - night.decoded("DTSTART")
        assert hours == dt.timedelta(hours=5)  # one hour of that night never happens
        for slug, offset in (("winter", 2), ("summer", 3)):
            start = events[slug].decoded("DTSTART")
            assert (start.hour, start.minute) == (18, 30)
            assert start.utcoffset() == dt.timedelta(hours=offset)
        assert sorted(str(z["TZID"]) for z in parsed.walk("VTIMEZONE")) == [
            "Asia/Beirut",
            "Europe/Paris",
        ]

    def test_the_feed_is_a_subscribable_calendar(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        Event.objects.filter(pk=event.pk).update(revision=2)
        response = feed(client, org_a)
        parsed = icalendar.Calendar.from_ical(response.content)
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Content-Disposition"].startswith("inline")
        assert "max-age=" in response["Cache-Control"]
        assert str(parsed["X-WR-CALNAME"]) == "Events of Organization org-a"  # its language
        assert str(parsed["REFRESH-INTERVAL"].to_ical(), "ascii") == "PT1H"
        assert str(parsed["X-PUBLISHED-TTL"]) == "PT1H"
        [vevent] = parsed.walk("VEVENT")
        single = icalendar.Calendar.from_ical(client.get(event_url(event, "event.ics")).content)
        assert str(vevent["UID"]) == str(single.walk("VEVENT")[0]["UID"])
        assert vevent["SEQUENCE"] == 2

    def test_only_public_shown_and_recent_events_and_cancellations(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        long_ago = timezone.now() - dt.timedelta(days=120)
        lately = timezone.now() - dt.timedelta(days=30)
        make_event(org_a, slug="public")
        make_event(org_a, slug="gone", status=EventStatus.CANCELLED)
        make_event(org_a, slug="lately", starts_at=lately, ends_at=lately)
        make_event(org_a, slug="draft", status=EventStatus.DRAFT)
        make_event(org_a, slug="unlisted", visibility=Visibility.UNLISTED)
        make_event(org_a, slug="old", starts_at=long_ago, ends_at=long_ago)
        make_event(org_b, slug="theirs")
        parsed = icalendar.Calendar.from_ical(feed(client, org_a).content)
        statuses = {
            str(e["URL"]).rsplit("/", 2)[-2]: str(e["STATUS"]) for e in parsed.walk("VEVENT")
        }
        assert statuses == {"public": "CONFIRMED", "gone": "CANCELLED", "lately": "CONFIRMED"}

    def test_an_unchanged_feed_is_not_sent_again(self, client: Client, org_a: Any) -> None:
        event = make_event(org_a)
        first = feed(client, org_a)
        again = feed(client, org_a, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        Event.objects.filter(pk=event.pk).update(
            revision=1, modified_at=timezone.now() + dt.timedelta(seconds=1)
        )
        changed = feed(client, org_a, HTTP_IF_NONE_MATCH=first["ETag"])
        assert changed.status_code == 200 and changed["ETag"] != first["ETag"]

    def test_the_language_is_chosen_by_the_address(self, client: Client, org_a: Any) -> None:
        make_event(org_a)
        arabic = icalendar.Calendar.from_ical(
            client.get(f"/o/{org_a.slug}/events/calendar.ics?lang=ar").content
        )
        english = icalendar.Calendar.from_ical(
            feed(client, org_a, HTTP_ACCEPT_LANGUAGE="ar").content
        )
        assert str(arabic.walk("VEVENT")[0]["SUMMARY"]) == "تنظيف الشاطئ"
        assert str(english.walk("VEVENT")[0]["SUMMARY"]) == "Beach clean-up"  # the organization's

    def test_the_list_page_links_to_it(self, client: Client, org_a: Any) -> None:
        page = client.get(f"/o/{org_a.slug}/events/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'href="webcal://127.0.0.1:8000/o/{org_a.slug}/events/calendar.ics?lang=en"' in page
        assert f'href="http://127.0.0.1:8000/o/{org_a.slug}/events/calendar.ics?lang=en"' in page

    def test_an_unknown_organization_is_not_found_and_head_works(
        self, client: Client, org_a: Any
    ) -> None:
        assert client.get("/o/nobody/events/calendar.ics").status_code == 404
        assert client.head(f"/o/{org_a.slug}/events/calendar.ics").status_code == 200
        assert client.post(f"/o/{org_a.slug}/events/calendar.ics").status_code == 405
