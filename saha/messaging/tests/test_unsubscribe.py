"""Stopping messages from a link: the unsubscribe page, RFC 8058 one-click, the preference page.

Every path writes the consent ledger (and so shows on the person's timeline);
a GET changes nothing, a forged link finds nothing, and no input gives a 500.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from saha.messaging import tokens
from saha.messaging.models import Delivery, MessageKind
from saha.messaging.purposes import purpose_label
from saha.messaging.tests.factories import (
    GRANTED,
    PENDING,
    WITHDRAWN,
    make_delivery,
    recipient,
    status_of,
    webhook_key,
)
from saha.messaging.unsubscribe import (
    CHANNEL_HEADINGS,
    mask_email,
    mask_phone,
    preferences,
    set_preferences,
    unsubscribe,
    unsubscribe_question,
)
from saha.supporters import suppression, timeline
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    PrivacySettings,
    Suppression,
)
from saha.supporters.tests.people_factories import PersonFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_url(delivery: Delivery) -> str:
    return reverse("messaging_unsubscribe", args=[tokens.delivery_token(delivery.pk)])


def preferences_url(delivery: Delivery) -> str:
    return reverse("messaging_preferences", args=[tokens.delivery_token(delivery.pk)])


def strict_client() -> Client:
    """A client that checks CSRF like a browser's request would be checked."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def sami(org_a):
    return recipient(org_a, email="sami@example.org", phone="+96171123412", language="ar")


@pytest.fixture
def delivery(sami):
    return make_delivery(sami)


class TestUnsubscribeService:
    def test_withdraws_the_channel_and_purpose_in_the_persons_language(self, sami, delivery):
        record = unsubscribe(delivery)

        assert record is not None
        assert (record.channel, record.purpose, record.status) == (
            Channel.EMAIL,
            DEFAULT_PURPOSE,
            WITHDRAWN,
        )
        assert record.source == ConsentSource.UNSUBSCRIBE
        assert record.source_ref == f"delivery:{delivery.pk}"
        assert record.language == "ar"
        with translation.override("ar"):
            assert record.wording == unsubscribe_question(delivery, DEFAULT_PURPOSE)
        assert status_of(sami, Channel.SMS) == GRANTED  # the other channel is untouched

    def test_a_second_unsubscribe_records_nothing(self, sami, delivery):
        unsubscribe(delivery)

        assert unsubscribe(delivery) is None
        assert unsubscribe(delivery, language="fr") is None  # other words, same choice
        assert ConsentRecord.objects.filter(person=sami, status=WITHDRAWN).count() == 1

    def test_only_the_broadcasts_purpose_is_withdrawn(self, org_a):
        person = recipient(org_a, purposes=(DEFAULT_PURPOSE, "events"))

        unsubscribe(make_delivery(person, purpose="events"))

        assert status_of(person, purpose="events") == WITHDRAWN
        assert status_of(person, purpose=DEFAULT_PURPOSE) == GRANTED

    def test_a_transactional_message_withdraws_the_default_purpose(self, sami):
        unsubscribe(make_delivery(sami, kind=MessageKind.TRANSACTIONAL))

        assert status_of(sami) == WITHDRAWN

    def test_an_erased_person_has_nothing_to_withdraw(self, delivery):
        Delivery.objects.filter(pk=delivery.pk).update(person=None, address="")
        delivery.refresh_from_db()

        assert unsubscribe(delivery) is None


