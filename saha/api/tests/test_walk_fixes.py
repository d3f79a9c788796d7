"""What a new user's walk through the API found: a sign-up that wiped what it was sent as
null, a delivery log in the worker's language, the API pages read right to left, and
the retry promise the webhooks page makes."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import pytest
from django.utils import translation

from saha.api import webhooks
from saha.api.models import ApiSettings, DeliveryState, WebhookDelivery
from saha.api.tests.conftest import ApiClient, make_delivery, make_endpoint
from saha.api.tests.test_events import make_event
from saha.organizations.models import Organization
from saha.supporters.models import CustomField, FieldKind, Person
from saha.supporters.tests.people_factories import PersonFactory

LAYLA = "layla@example.org"


def base(organization: Organization) -> str:
    return f"/manage/{organization.slug}/api/"


@pytest.fixture
def layla(org_a: Organization) -> Person:
    CustomField.objects.create(
        organization=org_a, key="branch", labels={"en": "Branch"}, kind=FieldKind.TEXT
    )
    person = PersonFactory(
        organization=org_a,
        email=LAYLA,
        given_name="Layla",
        family_name="Haddad",
        locality="Tyre",
        country="LB",
        language="ar",
    )
    person.custom_fields = {"branch": "South"}
    person.save(update_fields=["custom_fields"])
    return person


NULLED: dict[str, Any] = {
    "given_name": "",
    "family_name": None,
    "postal_addresses": None,
    "languages_spoken": [],
    "custom_fields": {"branch": None},
}


def kept(person: Person) -> tuple[Any, ...]:
    person.refresh_from_db()
    return (
        person.given_name,
        person.family_name,
        person.locality,
        person.country,
        person.language,
        person.custom_fields,
    )


LAYLA_AS_SHE_WAS = ("Layla", "Haddad", "Tyre", "LB", "ar", {"branch": "South"})


# --- (3) null or "" removes nothing but on a PUT ---------------------------------------


def test_a_signup_with_a_token_removes_nothing_sent_as_null(api: ApiClient, layla: Person) -> None:
    body = {"person": {**NULLED, "email_addresses": [{"address": LAYLA}]}}
    response = api.post("/api/v2/people", body)
    assert response.status_code == 200
    assert kept(layla) == LAYLA_AS_SHE_WAS
    assert response.json()["family_name"] == "Haddad"


def test_custom_fields_null_on_a_signup_removes_none(api: ApiClient, layla: Person) -> None:
    body = {"person": {"custom_fields": None, "email_addresses": [{"address": LAYLA}]}}
    assert api.post("/api/v2/people", body).status_code == 200
    assert kept(layla) == LAYLA_AS_SHE_WAS


def test_a_signup_still_overwrites_what_it_sends(api: ApiClient, layla: Person) -> None:
    body = {"person": {"family_name": "Khalil", "email_addresses": [{"address": LAYLA}]}}
    assert api.post("/api/v2/people", body).status_code == 200
    assert kept(layla)[:2] == ("Layla", "Khalil")


def test_the_public_signup_removes_nothing(org_a: Organization, layla: Person) -> None:
    ApiSettings.objects.update_or_create(organization=org_a, defaults={"public_helpers": True})
    body = {"person": {**NULLED, "email_addresses": [{"address": LAYLA}]}}
    response = ApiClient(None).post(f"/api/v2/people?organization={org_a.slug}", body)
    assert response.status_code == 200 and response.json() == {}
    assert kept(layla) == LAYLA_AS_SHE_WAS


def test_the_attendance_helper_removes_nothing_sent_as_null(
    api: ApiClient, org_a: Organization, layla: Person
) -> None:
    body = {"person": {**NULLED, "email_addresses": [{"address": LAYLA}]}}
    response = api.post(f"/api/v2/events/{make_event(org_a).uuid}/attendances", body)
    assert response.status_code == 200
    assert kept(layla) == LAYLA_AS_SHE_WAS


def test_a_put_still_removes_what_it_nulls(api: ApiClient, layla: Person) -> None:
    response = api.put(f"/api/v2/people/{layla.uuid}", NULLED)
    assert response.status_code == 200
    assert kept(layla) == ("", "", "", "", "", {})


# --- (5) the delivery log speaks the reader's language ---------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failure_is_stored_as_a_code_and_shown_in_the_readers_language(
    owner: Any, settings: Any
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint(owner.organization, f"http://127.0.0.1:{_closed_port()}/hook")
    delivery = make_delivery(endpoint)
    with translation.override("ar"):  # a worker whose active language is Arabic
        assert webhooks.attempt(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("connection: ")
    assert "Errno" in delivery.last_error or "refused" in delivery.last_error.lower()
    page = base(owner.organization) + f"webhooks/{endpoint.pk}/"
    client = owner.client()
    english = client.get(page, {"lang": "en"}).content.decode()
    assert "Could not connect: <bdi" in english and "تعذّر الاتصال" not in english
    arabic = client.get(page, {"lang": "ar"}).content.decode()
    assert "تعذّر الاتصال: <bdi" in arabic and "Could not connect" not in arabic


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("timeout", "No answer in time."),
        ("skipped", "Not sent: what this event was about is gone or has changed since."),
        (
            "render: KeyError: 'x'",
            'Could not prepare: <bdi dir="ltr">KeyError: &#x27;x&#x27;</bdi>',
        ),
        ("http_status", ""),  # "HTTP 500" beside it says it
        ("تعذّر الاتصال: <b>", "تعذّر الاتصال: &lt;b&gt;"),  # stored before codes: as it is
    ],
)
def test_each_stored_error_has_its_words(english: None, stored: str, shown: str) -> None:
    with translation.override("en"):
        assert webhooks.shown_error(stored) == shown


def test_every_code_a_delivery_can_store_has_words() -> None:
    codes = {"timeout", "connection", "http_status", "inactive", "render", "skipped"}
    codes |= {"bad_url", "bad_scheme", "unknown_host", "private_address"}
    assert codes <= set(webhooks.ERROR_LABELS)


def test_a_skipped_delivery_is_stored_as_its_code(owner: Any, settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint(owner.organization, "http://127.0.0.1:9/x")
    delivery = WebhookDelivery.objects.create(
        organization_id=endpoint.organization_id,
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type="person.created",
        object_id="999999",  # a person since gone
    )
    assert webhooks.attempt(delivery.pk) == DeliveryState.SKIPPED
    delivery.refresh_from_db()
    assert delivery.last_error == webhooks.SKIPPED


# --- (6) the API pages in Arabic ------------------------------------------------------


def test_the_webhook_pages_read_right_in_arabic(owner: Any, settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    events = ["person.created", "signature.created"]
    endpoint = make_endpoint(owner.organization, "http://127.0.0.1:9/x", events)
    make_delivery(endpoint)
    with translation.override("ar"):
        joined = "، ".join(str(webhooks.EVENT_TYPES[event]) for event in events)
    client = owner.client()
    listing = client.get(base(owner.organization) + "webhooks/", {"lang": "ar"}).content.decode()
    assert f'data-label="الأحداث">{joined}</td>' in listing  # "Events" as its column says it
    page = base(owner.organization) + f"webhooks/{endpoint.pk}/"
    detail = client.get(page, {"lang": "ar"}).content.decode()
    assert 'data-label="الحدث"' in detail and joined in detail


def test_header_names_do_not_break_and_read_left_to_right(owner: Any, settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    client = owner.client()
    form = client.get(base(owner.organization) + "webhooks/new/", {"lang": "ar"}).content
    assert '<code class="nowrap" dir="ltr">Saha-Signature</code>' in form.decode()
    made = client.post(
        base(owner.organization) + "webhooks/new/?lang=ar",
        {"url": "http://127.0.0.1:9/x", "event_types": ["person.created"]},
    ).content.decode()
    assert '<code class="nowrap" dir="ltr">Saha-Signature</code>' in made
    assert '<code class="nowrap" dir="ltr">t=…,v1=…</code>' in made
    token = client.post(
        base(owner.organization) + "tokens/new/?lang=ar",
        {"name": "sync", "scopes": ["people:read"]},
    ).content.decode()
    assert '<code class="nowrap" dir="ltr">OSDI-API-Token</code>' in token


# --- (8) the retry promise is the code's ---------------------------------------------


def test_the_webhooks_page_promises_the_retries_the_code_makes(owner: Any) -> None:
    hours = round(sum(webhooks.RETRY_DELAYS) / 3600)
    page = owner.client().get(base(owner.organization) + "webhooks/", {"lang": "en"})
    assert f"tries again for about {hours} hours" in page.content.decode()
    assert hours == 15  # docs/webhooks.md says "about fifteen hours": change both together
