"""People in the API: how a person is shown, the two writes, the filters.

A person renders as Action Network's v2 API renders one. An email's `status`
is derived: a bounce or a spam complaint recorded on the address wins, else
the consent ledger's current status for email (and for a phone, SMS) says
whether the person is `subscribed`. The render functions need no request
(webhook payloads reuse them); `prepare_people` loads what a page needs in
three queries.

What a client may send is read in `person_input` (the rules every API path
shares); consent goes through `consent`. The writes (`signup`, the person
signup helper, and `update`, a PUT) land in the same services as the web
forms: `upsert_person` de-duplicates by email, then phone; `update_person`,
`add_contact`, `tag_people` and `untag_person` leave their audit rows
(`tag_people` also `supporters.tag.created` for a new tag).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from rest_framework import serializers

from saha.api import background, filters, hal
from saha.api.errors import ApiError
from saha.api.resources import consent
from saha.api.resources.consent import SUBSCRIBED, UNSUBSCRIBED
from saha.api.resources.person_input import (
    POSTAL_FIELDS,
    ContactPersonInput,
    PersonChanges,
    PersonInput,
    person_changes,
    person_data,
    tag_list,
)
from saha.api.views.base import validated
from saha.organizations.models import Organization
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentStatus,
    ContactStatus,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
)
from saha.supporters.services import (
    ContactTaken,
    add_contact,
    tag_names,
    tag_people,
    untag_person,
    update_person,
    upsert_person,
)
from saha.supporters.text import normalize_phone

# A flag on the address outranks the ledger: mail to it fails or is reported.
# Action Network's words, with spaces ("spam complaint"); both spellings are taken.
_FLAGGED: dict[str, str] = {
    ContactStatus.BOUNCING: "bouncing",
    ContactStatus.COMPLAINED: "spam complaint",
    ContactStatus.UNSUBSCRIBED: UNSUBSCRIBED,
}


# --- Showing a person -----------------------------------------------------------


def prepare_people(rows: list[Person]) -> list[Person]:
    """Load a page's contacts and consent in three queries, whatever its size."""
    prefetch_related_objects(rows, "emails", "phones", "consents")
    return rows


def _consent(person: Person, channel: str) -> str | None:
    for state in person.consents.all():
        if state.channel == channel and state.purpose == DEFAULT_PURPOSE:
            return state.status
    return None


def _status(flag: str, consent: str | None) -> str:
    if flag in _FLAGGED:
        return _FLAGGED[flag]
    return SUBSCRIBED if consent == ConsentStatus.GRANTED else UNSUBSCRIBED


def _primary_first(contacts: Iterable[Any]) -> list[Any]:
    return sorted(contacts, key=lambda contact: (not contact.is_primary, contact.pk))


def person_links(person: Person) -> dict[str, Any]:
    path = f"people/{person.uuid}"
    return {
        "self": hal.link(hal.url(path)),
        "osdi:taggings": hal.link(hal.url(f"{path}/taggings")),
        "osdi:attendances": hal.link(hal.url(f"{path}/attendances")),
        "osdi:signatures": hal.link(hal.url(f"{path}/signatures")),
    }


def _postal_addresses(person: Person) -> list[dict[str, Any]]:
    values = {name: getattr(person, name) for name in POSTAL_FIELDS}
    if not any(values.values()):
        return []
    address: dict[str, Any] = {"primary": True, **values}
    if person.latitude is not None and person.longitude is not None:
        address["location"] = {
            "latitude": float(person.latitude),
            "longitude": float(person.longitude),
        }
    return [address]


def render_person(person: Person) -> dict[str, Any]:
    email_consent = _consent(person, Channel.EMAIL)
    sms_consent = _consent(person, Channel.SMS)
    return {
        "identifiers": hal.identifiers(person),
        "created_date": hal.timestamp(person.created_at),
        "modified_date": hal.timestamp(person.modified_at),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email_addresses": [
            {
                "primary": email.is_primary,
                "address": email.address,
                "status": _status(email.status, email_consent),
            }
            for email in _primary_first(person.emails.all())
        ],
        "phone_numbers": [
            {
                "primary": phone.is_primary,
                "number": phone.number,
                "number_type": "Mobile",
                "status": _status(phone.status, sms_consent),
            }
            for phone in _primary_first(person.phones.all())
        ],
        "postal_addresses": _postal_addresses(person),
        "languages_spoken": [person.language] if person.language else [],
        "custom_fields": dict(person.custom_fields or {}),
        "_links": person_links(person),
    }


def with_curies(item: dict[str, Any]) -> dict[str, Any]:
    """A top-level item (not inside a collection) carries the curies too."""
    return {**item, "_links": {**item["_links"], "curies": hal.curies()}}


# --- What a client may send -----------------------------------------------------


class SignupInput(serializers.Serializer):
    person = ContactPersonInput()
    add_tags = tag_list()
    remove_tags = tag_list()


# --- Writes ---------------------------------------------------------------------