class TestPreferenceService:
    def test_only_channels_the_person_can_be_reached_on(self, org_a):
        person = recipient(org_a, email="nour@example.org", phone=None)

        channels = preferences(person, link_channel=Channel.EMAIL)

        assert [group.channel for group in channels] == [Channel.EMAIL]
        assert channels[0].contacts == ["n•••@e•••.org"]
        assert [(c.purpose, c.status, c.checked) for c in channels[0].choices] == [
            (DEFAULT_PURPOSE, GRANTED, True)
        ]

    def test_records_each_changed_pair_only(self, sami, delivery):
        records = set_preferences(
            sami,
            {(Channel.EMAIL, DEFAULT_PURPOSE): True, (Channel.SMS, DEFAULT_PURPOSE): False},
            delivery=delivery,
        )

        assert [(r.channel, r.status, r.source) for r in records] == [
            (Channel.SMS, WITHDRAWN, ConsentSource.PREFERENCES)
        ]
        assert records[0].source_ref == f"delivery:{delivery.pk}"
        assert status_of(sami, Channel.EMAIL) == GRANTED

    def test_a_person_can_come_back_from_the_page(self, sami, delivery):
        unsubscribe(delivery)

        (record,) = set_preferences(
            sami, {(Channel.EMAIL, DEFAULT_PURPOSE): True}, delivery=delivery
        )

        assert (record.status, record.source) == (GRANTED, ConsentSource.PREFERENCES)
        assert status_of(sami) == GRANTED

    def test_a_crafted_form_cannot_reach_a_channel_without_a_contact(self, org_a):
        person = recipient(org_a, email="nour@example.org")
        delivery = make_delivery(person)

        records = set_preferences(
            person,
            {(Channel.SMS, DEFAULT_PURPOSE): True, (Channel.EMAIL, "not-a-purpose"): True},
            delivery=delivery,
        )

        assert records == []
        assert status_of(person, Channel.SMS) == ""

    def test_coming_back_lifts_a_suppression(self, sami, delivery):
        # Withdrew, was erased (leaving a suppression), and is back under the same address.
        Suppression.objects.create(
            organization=sami.organization,
            channel=Channel.EMAIL,
            digest=suppression._digests(sami.organization_id, "sami@example.org")[0],
        )
        set_preferences(sami, {(Channel.EMAIL, DEFAULT_PURPOSE): False}, delivery=delivery)

        set_preferences(sami, {(Channel.EMAIL, DEFAULT_PURPOSE): True}, delivery=delivery)

        assert not Suppression.objects.exists()

    def test_another_channel_can_be_stopped_but_not_started_from_a_link(self, org_a):
        # The email link proves its holder reads the email, nothing about the phone.
        person = recipient(org_a, email="nour@example.org", phone="+96171000001")
        email = make_delivery(person)
        set_preferences(person, {(Channel.SMS, DEFAULT_PURPOSE): False}, delivery=email)

        records = set_preferences(person, {(Channel.SMS, DEFAULT_PURPOSE): True}, delivery=email)

        assert records == []
        assert status_of(person, Channel.SMS) == WITHDRAWN
        (own, other) = preferences(person, link_channel=Channel.EMAIL)
        assert (own.withdraw_only, own.choices[0].editable) == (False, True)
        assert (other.withdraw_only, other.choices[0].editable) == (True, False)

    def test_a_link_starts_its_own_channel_again(self, org_a):
        person = recipient(org_a, email="nour@example.org", phone="+96171000001")
        sms = make_delivery(person, channel=Channel.SMS)
        set_preferences(person, {(Channel.SMS, DEFAULT_PURPOSE): False}, delivery=sms)

        set_preferences(person, {(Channel.SMS, DEFAULT_PURPOSE): True}, delivery=sms)

        assert status_of(person, Channel.SMS) == GRANTED

    def test_email_from_an_sms_link_is_not_granted_even_under_double_opt_in(self, org_a):
        PrivacySettings.objects.create(organization=org_a, email_double_opt_in=True)
        person = PersonFactory(organization=org_a, email="rana@example.org", phone="+96171000001")
        sms = make_delivery(person, channel=Channel.SMS)

        records = set_preferences(person, {(Channel.EMAIL, DEFAULT_PURPOSE): True}, delivery=sms)

        assert records == []
        assert status_of(person) == ""

    def test_a_pending_confirmation_shows_ticked_and_can_be_stopped(self, org_a):
        PrivacySettings.objects.create(organization=org_a, email_double_opt_in=True)
        person = recipient(org_a, email="rana@example.org")  # signed up on a form: pending
        sms = make_delivery(person, channel=Channel.SMS)

        (email_choices,) = preferences(person, link_channel=Channel.SMS)

        assert status_of(person) == PENDING
        assert email_choices.choices[0].pending and email_choices.choices[0].editable
        set_preferences(person, {(Channel.EMAIL, DEFAULT_PURPOSE): False}, delivery=sms)
        assert status_of(person) == WITHDRAWN

    @pytest.mark.parametrize(
        ("address", "masked"),
        [
            ("sami.nasr@example.org", "s•••@e•••.org"),
            ("sami@haddad-family.co.uk", "s•••@h•••.uk"),
            ("Sami@Mail.Example.ORG", "S•••@m•••.org"),
            ("sami@localhost", "s•••@l•••"),
            ("sami@gmail.com", "s•••@gmail.com"),
            ("sami@proton.me", "s•••@proton.me"),
            ("sami@gmx.de", "s•••@gmx.de"),
            ("sami@gmx.net", "s•••@gmx.net"),
            ("sami@gmx.example.org", "s•••@g•••.org"),
            ("sami@gmail.com.example.org", "s•••@g•••.org"),
            ("not an address", "•••"),
        ],
    )
    def test_masked_email(self, address, masked):
        # A personal domain names a family or a small organization: masked too.
        assert mask_email(address) == masked

    def test_masked_phone(self):
        assert mask_phone("+96171123412") == "+961 •••• 12"
        assert mask_phone("+33612345678") == "+33 •••• 78"


