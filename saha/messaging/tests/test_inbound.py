"""What comes back: SMS keywords, bounces and complaints, unsubscribe emails, and their webhooks.

Every report is scoped to the organization whose webhook key it carries: a
message id, number or token of another organization finds nothing.
"""

from __future__ import annotations

import json
from email.header import Header
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from saha.messaging import inbound, tokens
from saha.messaging.inbound import START, STOP, keyword_of
from saha.messaging.models import MessagingSettings
from saha.messaging.tests.factories import (
    GRANTED,
    WITHDRAWN,
    make_delivery,
    recipient,
    status_of,
    webhook_key,
)
from saha.messaging.unsubscribe import unsubscribe
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    ContactStatus,
    PersonEmail,
    PersonPhone,
)

pytestmark = pytest.mark.django_db

NUMBER = "+96171123412"
MESSAGE_ID = "20250101.42.abc@saha.example"


@pytest.fixture
def rana(org_a):
    return recipient(
        org_a,
        email="rana@example.org",
        phone=NUMBER,
        language="ar",
        purposes=(DEFAULT_PURPOSE, "events"),
    )


def phone_status(number: str = NUMBER) -> str:
    return PersonPhone.objects.get(number=number).status


def email_status(address: str = "rana@example.org") -> str:
    return PersonEmail.objects.get(address=address).status


class TestKeywords:
    @pytest.mark.parametrize(
        "body",
        [
            "STOP",
            "stop",
            "  Stop\n",
            "Stop.",
            "STOP!!",
            "stop 🙏",
            "STOP\x00",
            "stopall",
            "Unsubscribe",
            "cancel",
            "END",
            "quit",
            "ARRET",
            "Arrêt",
            "Arrêt.",
            "DÉSABONNER",
            "desabonner",
            "توقف",
            "قف",
            "الغاء",
            "إلغاء",
            "أَلغاء",
            "ايقاف",
            "إيقاف",
            "الغاء الاشتراك",
            "إلغاء الاشتراك",
            "\u200fتوقف\u200f",
            "توقّف",
            "توقف؟",
        ],
    )
    def test_stop(self, body):
        assert keyword_of(body) == STOP

    @pytest.mark.parametrize("body", ["START", "unstop", " Start ", "اشتراك"])
    def test_start(self, body):
        assert keyword_of(body) == START

    @pytest.mark.parametrize(
        "body", ["", "   ", "hello", "stopping", "please stop", "start the rally", "؟", "🙂"]
    )
    def test_not_a_keyword(self, body):
        assert keyword_of(body) is None

    @pytest.mark.parametrize(
        "body",
        [
            "Stop by the stand tomorrow",
            "Cancel my RSVP",
            "STOP please",
            "arrêt svp",
            "End of the march: 5pm",
            "قف عند الخيمة",  # "stop at the tent"
            "إلغاء الموعد",  # "cancel the appointment"
            "stop" + "!" * 20,
        ],
    )
    def test_a_sentence_that_begins_with_a_keyword_is_no_keyword(self, body):
        # Carriers and gateways match the whole message: so do we.
        assert keyword_of(body) is None


