"""Providers talk to real servers on loopback: an SMTP server and an HTTP SMS gateway.

What they must get right: the message that arrives (parts, Arabic, headers,
Message-ID), one connection for a batch, and which failures are permanent
(this address will never work) and which are worth another try.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import dkim
import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from saha.messaging.providers import OutcomeUnknown, ProviderError, get_provider
from saha.messaging.providers import console as memory
from saha.messaging.providers.base import Outgoing
from saha.messaging.providers.console import ConsoleProvider, FileProvider, MemoryProvider
from saha.messaging.providers.sms_http import SahaGatewayProvider, TwilioProvider
from saha.messaging.providers.smtp import SmtpProvider
from saha.testing.sms_gateway import LoopbackSmsGateway
from saha.testing.smtp_server import LoopbackSMTP

ARABIC_SUBJECT = "دعوة إلى الاعتصام في ساحة الشهداء"
ARABIC_BODY = "نلتقي يوم السبت الساعة الخامسة.\n.سطر يبدأ بنقطة"


def email(to: str = "layla@example.org", reference: str = "d1-abc", **fields: object) -> Outgoing:
    values: dict[str, object] = {
        "to": to,
        "body": ARABIC_BODY,
        "reference": reference,
        "subject": ARABIC_SUBJECT,
        "from_email": "news@saha.example.org",
        "from_name": "ساحة",
        **fields,
    }
    return Outgoing(**values)  # type: ignore[arg-type]


def sms(to: str = "+96170123456", reference: str = "s1-abc", **fields: object) -> Outgoing:
    return Outgoing(**{"to": to, "body": "اعتصام اليوم ٥ مساءً", "reference": reference, **fields})  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def send_one(message: Outgoing, channel: str = "email") -> str:
    provider = get_provider(channel)
    provider.open()
    try:
        return provider.send(message)
    finally:
        provider.close()


# --- SMTP -----------------------------------------------------------------


def test_an_email_arrives_with_its_parts_headers_and_arabic_intact(
    smtp_server: LoopbackSMTP,
) -> None:
    message = email(
        html="<p dir='rtl'>نلتقي يوم السبت</p>",
        reply_to="replies@saha.example.org",
        language="ar",
        headers={
            "List-Unsubscribe": "<https://saha.example.org/u/tok>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )

    provider_id = send_one(message)

    received = smtp_server.wait_for(1)[0]
    parsed = received.message
    assert provider_id == "d1-abc@saha.example.org"
    assert received.message_id == provider_id
    assert received.mail_from == "news@saha.example.org"
    assert received.rcpt_tos == ("layla@example.org",)
    assert parsed["Subject"] == ARABIC_SUBJECT
    assert parsed["From"].addresses[0].display_name == "ساحة"
    assert parsed["Reply-To"] == "replies@saha.example.org"
    assert parsed["Content-Language"] == "ar"
    assert parsed["List-Unsubscribe"] == "<https://saha.example.org/u/tok>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Date"] is not None
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    # Base64 carries text in its canonical form, CRLF line ends.
    assert plain is not None and plain.get_content() == ARABIC_BODY.replace("\n", "\r\n") + "\r\n"
    assert html is not None and "نلتقي يوم السبت" in html.get_content()
    # Only 7-bit on the wire: no relay needs to re-encode it (and break DKIM).
    assert max(received.data) < 128


def test_the_default_sender_is_used_when_the_message_has_none(smtp_server: LoopbackSMTP) -> None:
    with override_settings(DEFAULT_FROM_EMAIL="Saha <saha@org.example>"):
        provider_id = send_one(email(from_email="", from_name=""))

    received = smtp_server.wait_for(1)[0]
    assert provider_id == "d1-abc@org.example"
    assert str(received.message["From"]) == "Saha <saha@org.example>"


def test_lines_starting_with_a_dot_survive_the_smtp_transfer(smtp_server: LoopbackSMTP) -> None:
    send_one(email(subject="Dots", body="first\n.second\n.\n..fourth"))

    plain = smtp_server.wait_for(1)[0].message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content() == "first\r\n.second\r\n.\r\n..fourth\r\n"


def test_an_internationalized_domain_goes_out_as_idna(smtp_server: LoopbackSMTP) -> None:
    send_one(email(to="sara@مثال.لبنان"))

    received = smtp_server.wait_for(1)[0]
    assert received.rcpt_tos[0].startswith("sara@xn--")


def test_many_messages_share_one_connection(smtp_server: LoopbackSMTP) -> None:
    provider = get_provider("email")
    provider.open()
    for number in range(200):
        provider.send(email(to=f"p{number}@example.org", reference=f"d{number}"))
    provider.close()

    received = smtp_server.wait_for(200)
    assert smtp_server.connections == 1
    assert {message.connection for message in received} == {1}
    assert len(set(smtp_server.message_ids())) == 200


@pytest.mark.parametrize(("code", "permanent"), [(550, True), (451, False)])
@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_refused_recipient_is_permanent_on_5xx_and_temporary_on_4xx(
    smtp_server: LoopbackSMTP, code: int, permanent: bool, stage: str
) -> None:
    smtp_server.fail("gone@example.org", code, stage=stage)
    provider = get_provider("email")
    provider.open()

    with pytest.raises(ProviderError) as refused:
        provider.send(email(to="gone@example.org"))
    # The connection is still good for the next person.
    provider.send(email(to="here@example.org", reference="d2"))
    provider.close()

    assert refused.value.permanent is permanent
    assert str(code) in str(refused.value)
    assert [message.rcpt_tos for message in smtp_server.messages] == [("here@example.org",)]
    assert smtp_server.connections == 1


def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port(),
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=2,
    ):
        provider = get_provider("email")
        with pytest.raises(ProviderError) as down:
            provider.open()

    assert down.value.permanent is False


def test_a_dropped_idle_connection_is_reopened_and_the_message_sent_once(
    smtp_server: LoopbackSMTP,
) -> None:
    provider = get_provider("email")
    provider.open()
    provider.send(email(reference="d1"))

    smtp_server.drop_connections()  # as a server restarting between two messages
    provider.send(email(reference="d2"))
    provider.close()

    assert smtp_server.message_ids() == ["d1@saha.example.org", "d2@saha.example.org"]
    assert smtp_server.connections == 2


def test_a_connection_lost_after_the_message_was_sent_is_an_unknown_outcome(
    smtp_server: LoopbackSMTP,
) -> None:
    # given a server that takes the message and then hangs up without answering
    smtp_server.fail("layla@example.org", stage="data", drop=True)
    provider = get_provider("email")
    provider.open()

    with pytest.raises(OutcomeUnknown) as unknown:
        provider.send(email())
    provider.close()

    # then it was not sent again behind the outbox's back
    assert unknown.value.permanent is False
    assert smtp_server.message_ids() == ["d1-abc@saha.example.org"]


def test_it_logs_in_when_a_user_is_set() -> None:
    with (
        LoopbackSMTP(credentials=("saha", "s3cret")) as server,
        override_settings(**server.settings()),
    ):
        send_one(email())
        assert server.wait_for(1)[0].user == "saha"

        with override_settings(EMAIL_HOST_PASSWORD="wrong"), pytest.raises(ProviderError):
            send_one(email())


def rsa_key() -> tuple[bytes, bytes]:
    """(private key PEM, public key DER) for a throwaway DKIM key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_email_is_dkim_signed_and_the_signature_verifies(
    smtp_server: LoopbackSMTP, tmp_path: Path
) -> None:
    private, public = rsa_key()
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(private)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    looked_up: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        looked_up.append(name)
        return record

    with override_settings(
        SAHA_DKIM_KEY_FILE=str(key_file),
        SAHA_DKIM_SELECTOR="saha2026",
        SAHA_DKIM_DOMAIN="saha.example.org",
    ):
        send_one(email(headers={"List-Unsubscribe": "<https://saha.example.org/u/t>"}))

    data = smtp_server.wait_for(1)[0].data
    signature = data.split(b"\r\n\r\n")[0].decode()
    assert dkim.verify(data, dnsfunc=dns)
    assert looked_up == [b"saha2026._domainkey.saha.example.org."]
    for header in ("from", "subject", "message-id", "list-unsubscribe", "content-type"):
        assert header in signature.lower().split("h=")[1]
    # and a message changed on the way fails
    assert not dkim.verify(data.replace(b"Subject:", b"Subject: Re:"), dnsfunc=dns)


