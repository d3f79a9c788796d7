"""The public petition pages: a list, a petition with its sign form, the thank-you page,
the confirmation link, the widget and the counter.

All work without JavaScript; the scripts are static files (counter.js always,
pow.js while the challenge is on, see test_abuse.py). Whatever address is
typed, a signature ends on the same thank-you page.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saha.events.tests.test_rsvp import make_event
from saha.messaging import outbox
from saha.messaging.models import Delivery
from saha.petitions import intake, services
from saha.petitions.models import PendingSignature, Petition, PetitionStatus, Signature
from saha.petitions.tests.test_sign import make_petition, sign
from saha.supporters.models import ConsentRecord, Person
from saha.supporters.services import erase_person

pytestmark = pytest.mark.django_db


def petition_url(petition: Petition, suffix: str = "") -> str:
    return f"/o/{petition.organization.slug}/petitions/{petition.slug}/{suffix}"


def confirm_url(signature: Signature) -> str:
    return f"/s/{services.confirmation_token(signature)}/"


def post_signature(client: Client, petition: Petition, language: str = "en", **fields: str) -> Any:
    data = {
        "given_name": "Rima",
        "family_name": "Haddad",
        "email": "rima@example.org",
        "locality": "Tyre",
        "language": language,
        **fields,
    }
    return client.post(petition_url(petition), data, HTTP_ACCEPT_LANGUAGE=language)


def scripts(page: str) -> list[str]:
    """The scripts of a page, each a static file: none is inline."""
    assert re.findall(r"<script[^>]*>(.*?)</script>", page, re.S) == [""] * page.count("<script")
    return re.findall(r'<script src="([^"]+)"', page)


class TestPetitionPage:
    def test_in_arabic_right_to_left_with_the_form_and_no_inline_script(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a, targets="The minister\nThe council", goal=100)
        response = client.get(petition_url(petition), HTTP_ACCEPT_LANGUAGE="ar")
        page = response.content.decode()
        assert response.status_code == 200
        assert 'dir="rtl"' in page and "أبقوا الشاطئ مفتوحًا" in page
        assert "The minister" in page and "The council" in page
        assert '<progress class="petition-progress" max="100" value="0"' in page
        assert scripts(page) == ["/static/petitions/counter.js"]  # no challenge: no pow.js
        assert 'name="csrfmiddlewaretoken"' in page
        assert 'property="og:title"' in page
        assert response.headers["X-Frame-Options"] == "DENY"

    def test_the_honeypot_is_out_of_sight_and_of_the_tab_order(
        self, client: Client, org_a: Any
    ) -> None:
        page = client.get(petition_url(make_petition(org_a))).content.decode()
        field = re.search(r'<div class="petition-extra" aria-hidden="true">.*?</div>', page, re.S)
        assert field is not None
        assert 'name="website"' in field.group() and 'tabindex="-1"' in field.group()
        assert 'autocomplete="off"' in field.group()

    def test_the_show_name_box_is_unticked(self, client: Client, org_a: Any) -> None:
        page = client.get(petition_url(make_petition(org_a))).content.decode()
        box = re.search(r'<input type="checkbox" name="show_name"[^>]*>', page)
        assert box is not None and "checked" not in box.group()

    def test_the_text_is_escaped_with_links_and_paragraphs(
        self, client: Client, org_a: Any
    ) -> None:
        text = "<script>alert(1)</script> See https://example.org/why\n\nSecond part"
        petition = make_petition(org_a, texts={"en": text})
        page = client.get(petition_url(petition), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert '<a href="https://example.org/why" rel="nofollow">' in page
        assert "<p>Second part</p>" in page

    def test_unknown_draft_and_other_organization_are_not_found(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        petition = make_petition(org_a)
        draft = services.create_petition(actor=None, organization=org_a, slug="draft")
        assert client.get(f"/o/{org_a.slug}/petitions/nothing/").status_code == 404
        for suffix in ("", "thanks/", "widget/", "count.json"):
            assert client.get(petition_url(draft, suffix)).status_code == 404
            assert (
                client.get(f"/o/{org_b.slug}/petitions/{petition.slug}/{suffix}").status_code == 404
            )
        assert client.post(f"/o/{org_b.slug}/petitions/{petition.slug}/").status_code == 404

    def test_a_closed_petition_shows_no_form_and_takes_no_signature(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a)
        services.set_status(actor=None, petition=petition, status=PetitionStatus.CLOSED)
        page = client.get(petition_url(petition)).content.decode()
        assert "petition-closed" in page and "sign-form" not in page
        assert post_signature(client, petition).status_code == 409
        past = make_petition(org_a, slug="past", deadline=timezone.now() - dt.timedelta(days=1))
        assert "sign-form" not in client.get(petition_url(past)).content.decode()
        assert Signature.objects.count() == PendingSignature.objects.count() == 0

    def test_recent_signers_show_first_name_and_town_of_those_who_agreed(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a)
        shown = sign(petition, 1, family_name="Secretname", locality="Saida").signature
        services.Signature.objects.filter(pk=shown.pk).update(show_name=True)
        services.confirm(signature=shown)
        hidden = sign(petition, 2, locality="Zahle").signature
        services.confirm(signature=hidden)
        page = client.get(petition_url(petition), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "<bdi>S1</bdi>" in page and "Saida" in page
        assert "Secretname" not in page and "s1@example.org" not in page
        assert not re.search(r"\bS2\b", page) and "Zahle" not in page  # whole word: not in a token


class TestSigning:
    def test_without_javascript_a_signature_goes_to_the_thanks_page_and_a_link_by_email(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        petition = make_petition(org_a)
        client = Client(enforce_csrf_checks=True)
        page = client.get(petition_url(petition), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signature(
                client, petition, csrfmiddlewaretoken=token, consent_email="on", comment="Yes!"
            )
        assert response.status_code == 303
        assert response.headers["Location"] == petition_url(petition, "thanks/")
        signature = Signature.objects.get()
        assert (signature.show_name, signature.comment, signature.verified_at) == (
            False,
            "Yes!",
            None,
        )
        assert signature.person.locality == "Tyre"
        record = ConsentRecord.objects.get(person=signature.person)
        assert record.wording == f"Send me news from {org_a.name} by email."
        outbox.drain(budget_seconds=5)
        [message] = mail.outbox
        assert confirm_url(signature) in message.body

    def test_a_signature_costs_the_petition_and_one_insert(
        self, client: Client, org_a: Any, django_assert_max_num_queries: Any
    ) -> None:
        petition = make_petition(org_a)
        with django_assert_max_num_queries(2):
            assert post_signature(client, petition).status_code == 303
        assert PendingSignature.objects.count() == 1 and not Signature.objects.exists()
        assert intake.take_in() == 1
        assert Signature.objects.get().person.given_name == "Rima"

    def test_the_same_address_twice_is_one_signature_and_the_same_page(
        self, client: Client, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        petition = make_petition(org_a)
        with django_capture_on_commit_callbacks(execute=True):
            first = post_signature(client, petition)
            again = post_signature(client, petition, email="RIMA@example.org", given_name="R")
        assert first.status_code == again.status_code == 303
        assert first.headers["Location"] == again.headers["Location"]
        assert Signature.objects.count() == 1 and Person.objects.count() == 1
        # the link again, since it was not followed yet
        assert Delivery.objects.count() == 2
        thanks = client.get(first.headers["Location"], HTTP_ACCEPT_LANGUAGE="en")
        assert thanks.status_code == 200
        assert "If you had already signed" in thanks.content.decode()

    def test_bad_input_is_a_400_with_the_form_and_nothing_saved(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a)
        for fields in (
            {"given_name": "Ri\x00ma"},
            {"comment": "\x00"},
            {"email": ""},
            {"email": "not an address"},
            {"language": "xx"},
        ):
            response = post_signature(client, petition, **fields)
            assert response.status_code == 400, fields
            assert 'class="errors"' in response.content.decode()
        response = post_signature(client, petition, phone="12")
        assert response.status_code == 400
        assert Signature.objects.count() == PendingSignature.objects.count() == 0

    def test_the_thanks_page_offers_the_next_petition_and_event(
        self, client: Client, org_a: Any
    ) -> None:
        following = make_petition(org_a, slug="next-one")
        event = make_event(org_a)
        petition = make_petition(org_a, next_petition=following, next_event=event)
        page = client.get(petition_url(petition, "thanks/"), HTTP_ACCEPT_LANGUAGE="en")
        html = page.content.decode()
        assert f'href="/o/{org_a.slug}/petitions/next-one/"' in html
        assert f'href="/o/{org_a.slug}/events/{event.slug}/"' in html
        assert "wa.me" in html and page.headers["X-Robots-Tag"] == "noindex"
        services.set_status(actor=None, petition=following, status=PetitionStatus.CLOSED)
        html = client.get(petition_url(petition, "thanks/")).content.decode()
        assert "next-one" not in html


class TestConfirm:
    def test_get_shows_a_button_post_confirms_once(self, client: Client, org_a: Any) -> None:
        petition = make_petition(org_a)
        signature = sign(petition, 1).signature
        url = confirm_url(signature)
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ar")
        assert page.status_code == 200 and 'class="confirm-form"' in page.content.decode()
        assert page.headers["Content-Language"] == "en"  # the signer's language
        signature.refresh_from_db()
        assert signature.verified_at is None  # a mail scanner's GET confirms nothing
        response = client.post(url)
        assert response.status_code == 303
        assert response.headers["Location"] == petition_url(petition, "thanks/") + "?confirmed=1"
        assert client.post(url).status_code == 303
        assert services.count(petition) == services.Count(verified=1, unverified=0)
        assert "confirm-form" not in client.get(url).content.decode()

    def test_a_forged_token_or_an_erased_signer_finds_nothing(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a)
        signature = sign(petition, 1).signature
        token = services.confirmation_token(signature)
        assert client.get(f"/s/{token}x/").status_code == 404
        assert client.post(f"/s/{token[:-2]}/").status_code == 404
        assert client.get("/s/%00/").status_code == 404
        erase_person(actor=None, person=signature.person)
        assert client.post(f"/s/{token}/").status_code == 404
        assert services.count(petition).verified == 0


class TestCounter:
    def test_count_json_moves_when_a_signature_is_confirmed(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a, goal=10)
        signature = sign(petition, 1).signature
        response = client.get(petition_url(petition, "count.json"))
        assert response.json() == {"count": 0, "goal": 10}
        assert response.headers["Cache-Control"] == "public, max-age=5"
        client.post(confirm_url(signature))
        assert client.get(petition_url(petition, "count.json")).json()["count"] == 1

    def test_unconfirmed_signatures_count_when_the_petition_says_so(
        self, client: Client, org_a: Any
    ) -> None:
        petition = make_petition(org_a, count_unverified=True)
        sign(petition, 1)
        assert client.get(petition_url(petition, "count.json")).json() == {"count": 1, "goal": None}

    def test_the_count_is_cached_so_views_do_not_add_up_shards(
        self, client: Client, org_a: Any, django_assert_num_queries: Any
    ) -> None:
        petition = make_petition(org_a)
        client.get(petition_url(petition, "count.json"))
        with django_assert_num_queries(0):
            client.get(petition_url(petition, "count.json"))
        client.get(petition_url(petition))
        with django_assert_num_queries(1):  # the petition itself
            client.get(petition_url(petition))

    def test_the_widget_may_be_framed_by_any_site(self, client: Client, org_a: Any) -> None:
        petition = make_petition(org_a)
        response = client.get(petition_url(petition, "widget/"), HTTP_ACCEPT_LANGUAGE="ar")
        page = response.content.decode()
        assert response.status_code == 200
        assert "X-Frame-Options" not in response.headers
        assert response.headers["Content-Security-Policy"] == "frame-ancestors *"
        assert 'dir="rtl"' in page and 'target="_blank"' in page and "<form" not in page
        assert scripts(page) == ["/static/petitions/counter.js"]

    def test_the_list_shows_open_petitions_with_one_query_for_all_counters(
        self, client: Client, org_a: Any, django_assert_max_num_queries: Any
    ) -> None:
        for n in range(3):
            petition = make_petition(org_a, slug=f"open-{n}", goal=5)
            sign(petition, n)
        services.create_petition(actor=None, organization=org_a, slug="draft-one")
        with django_assert_max_num_queries(4):
            response = client.get(f"/o/{org_a.slug}/petitions/", HTTP_ACCEPT_LANGUAGE="en")
        page = response.content.decode()
        assert response.status_code == 200
        assert page.count('class="petition-item card"') == 3 and "draft-one" not in page


def test_the_confirm_page_shows_what_the_press_will_confirm(org_a: Any) -> None:
    from saha.supporters.services import PersonData

    petition = make_petition(org_a)
    signature = services.sign(
        petition=petition,
        data=PersonData(email="typed@example.org", given_name="Zed", locality="Tyre"),
        show_name=True,
        comment="Typed by whoever",
    ).signature
    token = services.confirmation_token(signature)
    page = Client().get(f"/s/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for shown in ("Zed", "Tyre", "Typed by whoever", "Yes: the first name and town above"):
        assert shown in page