class TestInboundSms:
    def test_stop_withdraws_sms_for_every_purpose(self, rana, org_a):
        reply = inbound.handle_inbound_sms(org_a, NUMBER, "STOP")

        assert reply
        assert status_of(rana, Channel.SMS, DEFAULT_PURPOSE) == WITHDRAWN
        assert status_of(rana, Channel.SMS, "events") == WITHDRAWN
        assert status_of(rana, Channel.EMAIL) == GRANTED
        assert phone_status() == ContactStatus.UNSUBSCRIBED
        records = ConsentRecord.objects.filter(person=rana, status=WITHDRAWN)
        assert {(r.source, r.source_ref, r.language, r.wording) for r in records} == {
            (ConsentSource.SMS_REPLY, "sms:3412", "ar", "STOP")
        }

    def test_the_reply_is_in_the_persons_language(self, rana, org_a):
        reply = inbound.handle_inbound_sms(org_a, NUMBER, "توقف")

        with translation.override("ar"):
            expected = inbound._(
                "You will receive no more SMS from %(organization)s. "
                "Reply START to receive them again."
            ) % {"organization": org_a.name}
        assert reply == expected

    def test_the_number_as_typed_locally(self, rana, org_a):
        assert inbound.handle_inbound_sms(org_a, "71 123 412", "stop")  # region LB
        assert status_of(rana, Channel.SMS) == WITHDRAWN

    def test_a_second_stop_records_nothing_and_still_answers(self, rana, org_a):
        inbound.handle_inbound_sms(org_a, NUMBER, "STOP")

        assert inbound.handle_inbound_sms(org_a, NUMBER, "Stop")
        assert ConsentRecord.objects.filter(person=rana, status=WITHDRAWN).count() == 2

    def test_start_undoes_a_stop(self, rana, org_a):
        inbound.handle_inbound_sms(org_a, NUMBER, "STOP")

        assert inbound.handle_inbound_sms(org_a, NUMBER, "START")
        assert status_of(rana, Channel.SMS, DEFAULT_PURPOSE) == GRANTED
        assert status_of(rana, Channel.SMS, "events") == GRANTED
        assert phone_status() == ContactStatus.SUBSCRIBED
        assert inbound.handle_inbound_sms(org_a, NUMBER, "START") == ""  # nothing left to undo

    def test_start_does_not_overturn_another_withdrawal(self, rana, org_a):
        unsubscribe(make_delivery(rana, channel=Channel.SMS))

        assert inbound.handle_inbound_sms(org_a, NUMBER, "START") == ""
        assert status_of(rana, Channel.SMS) == WITHDRAWN

    def test_start_does_not_revive_a_bouncing_number(self, rana, org_a):
        PersonPhone.objects.filter(number=NUMBER).update(status=ContactStatus.BOUNCING)

        inbound.handle_inbound_sms(org_a, NUMBER, "START")

        assert phone_status() == ContactStatus.BOUNCING

    @pytest.mark.parametrize("sender", ["+96170999999", "not a number", "", "+" + "9" * 500])
    def test_an_unknown_number_gets_no_reply(self, rana, org_a, sender):
        assert inbound.handle_inbound_sms(org_a, sender, "STOP") == ""
        assert status_of(rana, Channel.SMS) == GRANTED

    def test_another_organizations_person_is_not_touched(self, rana, org_b):
        assert inbound.handle_inbound_sms(org_b, NUMBER, "STOP") == ""
        assert status_of(rana, Channel.SMS) == GRANTED

    def test_anything_else_is_ignored(self, rana, org_a):
        assert inbound.handle_inbound_sms(org_a, NUMBER, "See you at the rally") == ""
        assert inbound.handle_inbound_sms(org_a, NUMBER, "Stop by the stand tomorrow") == ""
        assert status_of(rana, Channel.SMS) == GRANTED

    @pytest.mark.parametrize(
        ("body", "stored"),
        [
            ("STOP\x00", "STOP"),
            ("\x00STOP\x07", "STOP"),
            ("STOP\ud800", "STOP"),  # a lone surrogate: SQLite's encoder refuses it
            ("STOP" + " " * 5000, "STOP"),
        ],
    )
    def test_the_stored_words_are_what_a_database_takes(self, rana, org_a, body, stored):
        assert inbound.handle_inbound_sms(org_a, NUMBER, body)

        assert status_of(rana, Channel.SMS) == WITHDRAWN
        record = ConsentRecord.objects.filter(person=rana, status=WITHDRAWN).first()
        assert record.wording == stored

    @pytest.mark.parametrize("sender", ["\x00", "+961\x0071123412", "\ud800", "+" + "\ud800" * 50])
    def test_a_sender_no_database_takes_is_nobody(self, rana, org_a, sender):
        assert inbound.handle_inbound_sms(org_a, sender, "STOP") == ""
        assert status_of(rana, Channel.SMS) == GRANTED