def test_a_dkim_key_that_cannot_be_read_stops_the_provider(tmp_path: Path) -> None:
    with (
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            SAHA_DKIM_KEY_FILE=str(tmp_path / "missing.pem"),
            SAHA_DKIM_SELECTOR="s",
            SAHA_DKIM_DOMAIN="example.org",
        ),
        pytest.raises(ImproperlyConfigured, match="SAHA_DKIM_KEY_FILE"),
    ):
        get_provider("email")


# --- SMS over HTTP ----------------------------------------------------------


def test_twilio_gets_its_form_fields_with_basic_auth(sms_gateway: LoopbackSmsGateway) -> None:
    with override_settings(**sms_gateway.settings("twilio")):
        provider = get_provider("sms")
        provider_id = send_one(sms(), channel="sms")

    received = sms_gateway.wait_for(1)[0]
    assert isinstance(provider, TwilioProvider)
    assert not hasattr(provider, "find")  # Twilio cannot be asked by our reference
    assert received.dialect == "twilio"
    assert provider_id == received.id and provider_id.startswith("SM")
    assert received.fields == {"To": "+96170123456", "From": "+96170000000", "Body": sms().body}


def test_twilio_refuses_wrong_credentials_as_a_temporary_failure(
    sms_gateway: LoopbackSmsGateway,
) -> None:
    wrong = {**sms_gateway.settings("twilio"), "SMS_API_PASSWORD": "wrong"}
    with override_settings(**wrong), pytest.raises(ProviderError) as refused:
        send_one(sms(), channel="sms")

    assert refused.value.permanent is False
    assert "20003" in str(refused.value)
    assert sms_gateway.messages == []


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # invalid 'To' number
        (400, 21614, True),  # not a mobile number
        (400, 21610, True),  # the person replied STOP
        (429, 20429, False),  # too many requests
        (500, 20500, False),
        (400, 21606, False),  # our 'From' number cannot send: not the recipient's fault
    ],
)
def test_twilio_errors_are_permanent_only_for_a_number_that_will_never_work(
    sms_gateway: LoopbackSmsGateway, status: int, code: int, permanent: bool
) -> None:
    sms_gateway.fail("+96170123456", status=status, code=code)

    with override_settings(**sms_gateway.settings("twilio")), pytest.raises(ProviderError) as error:
        send_one(sms(), channel="sms")

    assert error.value.permanent is permanent
    assert str(code) in str(error.value)