def _add_contacts(person: Person, changes: PersonChanges, actor: str, *, strict: bool) -> set[str]:
    """Each address and number becomes the person's; one that is another person's is a 409
    (`strict`, a PUT) or left to its owner (a sign-up, as `upsert_person` leaves it).
    Returns the channels on which the person holds one of the sent contacts."""
    held = set()
    for channel, contacts in ((Channel.EMAIL, changes.emails), (Channel.SMS, changes.phones)):
        kind = "email" if channel == Channel.EMAIL else "phone"
        for contact in contacts:
            try:
                with transaction.atomic():
                    add_contact(actor=actor, person=person, **{kind: contact})
            except ContactTaken:
                if strict:
                    raise
                continue
            held.add(channel.value)
    return held


def _apply(person: Person, changes: PersonChanges, actor: str, *, strict: bool) -> None:
    """A token's changes: overwrite what was sent, add the contacts, then each channel's
    status, for a channel where the person holds a sent contact."""
    if changes.profile or changes.custom:
        update_person(
            actor=actor, person=person, values=changes.profile, custom_fields=changes.custom
        )
    held = _add_contacts(person, changes, actor, strict=strict)
    statuses = {channel: s for channel, s in changes.statuses.items() if channel in held}
    consent.apply_statuses(person, statuses, actor)


@background.write("people.signup")
def signup(*, organization: Organization, actor: str, data: Any, anonymous: bool = False) -> Person:
    """The person signup helper: find by email, then phone, or create; merge; tag.

    With a token, what is sent overwrites what the person had (Action Network's
    merge), tags are added and removed, and statuses subscribe or unsubscribe;
    a null or "" fills nothing and removes nothing (only a PUT removes).
    `anonymous` (the public helper, no token): the data was typed by anyone, so
    it changes nothing of a person it finds (`upsert_person`), tags nobody, and
    records a `subscribed` status only for a person it created: a stranger never
    speaks for someone who is already known, who may have unsubscribed.
    """
    sent = validated(SignupInput, data)
    changes = person_changes(organization, dict(sent["person"])).without_removals()
    with transaction.atomic():
        result = upsert_person(
            organization=organization,
            actor=actor,
            data=person_data(changes),
            source=Source.API,
            source_ref=actor,
            anonymous=anonymous,
        )
        person = result.person
        if anonymous:
            if result.created:
                granted = consent.grants(organization, changes.statuses, actor, anonymous=True)
                consent.record_grants(person, granted, actor)
            return person
        _apply(person, changes, actor, strict=False)
        tag_people(actor=actor, people=[person], names=sent.get("add_tags", []))
        _remove_tags(person, sent.get("remove_tags", []), actor)
    return person


def _remove_tags(person: Person, names: list[str], actor: str) -> None:
    wanted = tag_names(names)
    if not wanted:
        return
    for tag in Tag.objects.filter(organization_id=person.organization_id, name__in=wanted):
        untag_person(actor=actor, person=person, tag=tag)


def find_person(organization: Organization, raw_id: str) -> Person:
    value = hal.parse_id(raw_id)
    person = Person.objects.for_org(organization).filter(uuid=value).first() if value else None
    if person is None:
        raise ApiError("not_found", _("Not found."), status=404)
    return person


@background.write("people.update")
def update(*, organization: Organization, actor: str, data: Any, person_id: str) -> Person:
    """A PUT: what is sent changes, what is null goes, the rest stays; addresses and
    numbers are added (removing one is the organizer pages' work)."""
    person = find_person(organization, person_id)
    sent = validated(PersonInput, data)
    changes = person_changes(organization, sent)
    with transaction.atomic():
        _apply(person, changes, actor, strict=True)
    return person


def fresh_person(person: Person) -> Person:
    """The person as the database now holds them, with what rendering needs loaded."""
    return prepare_people([Person.objects.get(pk=person.pk)])[0]


# --- Filters --------------------------------------------------------------------


def people_filters(organization: Organization) -> dict[str, filters.Field]:
    """The filters on an organization's people. The contact filters are subqueries on
    the organization's own contacts (its (organization, address) index; a join would
    repeat a person)."""

    def email_owners(value: str) -> Any:
        return PersonEmail.objects.filter(
            organization=organization, address=value.strip().lower()
        ).values("person_id")

    def phone_owners(value: str) -> Any:
        phone = normalize_phone(value)
        if phone is None:
            raise ValueError(value)
        return PersonPhone.objects.filter(organization=organization, number=phone.number).values(
            "person_id"
        )

    return {
        "email_address": filters.Field("pk__in", email_owners),
        "phone_number": filters.Field("pk__in", phone_owners),
        "given_name": filters.Field("given_name__iexact"),
        "family_name": filters.Field("family_name__iexact"),
        "region": filters.Field("region__iexact"),
        "postal_code": filters.Field("postal_code__iexact"),
        "country": filters.Field("country__iexact"),
        "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
        "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
    }


FILTER_FIELDS = (
    "email_address, phone_number, given_name, family_name, region, postal_code, country (eq); "
    "created_date, modified_date (eq, gt, lt)"
)
