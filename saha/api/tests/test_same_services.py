"""Every write through the API lands in the same services as the web forms: the same
audit actions, the same de-duplication (one person per address, whichever door they
came in by), and the same consent ledger, with "api" as the source.

Each test makes the same write twice, once through a web form (the event page,
the petition page, the organizer's person page) and once through the API, and
compares what the audit log recorded (the API's own "api.call" rows aside).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from saha.api.tests.conftest import ApiClient
from saha.core.models import AuditEntry
from saha.events import organizer
from saha.events.models import Event, Rsvp
from saha.organizations.models import Organization
from saha.petitions import intake
from saha.petitions import services as petitions
from saha.petitions.models import Petition, PetitionStatus, Signature
from saha.supporters.consent import current_status
from saha.supporters.models import ConsentRecord, Person, PersonEmail, Tagging
from saha.supporters.services import create_tag

pytestmark = pytest.mark.django_db


def actions_of(write: Callable[[], Any]) -> list[str]:
    """The audit actions a write left (the API's record of the call itself aside)."""
    last = AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0
    write()
    rows = AuditEntry.objects.filter(id__gt=last).exclude(action="api.call")
    return sorted(set(rows.values_list("action", flat=True)))


def routed(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "view_class", None) is not None


def needs(path: str) -> None:
    if not routed(path):
        pytest.skip(f"{path} is not built yet")


def make_event(organization: Organization) -> Event:
    start = timezone.now() + dt.timedelta(days=5)
    event = organizer.create_event(
        actor="test",
        organization=organization,
        slug="same-services",
        titles={"en": "Same services", "ar": "الخدمات نفسها"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        time_zone="Asia/Beirut",
    )
    organizer.publish(actor="test", event=event)
    return event


def make_petition(organization: Organization) -> Petition:
    petition = petitions.create_petition(
        actor="test", organization=organization, slug="same-services", titles={"en": "Same"}
    )
    petitions.set_status(actor="test", petition=petition, status=PetitionStatus.OPEN)
    return petition


def api_person(email: str, given_name: str, **extra: Any) -> dict[str, Any]:
    return {"email_addresses": [{"address": email, **extra}], "given_name": given_name}


def form_person(email: str, given_name: str) -> dict[str, str]:
    return {"given_name": given_name, "family_name": "Sameson", "email": email, "language": "en"}


def post_form(url: str, data: dict[str, str]) -> None:
    response = Client().post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 303, url


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def event_form(event: Event) -> str:
    return f"/o/{event.organization.slug}/events/{event.slug}/"


def petition_form(petition: Petition) -> str:
    return f"/o/{petition.organization.slug}/petitions/{petition.slug}/"


def test_an_attendance_is_an_rsvp_as_the_event_page_makes_it(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    attendances = f"/api/v2/events/{event.uuid}/attendances"
    needs(attendances)
    by_form = actions_of(lambda: post_form(event_form(event), form_person("f@example.org", "F")))
    by_api = actions_of(
        lambda: ok(api.post(attendances, {"person": api_person("a@example.org", "A")}))
    )
    assert by_api == by_form
    assert "supporters.person.created" in by_api
    rows = Rsvp.objects.filter(event=event)
    assert sorted(rows.values_list("person__emails__address", "status")) == [
        ("a@example.org", "confirmed"),
        ("f@example.org", "confirmed"),
    ]
    person = Person.objects.get(emails__address="a@example.org")
    assert person.source == "api"


def test_a_signature_is_the_one_the_petition_page_makes(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    signatures = f"/api/v2/petitions/{petition.uuid}/signatures"
    needs(signatures)

    def by_the_form() -> None:
        post_form(
            petition_form(petition), {**form_person("f@example.org", "F"), "locality": "Tyre"}
        )
        assert intake.take_in() == 1  # the worker takes the accepted form in

    by_form = actions_of(by_the_form)
    by_api = actions_of(
        lambda: ok(api.post(signatures, {"person": api_person("a@example.org", "A")}))
    )
    assert by_api == by_form
    assert "supporters.person.created" in by_api
    assert Signature.objects.filter(petition=petition).count() == 2
    assert petitions.count(petition).unverified + petitions.count(petition).verified == 2


def test_a_tagging_is_the_organizers_tagging(api: ApiClient, org_a: Any, owner: Any) -> None:
    tag, _created = create_tag(actor="test", organization=org_a, name="shared")
    taggings = f"/api/v2/tags/{tag.uuid}/taggings"
    needs(taggings)
    first = ok(api.post("/api/v2/people", {"person": api_person("one@example.org", "One")}))
    second = ok(api.post("/api/v2/people", {"person": api_person("two@example.org", "Two")}))
    one = Person.objects.get(uuid=first["identifiers"][0].split(":", 1)[1])
    page = reverse("supporters:person_tag", args=[org_a.slug, one.pk])
    by_form = actions_of(lambda: owner.mfa_client().post(page, {"tags": "shared"}))
    href = second["_links"]["self"]["href"]
    by_api = actions_of(lambda: ok(api.post(taggings, {"_links": {"osdi:person": {"href": href}}})))
    assert by_api == by_form == ["supporters.person.tagged"]
    assert Tagging.objects.filter(tag=tag).count() == 2


def test_the_signup_helper_creates_a_person_as_every_form_does(api: ApiClient) -> None:
    body = {"person": api_person("new@example.org", "New"), "add_tags": ["volunteers"]}
    actions = actions_of(lambda: ok(api.post("/api/v2/people", body)))
    assert "supporters.person.created" in actions
    entry = AuditEntry.objects.get(action="supporters.person.created")
    assert entry.data == {"source": "api"}
    assert entry.actor_label.startswith("api:test token")
    person = Person.objects.get()
    assert person.source == "api"
    assert list(Tagging.objects.filter(person=person).values_list("tag__name", flat=True)) == [
        "volunteers"
    ]


def test_one_person_per_address_whichever_door_they_come_in_by(
    api: ApiClient, org_a: Any, org_b: Any, make_api: Any
) -> None:
    event, petition = make_event(org_a), make_petition(org_a)
    ok(api.post("/api/v2/people", {"person": api_person("same@example.org", "Same")}))
    ok(api.post("/api/v2/people", {"person": api_person("SAME@Example.org", "Same")}))
    post_form(event_form(event), form_person("same@example.org", "Same"))
    post_form(petition_form(petition), {**form_person("Same@example.org", "S"), "locality": "Tyre"})
    intake.take_in()
    attendances = f"/api/v2/events/{event.uuid}/attendances"
    if routed(attendances):
        ok(api.post(attendances, {"person": api_person("same@EXAMPLE.org", "Same")}))
    signatures = f"/api/v2/petitions/{petition.uuid}/signatures"
    if routed(signatures):
        ok(api.post(signatures, {"person": api_person("same@example.org", "Same")}))
    assert PersonEmail.objects.filter(person__organization=org_a).count() == 1
    person = Person.objects.get(organization=org_a)
    assert Rsvp.objects.get(event=event).person == person
    assert Signature.objects.get(petition=petition).person == person
    # The same address in another organization is another person, in that one.
    ok(make_api(org_b).post("/api/v2/people", {"person": api_person("same@example.org", "B")}))
    assert Person.objects.filter(organization=org_b).count() == 1
    assert Person.objects.filter(organization=org_a).count() == 1


def test_a_phone_number_finds_the_person_when_no_address_matches(api: ApiClient) -> None:
    phone = {"phone_numbers": [{"number": "+961 71 123 456"}]}
    ok(api.post("/api/v2/people", {"person": {**phone, "given_name": "Phone"}}))
    body = {"person": {**phone, **api_person("phone@example.org", "Phone")}}
    ok(api.post("/api/v2/people", body))
    person = Person.objects.get()
    assert list(person.emails.values_list("address", flat=True)) == ["phone@example.org"]


def test_consent_goes_to_the_ledger_with_the_api_as_its_source(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    post_form(event_form(event), {**form_person("form@example.org", "F"), "consent_email": "on"})
    body = {"person": api_person("api@example.org", "A", status="subscribed")}
    created = ok(api.post("/api/v2/people", body))
    by_form = ConsentRecord.objects.get(person__emails__address="form@example.org")
    by_api = ConsentRecord.objects.get(person__emails__address="api@example.org")
    assert (by_form.channel, by_form.status, by_form.source) == ("email", "granted", "form")
    assert (by_api.channel, by_api.status, by_api.source) == ("email", "granted", "api")
    assert by_api.source_ref.startswith("api:test token")
    assert by_api.wording  # the words the ledger keeps for what the integration answers for
    # Unsubscribe by PUT of the email's status: a withdrawal in the same ledger.
    unsubscribe = {"email_addresses": [{"address": "api@example.org", "status": "unsubscribed"}]}
    ok(api.put(created["_links"]["self"]["href"], unsubscribe))
    person = Person.objects.get(emails__address="api@example.org")
    last = ConsentRecord.objects.filter(person=person).order_by("-id").first()
    assert last is not None and (last.status, last.source) == ("withdrawn", "api")
    assert current_status(person, "email") == "withdrawn"