class TestUnsubscribePage:
    def test_get_asks_and_changes_nothing(self, sami, delivery):
        response = Client().get(unsubscribe_url(delivery))
        head = Client().head(unsubscribe_url(delivery))

        assert response.status_code == head.status_code == 200
        assert status_of(sami) == GRANTED
        page = response.content.decode()
        assert '<form method="post">' in page
        assert 'lang="ar" dir="rtl"' in page  # the recipient's language
        assert response["Content-Language"] == "ar"

    def test_the_page_carries_no_script_even_for_a_signed_in_organizer(self, owner, delivery):
        response = owner.client().get(unsubscribe_url(delivery))

        assert b"<script" not in response.content
        assert "sami@example.org" not in response.content.decode()

    def test_one_click_post_without_cookies_or_csrf_token(self, sami, delivery):
        response = strict_client().post(
            unsubscribe_url(delivery), ONE_CLICK, content_type="application/x-www-form-urlencoded"
        )

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert status_of(sami) == WITHDRAWN
        record = ConsentRecord.objects.get(person=sami, status=WITHDRAWN)
        assert record.source == ConsentSource.UNSUBSCRIBE
        assert record.language == "ar"

    def test_one_click_multipart_and_idempotent(self, sami, delivery):
        for _attempt in range(3):
            response = strict_client().post(
                unsubscribe_url(delivery), {"List-Unsubscribe": "One-Click"}
            )
            assert response.status_code == 200

        assert ConsentRecord.objects.filter(person=sami, status=WITHDRAWN).count() == 1

    def test_the_pages_own_button(self, sami, delivery):
        response = strict_client().post(unsubscribe_url(delivery), {"confirm": "1"})

        assert response.status_code == 200
        assert preferences_url(delivery) in response.content.decode()
        assert status_of(sami) == WITHDRAWN

    def test_the_page_in_another_language_records_its_words(self, sami, delivery):
        strict_client().post(unsubscribe_url(delivery) + "?lang=en", {"confirm": "1"})

        record = ConsentRecord.objects.get(person=sami, status=WITHDRAWN)
        assert record.language == "en"
        assert record.wording.startswith("Stop receiving")

    def test_the_language_switcher_wins_over_the_recipients_language(self, delivery):
        client = Client()
        client.cookies["saha_language"] = "fr"

        assert client.get(unsubscribe_url(delivery))["Content-Language"] == "fr"
        assert Client().get(unsubscribe_url(delivery) + "?lang=en")["Content-Language"] == "en"

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # altered signature
            lambda t: "1" + t,  # another delivery's id, same signature
            lambda t: t.split("-")[0],  # no signature
            lambda t: "-",
            lambda t: "zzzzzzzzzzzzzzzzzzzzzz-AAAAAAAAAAAAAAAA",
            lambda t: "ünïcode-نص",
            lambda t: t + "\x00",
            lambda t: t * 50,
        ],
    )
    def test_a_forged_or_damaged_link_finds_nothing(self, sami, delivery, mangle):
        token = mangle(tokens.delivery_token(delivery.pk))
        for name in ("messaging_unsubscribe", "messaging_preferences"):
            url = reverse(name, args=[token])
            assert Client().get(url).status_code == 404
            assert (
                strict_client().post(url, ONE_CLICK, content_type="text/plain").status_code == 404
            )
        assert status_of(sami) == GRANTED

    def test_a_link_to_a_deleted_delivery(self, delivery):
        url = unsubscribe_url(delivery)
        delivery.delete()

        assert Client().get(url).status_code == 404

    def test_an_erased_person_sees_the_same_answers(self, delivery):
        Delivery.objects.filter(pk=delivery.pk).update(person=None, address="")

        assert Client().get(unsubscribe_url(delivery)).status_code == 200
        assert strict_client().post(unsubscribe_url(delivery), {"confirm": "1"}).status_code == 200
        assert (
            strict_client()
            .post(
                unsubscribe_url(delivery),
                ONE_CLICK,
                content_type="application/x-www-form-urlencoded",
            )
            .status_code
            == 200
        )
        assert Client().get(preferences_url(delivery)).status_code == 200
        assert (
            strict_client().post(preferences_url(delivery), {"shown": "email:updates"}).status_code
            == 200
        )
        assert not ConsentRecord.objects.filter(source=ConsentSource.PREFERENCES).exists()

    def test_other_methods_are_refused(self, delivery):
        assert Client().put(unsubscribe_url(delivery)).status_code == 405

    def test_a_broken_multipart_body_is_no_500(self, sami, delivery):
        response = strict_client().post(
            unsubscribe_url(delivery),
            b"--x\r\nbroken",
            content_type="multipart/form-data; boundary=x",
        )

        assert response.status_code in (200, 400)


