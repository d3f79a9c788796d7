"""Acceptance: each way out (one click, the preference page, an SMS reply) stops
the next broadcast to that person and shows on their timeline. Real broadcasts
go through the outbox; the person uses the links of the message they got."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from saha.messaging import broadcasts, outbox
from saha.messaging.models import MessagingSettings
from saha.messaging.services import messaging_settings
from saha.messaging.tests.outbox_factories import broadcast
from saha.supporters.models import Channel, Person
from saha.supporters.tests.people_factories import grant, make_person
from saha.supporters.timeline import timeline as timeline_of

pytestmark = pytest.mark.django_db


def send(organization: Any, channel: str = Channel.EMAIL) -> list[Any]:
    """Send a broadcast now; returns what the provider accepted."""
    from saha.messaging.providers import console

    before = len(console.sent)
    made = broadcast(organization, channel=channel, versions={"en": ("News", "Hello")})
    broadcasts.request_send(actor=None, broadcast=made)
    broadcasts.prepare(made.pk)
    outbox.drain(budget_seconds=10)
    return console.sent[before:]


def timeline(person: Person) -> list[Any]:
    with translation.override("en"):
        return [str(moment.text) for moment in timeline_of(person)]


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def hala(org_a: Any) -> Person:
    # No quiet hours: these tests may run at night in Beirut.
    MessagingSettings.objects.filter(pk=messaging_settings(org_a).pk).update(
        quiet_start="00:00", quiet_end="00:00"
    )
    return make_person(
        org_a,
        email="hala@example.org",
        phone="+96171123456",
        given_name="Hala",
        consents=[grant(), grant(Channel.SMS)],
    )


def test_one_click_stops_the_next_broadcast(org_a: Any, hala: Person) -> None:
    [first] = send(org_a)
    header = first.message.headers["List-Unsubscribe"]
    url = re.search(r"<(https?://[^>]+)>", header).group(1)
    # what Gmail does: a POST with exactly this body, no cookies, no CSRF token
    response = Client(enforce_csrf_checks=True).post(
        path_of(url),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert send(org_a) == []
    assert any("Unsubscribe link" in text for text in timeline(hala))


def test_the_preference_page_stops_the_next_broadcast(org_a: Any, hala: Person) -> None:
    [first] = send(org_a)
    url = re.search(r"(https?://\S+/preferences/)", first.message.body).group(1)
    client = Client(enforce_csrf_checks=True)
    assert client.get(path_of(url)).status_code == 200
    response = client.post(path_of(url), {"shown": "email:updates"})  # unticked
    assert response.status_code == 200
    assert send(org_a) == []
    assert any("Preference page" in text for text in timeline(hala))


def test_an_sms_reply_stops_the_next_sms_broadcast(org_a: Any, hala: Person) -> None:
    assert len(send(org_a, Channel.SMS)) == 1
    key = messaging_settings(org_a).webhook_key
    response = Client(enforce_csrf_checks=True).post(
        f"/hooks/{org_a.slug}/{key}/sms/", {"From": "+96171123456", "Body": "توقف"}
    )
    assert response.status_code == 200
    assert send(org_a, Channel.SMS) == []
    assert len(send(org_a)) == 1  # email is another matter: still agreed
    assert any("Reply to an SMS" in text for text in timeline(hala))