def test_the_gateway_dialect_posts_json_with_a_bearer_token(
    sms_gateway: LoopbackSmsGateway,
) -> None:
    provider_id = send_one(sms(sender="SAHA"), channel="sms")

    received = sms_gateway.wait_for(1)[0]
    assert received.dialect == "saha"
    assert received.id == provider_id
    assert received.fields == {
        "to": "+96170123456",
        "from": "SAHA",
        "body": "اعتصام اليوم ٥ مساءً",
        "reference": "s1-abc",
    }


def test_the_gateway_body_can_follow_a_template(sms_gateway: LoopbackSmsGateway) -> None:
    template = json.dumps(
        {"to": "{to}", "body": "{body}", "meta": {"ref": "saha:{reference}", "from": "{from}"}}
    )
    with override_settings(**sms_gateway.settings("saha", body_template=template)):
        send_one(sms(body="{reference} stays as written"), channel="sms")

    fields = sms_gateway.wait_for(1)[0].fields
    assert fields["body"] == "{reference} stays as written"
    assert fields["meta"] == {"ref": "saha:s1-abc", "from": "+96170000000"}


def test_many_sms_share_one_keep_alive_connection(sms_gateway: LoopbackSmsGateway) -> None:
    provider = get_provider("sms")
    provider.open()
    for number in range(50):
        provider.send(sms(to=f"+9617000{number:04d}", reference=f"s{number}"))
    provider.close()

    assert len(sms_gateway.wait_for(50)) == 50
    assert sms_gateway.connections == 1


def test_a_keep_alive_connection_the_gateway_closed_is_replaced_before_sending(
    sms_gateway: LoopbackSmsGateway,
) -> None:
    provider = get_provider("sms")
    provider.open()
    provider.send(sms(reference="s1"))

    sms_gateway.drop_connections()
    provider.send(sms(reference="s2"))
    provider.close()

    assert [message.reference for message in sms_gateway.messages] == ["s1", "s2"]
    assert sms_gateway.connections == 2


@pytest.mark.parametrize(
    ("status", "error", "permanent"),
    [(400, "invalid_number", True), (422, "unsubscribed", True), (503, "busy", False)],
)
def test_gateway_errors_map_to_permanent_or_temporary(
    sms_gateway: LoopbackSmsGateway, status: int, error: str, permanent: bool
) -> None:
    sms_gateway.fail("+96170123456", status=status, error=error, permanent=permanent)

    with pytest.raises(ProviderError) as refused:
        send_one(sms(), channel="sms")

    assert refused.value.permanent is permanent


def test_find_asks_the_gateway_for_a_reference(sms_gateway: LoopbackSmsGateway) -> None:
    provider = get_provider("sms")
    assert isinstance(provider, SahaGatewayProvider)
    provider.open()
    provider_id = provider.send(sms(reference="s-found"))

    assert provider.find("s-found") == provider_id
    assert provider.find("s-never-sent") is None
    provider.close()


def test_an_answer_lost_after_sending_is_unknown_and_find_settles_it(
    sms_gateway: LoopbackSmsGateway,
) -> None:
    # given a gateway that takes the message and hangs up without answering
    sms_gateway.fail("+96170123456", drop=True)
    provider = get_provider("sms")
    assert isinstance(provider, SahaGatewayProvider)
    provider.open()

    with pytest.raises(OutcomeUnknown):
        provider.send(sms(reference="s-lost"))

    # then the message was not posted twice, and the gateway knows it
    assert len(sms_gateway.messages) == 1
    assert provider.find("s-lost") == sms_gateway.messages[0].id
    provider.close()