class TestEmailEvents:
    def test_a_permanent_bounce_marks_the_address(self, rana, org_a):
        make_delivery(rana, provider_id=MESSAGE_ID)

        assert inbound.handle_email_event(org_a, kind="bounce", message_id=f"<{MESSAGE_ID}>") == (
            "bounced"
        )
        assert email_status() == ContactStatus.BOUNCING
        assert status_of(rana) == GRANTED  # a dead address says nothing about consent

    def test_a_temporary_bounce_is_ignored(self, rana, org_a):
        result = inbound.handle_email_event(
            org_a, kind="bounce", address="rana@example.org", permanent=False
        )

        assert result == "ignored"
        assert email_status() == ContactStatus.SUBSCRIBED

    def test_a_bounce_by_address(self, rana, org_a):
        inbound.handle_email_event(org_a, kind="bounce", address="Rana@Example.org")

        assert email_status() == ContactStatus.BOUNCING

    def test_a_complaint_withdraws_every_email_purpose(self, rana, org_a):
        make_delivery(rana, provider_id=MESSAGE_ID)

        assert inbound.handle_email_event(org_a, kind="complaint", message_id=MESSAGE_ID) == (
            "complained"
        )
        assert email_status() == ContactStatus.COMPLAINED
        assert status_of(rana, Channel.EMAIL, DEFAULT_PURPOSE) == WITHDRAWN
        assert status_of(rana, Channel.EMAIL, "events") == WITHDRAWN
        assert status_of(rana, Channel.SMS) == GRANTED
        sources = set(
            ConsentRecord.objects.filter(person=rana, status=WITHDRAWN).values_list(
                "source", flat=True
            )
        )
        assert sources == {ConsentSource.COMPLAINT}

    def test_a_later_bounce_keeps_the_complaint(self, rana, org_a):
        inbound.handle_email_event(org_a, kind="complaint", address="rana@example.org")
        inbound.handle_email_event(org_a, kind="bounce", address="rana@example.org")

        assert email_status() == ContactStatus.COMPLAINED

    def test_an_unsubscribe_report_is_the_one_click(self, rana, org_a):
        make_delivery(rana, provider_id=MESSAGE_ID, purpose="events")

        inbound.handle_email_event(org_a, kind="unsubscribe", message_id=MESSAGE_ID)

        assert status_of(rana, Channel.EMAIL, "events") == WITHDRAWN
        assert status_of(rana, Channel.EMAIL, DEFAULT_PURPOSE) == GRANTED
        assert email_status() == ContactStatus.SUBSCRIBED

    def test_an_unsubscribe_report_without_its_message_stops_everything(self, rana, org_a):
        inbound.handle_email_event(org_a, kind="unsubscribe", address="rana@example.org")

        assert status_of(rana, Channel.EMAIL, DEFAULT_PURPOSE) == WITHDRAWN
        assert status_of(rana, Channel.EMAIL, "events") == WITHDRAWN

    def test_another_organizations_message_or_address_finds_nothing(self, rana, org_b):
        make_delivery(rana, provider_id=MESSAGE_ID)

        assert inbound.handle_email_event(org_b, kind="complaint", message_id=MESSAGE_ID) == (
            "unknown"
        )
        assert inbound.handle_email_event(org_b, kind="bounce", address="rana@example.org") == (
            "unknown"
        )
        assert email_status() == ContactStatus.SUBSCRIBED
        assert status_of(rana) == GRANTED

    @pytest.mark.parametrize(
        "reference",
        [{"message_id": "\udfff"}, {"address": "\ud800@b.org"}, {"message_id": "\x00"}],
    )
    def test_a_string_no_database_takes_finds_nothing(self, rana, org_a, reference):
        make_delivery(rana, provider_id=MESSAGE_ID)

        assert inbound.handle_email_event(org_a, kind="complaint", **reference) == "unknown"
        assert status_of(rana) == GRANTED


def raw_email(subject: str = "", to: str = "unsubscribe@saha.example") -> bytes:
    return (
        f"From: Rana <rana@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Message-ID: <x@example.org>\r\n\r\nPlease unsubscribe me.\r\n"
    ).encode()