class TestPreferencePage:
    def test_shows_masked_contacts_and_current_choices(self, sami, delivery):
        response = Client().get(preferences_url(delivery))

        page = response.content.decode()
        assert response.status_code == 200
        assert "s•••@e•••.org" in page and "+961 •••• 12" in page
        assert "example.org" not in page and "71123412" not in page
        assert page.count('name="wanted"') == 2
        assert page.count(" checked>") == 2
        assert b"<script" not in response.content

    def test_in_the_recipients_language_whatever_the_browser_asks(self, delivery):
        response = Client(headers={"accept-language": "fr"}).get(preferences_url(delivery))

        with translation.override("ar"):
            heading, label = str(CHANNEL_HEADINGS[Channel.EMAIL]), purpose_label(DEFAULT_PURPOSE)
        assert response["Content-Language"] == "ar"
        assert heading in response.content.decode()
        assert label in response.content.decode()

    def test_saving_without_javascript_or_csrf_token(self, sami, delivery):
        # The form as a browser sends it: the SMS box unticked, the email box ticked.
        response = strict_client().post(
            preferences_url(delivery),
            {"shown": ["email:updates", "sms:updates"], "wanted": ["email:updates"]},
        )

        assert response.status_code == 200
        assert status_of(sami, Channel.EMAIL) == GRANTED
        assert status_of(sami, Channel.SMS) == WITHDRAWN
        assert response.content.decode().count(" checked>") == 1

    def test_another_channel_shows_what_is_off_but_cannot_turn_it_on(self, sami, delivery):
        set_preferences(sami, {(Channel.SMS, DEFAULT_PURPOSE): False}, delivery=delivery)

        page = Client().get(preferences_url(delivery)).content.decode()
        # A crafted form, as if the SMS box had been offered and ticked.
        strict_client().post(
            preferences_url(delivery),
            {"shown": ["email:updates", "sms:updates"], "wanted": ["email:updates", "sms:updates"]},
        )

        assert 'value="email:updates"' in page and 'value="sms:updates"' not in page
        assert page.count(" disabled>") == 1
        assert status_of(sami, Channel.SMS) == WITHDRAWN
        assert status_of(sami, Channel.EMAIL) == GRANTED

    def test_the_sms_link_starts_sms_again(self, sami):
        sms = make_delivery(sami, channel=Channel.SMS)
        set_preferences(sami, {(Channel.SMS, DEFAULT_PURPOSE): False}, delivery=sms)

        strict_client().post(
            preferences_url(sms), {"shown": ["sms:updates"], "wanted": ["sms:updates"]}
        )

        assert status_of(sami, Channel.SMS) == GRANTED

    def test_garbage_in_the_form_changes_nothing(self, sami, delivery):
        response = strict_client().post(
            preferences_url(delivery),
            {"shown": ["nonsense", ":", "sms:", "x" * 5000], "wanted": "y"},
        )

        assert response.status_code == 200
        assert not ConsentRecord.objects.filter(person=sami, status=WITHDRAWN).exists()