def test_a_gateway_that_is_down_is_a_temporary_failure() -> None:
    with LoopbackSmsGateway() as gateway:
        settings = gateway.settings("saha")
    with override_settings(**settings), pytest.raises(ProviderError) as down:
        send_one(sms(), channel="sms")

    assert down.value.permanent is False
    assert not isinstance(down.value, OutcomeUnknown)


# --- console, file, memory --------------------------------------------------


def test_the_console_prints_a_readable_email(capsys: pytest.CaptureFixture[str]) -> None:
    provider = ConsoleProvider("email", default_from="Saha <saha@example.org>")

    provider_id = provider.send(email(html="<p>نلتقي</p>"))

    out = capsys.readouterr().out
    assert provider_id == "d1-abc@saha.example.org"
    assert f"Subject: {ARABIC_SUBJECT}" in out
    assert ARABIC_BODY in out
    assert "Message-ID: <d1-abc@saha.example.org>" in out
    assert "[HTML alternative" in out


def test_the_console_prints_an_sms(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleProvider("sms", default_from="SAHA").send(sms())

    out = capsys.readouterr().out
    assert "SMS to +96170123456 from SAHA" in out
    assert "اعتصام اليوم" in out


def test_the_file_provider_writes_an_eml_per_email_and_finds_it(tmp_path: Path) -> None:
    provider = FileProvider("email", tmp_path / "mail", default_from="saha@example.org")
    provider.open()

    provider_id = provider.send(email(reference="d/7"))

    written = (tmp_path / "mail" / "d_7.eml").read_bytes()
    assert b"Message-ID: <d/7@saha.example.org>" in written
    assert provider.find("d/7") == provider_id
    assert provider.find("d/8") is None


def test_the_file_provider_appends_one_json_line_per_sms(tmp_path: Path) -> None:
    provider = FileProvider("sms", tmp_path / "sms", default_from="SAHA")

    provider.send(sms(reference="s1"))
    provider.send(sms(reference="s2", sender="OTHER"))

    lines = [json.loads(line) for line in provider.sms_file.read_text().splitlines()]
    assert [(line["reference"], line["from"]) for line in lines] == [
        ("s1", "SAHA"),
        ("s2", "OTHER"),
    ]
    assert lines[0]["body"] == "اعتصام اليوم ٥ مساءً"
    assert provider.find("s2") == "s2"
    assert provider.find("s3") is None


def test_tests_get_the_memory_provider_and_mail_outbox() -> None:
    provider = get_provider("email")
    assert isinstance(provider, MemoryProvider)

    provider_id = provider.send(email(html="<p>hi</p>"))

    assert memory.sent[0].to == "layla@example.org"
    assert memory.sent[0].provider_id == provider_id
    assert provider.find("d1-abc") == provider_id
    assert mail.outbox[0].subject == ARABIC_SUBJECT
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{provider_id}>"


def test_the_memory_provider_checks_addresses_as_smtp_would() -> None:
    with pytest.raises(ProviderError) as invalid:
        MemoryProvider("email", default_from="saha@example.org").send(email(to="not an address"))

    assert invalid.value.permanent is True


# --- built from settings ----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        ({"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}, SmtpProvider),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, ConsoleProvider),
        ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, FileProvider),
        ({"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, MemoryProvider),
    ],
)
def test_the_email_provider_follows_email_url(overrides: dict[str, str], kind: type) -> None:
    with override_settings(**overrides, EMAIL_RATE=40):
        provider = get_provider("email")

    assert isinstance(provider, kind)
    assert provider.channel == "email"
    assert provider.rate == 40  # type: ignore[attr-defined]


def test_an_email_backend_without_a_provider_is_refused() -> None:
    with (
        override_settings(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend"),
        pytest.raises(ImproperlyConfigured, match="EMAIL_URL"),
    ):
        get_provider("email")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("", ConsoleProvider),
        ("memory:", MemoryProvider),
        ("file:///tmp/saha-sms", FileProvider),
        ("twilio://AC1:tok@api.twilio.com?from=+15550000", TwilioProvider),
        ("https://:tok@sms.example.org/messages", SahaGatewayProvider),
    ],
)
def test_the_sms_provider_follows_sms_url(url: str, kind: type) -> None:
    from saha.config.env import sms_config

    with override_settings(**sms_config(url, Path("/var/saha")), SMS_RATE=5):
        provider = get_provider("sms")

    assert isinstance(provider, kind)
    assert provider.channel == "sms"
    assert provider.rate == 5  # type: ignore[attr-defined]


def test_an_unknown_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="pigeon"):
        get_provider("pigeon")