class TestUnsubscribeEmail:
    def test_the_token_in_the_subject(self, rana, org_a):
        delivery = make_delivery(rana)
        token = tokens.delivery_token(delivery.pk)

        result = inbound.handle_unsubscribe_email(org_a, raw_email(f"unsubscribe {token}"))

        assert result == "unsubscribed"
        assert status_of(rana) == WITHDRAWN
        record = ConsentRecord.objects.get(person=rana, status=WITHDRAWN)
        assert (record.source, record.source_ref) == (
            ConsentSource.UNSUBSCRIBE,
            f"mailto:delivery:{delivery.pk}",
        )

    def test_the_token_in_a_reply_or_an_encoded_subject(self, rana, org_a):
        token = tokens.delivery_token(make_delivery(rana).pk)

        # As a mail program encodes a subject it translated: "رد: unsubscribe <token>".
        subject = Header(f"رد: unsubscribe {token}", "utf-8").encode()

        inbound.handle_unsubscribe_email(org_a, raw_email(subject))

        assert status_of(rana) == WITHDRAWN

    def test_every_token_is_found_whatever_its_characters(self):
        for delivery_id in range(1, 2000, 7):
            token = tokens.delivery_token(delivery_id)
            subject = Header(f"Re: unsubscribe {token}", "utf-8").encode()
            address = f"<unsubscribe+{token}@saha.example>"

            assert inbound.tokens_in(raw_email(f"unsubscribe {token}")) == [token]
            assert inbound.tokens_in(raw_email(subject)) == [token]
            assert inbound.tokens_in(raw_email(to=address)) == [token]

    def test_the_token_in_the_address(self, rana, org_a):
        token = tokens.delivery_token(make_delivery(rana).pk)

        inbound.handle_unsubscribe_email(
            org_a, raw_email("", to=f'"Unsubscribe" <unsubscribe+{token}@saha.example>')
        )

        assert status_of(rana) == WITHDRAWN

    def test_another_organizations_delivery_is_not_touched(self, rana, org_b):
        token = tokens.delivery_token(make_delivery(rana).pk)

        assert inbound.handle_unsubscribe_email(org_b, raw_email(f"unsubscribe {token}")) == (
            "unknown"
        )
        assert status_of(rana) == GRANTED

    @pytest.mark.parametrize(
        "raw",
        [
            b"",
            b"\x00\xff\xfe garbage",
            raw_email("unsubscribe 1-forgedforgedforged"),
            raw_email("unsubscribe ☃-نص"),
            raw_email("=?bogus-charset?q?unsubscribe?="),
            b"Subject: " + b"A" * 100_000 + b"\r\n\r\n",
        ],
    )
    def test_nothing_to_find(self, rana, org_a, raw):
        assert inbound.handle_unsubscribe_email(org_a, raw) == "unknown"
        assert status_of(rana) == GRANTED


# --- The webhooks ------------------------------------------------------------------


def hook(name: str, organization, key: str) -> str:
    return reverse(f"messaging_{name}_hook", args=[organization.slug, key])


@pytest.fixture
def key(org_a) -> str:
    return webhook_key(org_a)


class TestWebhookKeys:
    @pytest.mark.parametrize("name", ["sms", "email_events", "unsubscribe_email"])
    def test_a_wrong_key_is_not_found(self, org_a, org_b, key, name):
        other = webhook_key(org_b)
        client = Client(enforce_csrf_checks=True)

        assert client.post(hook(name, org_a, key + "x"), {}).status_code == 404
        assert client.post(hook(name, org_a, other), {}).status_code == 404
        assert client.get(hook(name, org_a, key)).status_code == 405

    @pytest.mark.parametrize("name", ["sms", "email_events", "unsubscribe_email"])
    def test_no_key_set_is_not_found(self, org_a, name):
        assert Client().post(hook(name, org_a, "anything"), {}).status_code == 404
        MessagingSettings.objects.create(organization=org_a, webhook_key="")
        assert Client().post(hook(name, org_a, "anything"), {}).status_code == 404

    def test_an_unknown_organization_is_not_found(self, key):
        assert Client().post("/hooks/nobody/" + key + "/sms/", {}).status_code == 404


