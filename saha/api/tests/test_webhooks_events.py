"""What becomes a webhook event: the same services the web forms use, told once their
transaction commits, to the endpoints of the organization subscribed to that event."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from saha.api import webhooks
from saha.api.models import DeliveryState, WebhookDelivery
from saha.api.tests.conftest import Receiver, make_endpoint
from saha.events import services as events
from saha.events.models import Event, EventStatus
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import ConsentSource, ConsentStatus
from saha.supporters.services import PersonData, update_person, upsert_person

pytestmark = pytest.mark.usefixtures("allow_private")
EVERYTHING = list(webhooks.EVENT_TYPES)


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def hook(org_a: Any) -> Any:
    """An endpoint of A taking every event, at an address nothing listens on (the rows are
    what these tests read; sending is the engine's tests' business)."""
    return make_endpoint(org_a, "http://127.0.0.1:9/hook", EVERYTHING)


def person(organization: Any, email: str = "rima@example.org") -> Any:
    return upsert_person(
        organization=organization,
        actor="test",
        data=PersonData(email=email, given_name="Rima"),
        source="form",
    ).person


def events_of(endpoint: Any) -> list[tuple[str, dict[str, Any]]]:
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    return [(row.event_type, row.payload) for row in rows]


def published_event(organization: Any) -> Event:
    start = timezone.now() + dt.timedelta(days=2)
    return Event.objects.create(
        organization=organization,
        slug="rally",
        titles={"en": "Rally"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        time_zone="Asia/Beirut",
        status=EventStatus.PUBLISHED,
    )


def test_a_new_person_is_written_down_in_its_transaction_and_rendered_when_sent(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        rima = person(org_a)
        # the delivery is there before the commit, nothing rendered yet
        [waiting] = WebhookDelivery.objects.all()
        assert waiting.payload is None and waiting.object_id == str(rima.pk)
    # the commit woke the sender: its first attempt rendered what the API shows
    [(kind, payload)] = events_of(hook)
    assert kind == "person.created" and payload["type"] == "person.created"
    assert payload["id"] == str(waiting.event_id)
    data = payload["data"]["osdi:person"]
    assert f"saha:{rima.uuid}" in data["identifiers"]
    assert data["email_addresses"][0]["address"] == "rima@example.org"


def test_a_write_rolled_back_leaves_no_delivery(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                person(org_a)
                assert WebhookDelivery.objects.count() == 1
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert events_of(hook) == []
    assert callbacks == []  # and nobody is woken for it


def test_a_committed_write_keeps_its_delivery_though_no_after_commit_step_ever_runs(
    org_a: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = make_endpoint(org_a, receiver.url, ["person.created"])
    # given a process that dies right after the commit: its callbacks never run
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rima = person(org_a)
    assert len(callbacks) >= 1 and receiver.received == []
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.state == DeliveryState.PENDING and delivery.event_type == "person.created"
    # when the periodic task comes round, the event is sent all the same
    assert webhooks.send_due() == 1
    [got] = receiver.received
    assert got.headers["Saha-Delivery"] == str(delivery.event_id)
    assert f"saha:{rima.uuid}" in json.loads(got.body)["data"]["osdi:person"]["identifiers"]


def test_several_changes_to_a_person_in_one_transaction_are_one_update(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rima = person(org_a)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        update_person(actor="test", person=rima, values={"given_name": "R."}, custom_fields={})
        update_person(actor="test", person=rima, values={"family_name": "K."}, custom_fields={})
    [(kind, payload)] = [e for e in events_of(hook) if e[0] != "person.created"]
    assert kind == "person.updated"
    assert payload["data"]["osdi:person"]["family_name"] == "K."


def test_the_same_event_after_a_savepoint_rolled_back_is_written_again(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rima = person(org_a)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                update_person(
                    actor="test", person=rima, values={"given_name": "X"}, custom_fields={}
                )
                raise RuntimeError("this part undone")
        except RuntimeError:
            pass
        # the first one went with its savepoint: this one is not taken for a repeat
        update_person(actor="test", person=rima, values={"given_name": "Y"}, custom_fields={})
    [(kind, payload)] = [e for e in events_of(hook) if e[0] != "person.created"]
    assert kind == "person.updated" and payload["data"]["osdi:person"]["given_name"] == "Y"


def test_the_payload_is_what_was_committed_not_what_was_first_written(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rima = person(org_a)
        update_person(actor="test", person=rima, values={"family_name": "Karam"}, custom_fields={})
    payloads = dict(events_of(hook))
    assert payloads["person.created"]["data"]["osdi:person"]["family_name"] == "Karam"


def test_the_payload_once_rendered_is_kept_for_every_attempt_and_every_endpoint(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    second = make_endpoint(org_a, "http://127.0.0.1:9/second", ["person.created"])
    with django_capture_on_commit_callbacks(execute=False):
        rima = person(org_a)
    [first_try] = [r for r in WebhookDelivery.objects.filter(endpoint=hook)]
    assert webhooks.attempt(first_try.pk) == DeliveryState.FAILED  # nobody listens on :9
    # a change after the first attempt does not touch the event already told
    update_person(actor="test", person=rima, values={"given_name": "Later"}, custom_fields={})
    rows = WebhookDelivery.objects.filter(event_type="person.created")
    assert {str(row.payload) for row in rows} == {
        str(WebhookDelivery.objects.get(pk=first_try.pk).payload)
    }
    assert {row.endpoint_id for row in rows} == {hook.pk, second.pk}
    assert all(row.payload["data"]["osdi:person"]["given_name"] == "Rima" for row in rows)


def test_a_thing_gone_before_its_first_attempt_is_not_sent(
    org_a: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    from saha.petitions import services as petitions
    from saha.petitions.models import Signature

    listening = make_endpoint(org_a, receiver.url, ["signature.created"])
    petition = petitions.create_petition(
        actor=None, organization=org_a, slug="p", titles={"en": "Clean water"}
    )
    petitions.set_status(actor=None, petition=petition, status="open")
    with django_capture_on_commit_callbacks(execute=False):
        signed = petitions.sign(petition=petition, data=PersonData(email="s@example.org")).signature
    Signature.objects.filter(pk=signed.pk).delete()
    [delivery] = WebhookDelivery.objects.filter(endpoint=listening)
    assert webhooks.attempt(delivery.pk) == DeliveryState.SKIPPED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SKIPPED and delivery.last_error
    assert delivery.payload is None and receiver.received == []
    assert webhooks.send_due() == 0  # and it is not tried again


def test_only_subscribed_active_endpoints_of_the_same_organization_get_it(
    org_a: Any, org_b: Any, django_capture_on_commit_callbacks: Any
) -> None:
    wants = make_endpoint(org_a, "http://127.0.0.1:9/a", ["person.created"])
    other_event = make_endpoint(org_a, "http://127.0.0.1:9/b", ["signature.created"])
    switched_off = make_endpoint(org_a, "http://127.0.0.1:9/c", ["person.created"])
    switched_off.is_active = False
    switched_off.save(update_fields=["is_active"])
    of_b = make_endpoint(org_b, "http://127.0.0.1:9/d", ["person.created"])
    with django_capture_on_commit_callbacks(execute=True):
        person(org_a)
    assert [kind for kind, _ in events_of(wants)] == ["person.created"]
    assert events_of(other_event) == events_of(switched_off) == events_of(of_b) == []


def test_an_rsvp_a_cancel_and_a_check_in(
    org_a: Any, owner: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = published_event(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        rsvp = events.rsvp(
            event=event, data=PersonData(email="sam@example.org", given_name="Sam"), notify=False
        ).rsvp
    with django_capture_on_commit_callbacks(execute=True):
        events.check_in(event=event, rsvp=rsvp, actor=owner.user, nonce="n1")
    with django_capture_on_commit_callbacks(execute=True):
        events.cancel_rsvp(rsvp=rsvp, actor=owner.user)
    kinds = [kind for kind, _ in events_of(hook)]
    assert kinds == [
        "person.created",
        "attendance.created",
        "checkin.created",
        "attendance.updated",
    ]
    payloads = dict(events_of(hook))
    assert payloads["attendance.created"]["data"]["osdi:attendance"]["status"] != "cancelled"
    assert (
        f"saha:{rsvp.uuid}" in payloads["checkin.created"]["data"]["osdi:attendance"]["identifiers"]
    )
    assert payloads["checkin.created"]["data"]["check_in"]["method"] == "scan"


def test_an_rsvp_refused_because_the_event_is_full_tells_nothing(
    org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = published_event(org_a)
    Event.objects.filter(pk=event.pk).update(capacity=0, waiting_list=False)
    event.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(events.EventFull):
        events.rsvp(event=event, data=PersonData(email="late@example.org"), notify=False)
    assert "attendance.created" not in [kind for kind, _ in events_of(hook)]


def test_a_signature(org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any) -> None:
    from saha.petitions import services as petitions

    petition = petitions.create_petition(
        actor=None, organization=org_a, slug="p", titles={"en": "Clean water"}
    )
    petitions.set_status(actor=None, petition=petition, status="open")
    with django_capture_on_commit_callbacks(execute=True):
        signature = petitions.sign(
            petition=petition, data=PersonData(email="s@example.org", given_name="S")
        ).signature
    payloads = dict(events_of(hook))
    assert (
        f"saha:{signature.uuid}"
        in payloads["signature.created"]["data"]["osdi:signature"]["identifiers"]
    )


def test_a_volunteer_offer(org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any) -> None:
    from saha.volunteers.tests.helpers import make_offer

    with django_capture_on_commit_callbacks(execute=True):
        make_offer(org_a, 1, {"driver": 4})
    payloads = dict(events_of(hook))
    offer = payloads["offer.created"]["data"]
    assert offer["offer"]["capabilities"][0]["key"] == "driver"
    assert offer["offer"]["capabilities"][0]["quantity"] == 4
    assert "notes" not in offer["offer"]
    assert offer["osdi:person"]["email_addresses"][0]["address"] == "v1@example.org"


def test_an_unsubscribe(org_a: Any, hook: Any, django_capture_on_commit_callbacks: Any) -> None:
    rima = person(org_a)
    withdrawn = ConsentGrant(
        channel="email",
        wording="",
        source=ConsentSource.UNSUBSCRIBE,
        status=ConsentStatus.WITHDRAWN,
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_consent(person=rima, grant=withdrawn)
    [(_kind, payload)] = [e for e in events_of(hook) if e[0] == "contact.unsubscribed"]
    assert payload["data"]["unsubscribe"]["channel"] == "email"
    assert payload["data"]["unsubscribe"]["source"] == "unsubscribe"


def test_an_event_is_sent_once_committed(
    org_a: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint = make_endpoint(org_a, receiver.url, ["person.created"])
    with django_capture_on_commit_callbacks(execute=True):
        rima = person(org_a)
    [got] = receiver.received
    assert got.headers["Saha-Event"] == "person.created"
    body = json.loads(got.body)
    assert f"saha:{rima.uuid}" in body["data"]["osdi:person"]["identifiers"]
    assert WebhookDelivery.objects.get(endpoint=endpoint).state == "delivered"


def test_nobody_listening_costs_no_delivery(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        person(org_a)
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_made_after_a_quiet_write_hears_the_next_one(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a write while nobody listened (remembered in the cache)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        person(org_a, "first@example.org")
    assert not any(hasattr(callback, "key") for callback in callbacks)
    # when an endpoint is made, the next write is told
    endpoint = make_endpoint(org_a, "http://127.0.0.1:9/hook", ["person.created"])
    with django_capture_on_commit_callbacks(execute=True):
        person(org_a, "second@example.org")
    assert [kind for kind, _ in events_of(endpoint)] == ["person.created"]