class TestErasedPerson:
    """A link does not tell whoever holds it that the person was erased."""

    def pages(self, delivery: Delivery, client: Client) -> list:
        url = preferences_url(delivery)
        return [
            client.get(url),
            client.post(url, {"shown": "email:updates", "wanted": "email:updates"}),
            client.post(url, {"shown": "email:updates"}),
        ]

    def shape(self, response) -> tuple:
        """What the page is made of, whatever the person's choices and address."""
        page = response.content.decode()
        return (
            response.status_code,
            [t.name for t in response.templates],
            page.count("<fieldset"),
            page.count('name="wanted"'),
            page.count('role="status"'),
            "<form" in page,
        )

    def test_the_preference_page_looks_like_anyone_elses(self, org_a):
        # given: two people who heard from us by email only; one was then erased
        kept = make_delivery(recipient(org_a, email="nour@example.org"))
        gone = make_delivery(recipient(org_a, email="hala@example.org"))
        Delivery.objects.filter(pk=gone.pk).update(person=None, address="")

        # when / then
        for shown, erased in zip(
            self.pages(kept, strict_client()), self.pages(gone, strict_client()), strict=True
        ):
            assert self.shape(erased) == self.shape(shown)
            assert "hala" not in erased.content.decode()
            assert "•••" not in erased.content.decode()
        saved = ConsentRecord.objects.filter(source=ConsentSource.PREFERENCES)
        assert set(saved.values_list("person", flat=True)) == {kept.person_id}

    def test_saving_for_an_erased_person_records_nothing_and_says_saved(self, delivery):
        Delivery.objects.filter(pk=delivery.pk).update(person=None, address="")

        response = strict_client().post(
            preferences_url(delivery), {"shown": "email:updates", "wanted": "email:updates"}
        )

        assert response.status_code == 200
        assert 'role="status"' in response.content.decode()
        assert " checked>" in response.content.decode()  # as anyone sees what they chose
        assert not ConsentRecord.objects.filter(source=ConsentSource.PREFERENCES).exists()


class TestTimeline:
    """Every way of stopping shows on the person's timeline, with where it came from."""

    def latest(self, person) -> str:
        # After the request: a response leaves its own language active.
        with translation.override("en"):
            return next(m.text for m in timeline.timeline(person) if m.kind == "consent")

    def test_one_click(self, sami, delivery):
        strict_client().post(
            unsubscribe_url(delivery), ONE_CLICK, content_type="application/x-www-form-urlencoded"
        )

        assert self.latest(sami) == "Email: Withdrawn (Unsubscribe link)"

    def test_preference_page(self, sami, delivery):
        strict_client().post(preferences_url(delivery), {"shown": "sms:updates"})

        assert self.latest(sami) == "SMS: Withdrawn (Preference page)"

    def test_sms_keyword(self, sami, org_a):
        key = webhook_key(org_a)
        url = reverse("messaging_sms_hook", args=[org_a.slug, key])

        Client().post(url, {"From": "+96171123412", "To": "+15550001111", "Body": "STOP"})

        assert self.latest(sami) == "SMS: Withdrawn (Reply to an SMS)"

    def test_complaint(self, sami, org_a):
        key = webhook_key(org_a)
        make_delivery(sami, provider_id="abc.123@saha.example")
        url = reverse("messaging_email_events_hook", args=[org_a.slug, key])

        Client().post(
            url,
            {"type": "complaint", "message_id": "<abc.123@saha.example>"},
            content_type="application/json",
        )

        assert self.latest(sami) == "Email: Withdrawn (Spam complaint)"