class TestSmsHook:
    def post(self, org_a, key, **form) -> ElementTree.Element:
        response = Client(enforce_csrf_checks=True).post(hook("sms", org_a, key), form)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        return ElementTree.fromstring(response.content)  # noqa: S314  (our own answer)

    def test_stop_answers_twiml(self, rana, org_a, key):
        twiml = self.post(org_a, key, From=NUMBER, To="+15550001111", Body="Stop")

        assert twiml.tag == "Response"
        assert twiml.find("Message").text
        assert status_of(rana, Channel.SMS) == WITHDRAWN

    def test_the_reply_is_escaped(self, rana, org_a, key):
        org_a.names = {"en": "Rock & <Roll>", "ar": "Rock & <Roll>"}
        org_a.save()

        twiml = self.post(org_a, key, From=NUMBER, Body="STOP")

        assert "Rock & <Roll>" in twiml.find("Message").text

    @pytest.mark.parametrize(
        "form",
        [
            {"From": "+96170999999", "Body": "STOP"},
            {"Body": "STOP"},
            {},
            {"From": NUMBER},
            {"From": NUMBER, "Body": "Stop by the stand tomorrow"},
            {"From": "\x00", "To": "\x00", "Body": "\x00"},
            {"From": NUMBER + "\x00", "Body": "x" * 100_000},
        ],
    )
    def test_nothing_to_say(self, rana, org_a, key, form):
        twiml = self.post(org_a, key, **form)

        assert twiml.tag == "Response" and len(twiml) == 0
        assert status_of(rana, Channel.SMS) == GRANTED

    def test_a_stop_with_a_nul_is_kept(self, rana, org_a, key):
        # PostgreSQL refuses NUL in text: the STOP must not be lost in a 500.
        response = Client().post(
            hook("sms", org_a, key),
            "From=%2B96171123412&Body=STOP%00",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 200
        assert status_of(rana, Channel.SMS) == WITHDRAWN
        assert ConsentRecord.objects.filter(person=rana, status=WITHDRAWN).first().wording == "STOP"

    def test_invalid_utf8_is_no_500(self, rana, org_a, key):
        response = Client().post(
            hook("sms", org_a, key),
            b"From=%2B96171123412&Body=STOP%ED%A0%80%FF",
            content_type="application/x-www-form-urlencoded",
        )

        assert response.status_code == 200


class TestEmailEventsHook:
    def post(self, org_a, key, payload, raw: bool = False):
        body = payload if raw else json.dumps(payload)
        return Client(enforce_csrf_checks=True).post(
            hook("email_events", org_a, key), body, content_type="application/json"
        )

    def test_a_list_of_events(self, rana, org_a, key):
        make_delivery(rana, provider_id=MESSAGE_ID)
        other = recipient(org_a, email="sami@example.org")

        response = self.post(
            org_a,
            key,
            {
                "events": [
                    {"type": "bounce", "email": "sami@example.org", "permanent": True},
                    {"type": "complaint", "message_id": f"<{MESSAGE_ID}>"},
                    {"type": "bounce", "email": "nobody@example.org"},
                ]
            },
        )

        assert response.status_code == 200
        assert response.json() == {"results": ["bounced", "complained", "unknown"]}
        assert email_status("sami@example.org") == ContactStatus.BOUNCING
        assert email_status() == ContactStatus.COMPLAINED
        assert status_of(rana) == WITHDRAWN
        assert status_of(other) == GRANTED

    def test_a_single_event(self, rana, org_a, key):
        response = self.post(org_a, key, {"type": "unsubscribe", "email": "rana@example.org"})

        assert response.json() == {"results": ["unsubscribed"]}
        assert status_of(rana) == WITHDRAWN

    @pytest.mark.parametrize(
        "payload",
        [
            "not json",
            "",
            "[" * 100_000,
            "null",
            "[]",
            '{"events": []}',
            '{"events": "bounce"}',
            '{"type": "bounced", "email": "rana@example.org"}',
            '{"type": "bounce"}',
            '{"type": "bounce", "email": 42}',
            '{"type": "bounce", "email": "rana@example.org", "permanent": "yes"}',
            '{"events": [{"type": "bounce", "email": "rana@example.org"}, 7]}',
            '{"type": ["bounce"], "email": "rana@example.org"}',
        ],
    )
    def test_malformed_input_is_a_400_with_a_reason(self, rana, org_a, key, payload):
        response = self.post(org_a, key, payload, raw=True)

        assert response.status_code == 400
        assert response.json()["error"]
        assert email_status() == ContactStatus.SUBSCRIBED  # nothing of a bad report is applied

    def test_invalid_utf8(self, org_a, key):
        assert self.post(org_a, key, b"\xff\xfe{", raw=True).status_code == 400

    @pytest.mark.parametrize(
        "payload",
        [
            # Lone surrogates: valid JSON, but no UTF-8 (SQLite's encoder raises).
            '{"type": "complaint", "message_id": "\\udfff"}',
            '{"type": "bounce", "email": "\\ud800@b.org"}',
            # NUL: PostgreSQL refuses it in text.
            '{"type": "complaint", "message_id": "\\u0000"}',
            '{"type": "bounce", "email": "rana\\u0000@example.org"}',
            '{"type": "complaint", "message_id": "' + "x" * 999 + '"}',
            '{"events": [{"type": "bounce", "email": "rana@example.org"},'
            ' {"type": "complaint", "message_id": "a\\u0000"}]}',
        ],
    )
    def test_a_string_no_database_takes_is_a_400_with_a_reason(self, rana, org_a, key, payload):
        make_delivery(rana, provider_id=MESSAGE_ID)

        response = self.post(org_a, key, payload, raw=True)

        assert response.status_code == 400
        assert response.json()["error"].startswith("events[")
        assert email_status() == ContactStatus.SUBSCRIBED
        assert status_of(rana) == GRANTED

    def test_the_longest_reference_is_still_taken(self, rana, org_a, key):
        response = self.post(org_a, key, {"type": "complaint", "message_id": "x" * 998})

        assert response.json() == {"results": ["unknown"]}


class TestUnsubscribeEmailHook:
    def test_a_raw_message(self, rana, org_a, key):
        token = tokens.delivery_token(make_delivery(rana).pk)

        response = Client(enforce_csrf_checks=True).post(
            hook("unsubscribe_email", org_a, key),
            raw_email(f"unsubscribe {token}"),
            content_type="message/rfc822",
        )

        assert response.status_code == 200
        assert response.json() == {"result": "unsubscribed"}
        assert status_of(rana) == WITHDRAWN

    def test_a_message_in_a_form_field(self, rana, org_a, key):
        token = tokens.delivery_token(make_delivery(rana).pk)

        response = Client().post(
            hook("unsubscribe_email", org_a, key),
            {"email": raw_email(f"unsubscribe {token}").decode()},
        )

        assert response.json() == {"result": "unsubscribed"}

    def test_another_organizations_token_through_this_hook(self, rana, org_b):
        token = tokens.delivery_token(make_delivery(rana).pk)

        response = Client().post(
            hook("unsubscribe_email", org_b, webhook_key(org_b)),
            raw_email(f"unsubscribe {token}"),
            content_type="message/rfc822",
        )

        assert response.json() == {"result": "unknown"}
        assert status_of(rana) == GRANTED

    @pytest.mark.parametrize(
        "field", ["\x00", "Subject: unsubscribe \x00\r\n\r\n", "Subject: \ufffd\r\n\r\n"]
    )
    def test_a_form_field_of_any_text_is_no_500(self, rana, org_a, key, field):
        response = Client().post(hook("unsubscribe_email", org_a, key), {"email": field})

        assert response.status_code == 200
        assert response.json() == {"result": "unknown"}

    def test_a_message_naming_many_tokens(self, rana, org_a, key):
        forged = " ".join(f"unsubscribe {n}-forgedforgedforged" for n in range(50_000))

        response = Client().post(
            hook("unsubscribe_email", org_a, key),
            raw_email(forged),
            content_type="message/rfc822",
        )

        assert response.json() == {"result": "unknown"}
        assert len(inbound.tokens_in(raw_email(forged))) == inbound.MAX_TOKENS

    def test_an_empty_body_is_a_400(self, org_a, key):
        response = Client().post(
            hook("unsubscribe_email", org_a, key), b"", content_type="text/plain"
        )

        assert response.status_code == 400
        assert response.json()["error"]
