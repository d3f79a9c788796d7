"""Fixtures that put real servers on loopback (pytest plugin; see saha/conftest.py).

`smtp_server` starts a LoopbackSMTP and points Django's EMAIL_* settings at it;
`sms_gateway` starts a LoopbackSmsGateway and points the SMS_* settings at it
in Saha's JSON dialect (`override_settings(**sms_gateway.settings("twilio"))`
switches a test to Twilio's). Providers read settings when `get_provider` is
called, so whatever a test builds inside the fixture talks to the server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from saha.testing.sms_gateway import LoopbackSmsGateway
from saha.testing.smtp_server import LoopbackSMTP


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSMTP]:
    with LoopbackSMTP() as server, override_settings(**server.settings()):
        yield server


@pytest.fixture
def sms_gateway() -> Iterator[LoopbackSmsGateway]:
    with LoopbackSmsGateway() as gateway, override_settings(**gateway.settings("saha")):
        yield gateway


@pytest.fixture(autouse=True)
def _forget_sent_messages() -> Iterator[None]:
    """The memory provider's `sent` starts empty in every test, as `mail.outbox` does."""
    from saha.messaging.providers import console

    console.sent.clear()
    yield
