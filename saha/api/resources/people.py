"""People in the API: how a person is shown, what a client may send, and the two writes.

A person renders as Action Network's v2 API renders one. An email's `status`
is derived: a bounce or a spam complaint recorded on the address wins, else
the consent ledger's current status for email (and for a phone, SMS) says
whether the person is `subscribed`. The render functions need no request
(webhook payloads reuse them); `prepare_people` loads what a page needs in
three queries.

The writes (`signup`, the person signup helper, and `update`, a PUT) land in
the same services as the web forms: `upsert_person` de-duplicates by email,
then phone; `update_person`, `add_contact`, `tag_people` and `untag_person`
leave their audit rows; consent goes to the ledger with source "api", and an
unsubscribe goes the way of the unsubscribe link (`withdraw`, every purpose).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from saha.api import background, filters, hal
from saha.api.errors import ApiError
from saha.messaging.unsubscribe import all_purposes, withdraw
from saha.organizations.models import Organization
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.import_rows import convert_custom
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentSource,
    ConsentStatus,
    ContactStatus,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
)
from saha.supporters.services import (
    ContactTaken,
    PersonData,
    add_contact,
    tag_names,
    untag_person,
    update_person,
    upsert_person,
)
from saha.supporters.text import normalize_phone

SUBSCRIBED, UNSUBSCRIBED = "subscribed", "unsubscribed"
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, "bouncing", "spam_complaint")
# A flag on the address outranks the ledger: mail to it fails or is reported.
_FLAGGED: dict[str, str] = {
    ContactStatus.BOUNCING: "bouncing",
    ContactStatus.COMPLAINED: "spam_complaint",
    ContactStatus.UNSUBSCRIBED: UNSUBSCRIBED,
}
POSTAL_FIELDS = ("locality", "region", "postal_code", "country")
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_TEXT = 1000


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


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Text(serializers.CharField):
    """A string the database can hold: no NUL, no lone surrogate (JSON allows "\\ud800")."""

    default_error_messages = {"invalid_text": gettext_lazy("This text holds invalid characters.")}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _encodable(value):
            self.fail("invalid_text")
        return value


def optional_text(max_length: int) -> Text:
    """Absent: unchanged; null or "": removed."""
    return Text(max_length=max_length, required=False, allow_null=True, allow_blank=True)


class EmailInput(serializers.Serializer):
    address = Text(max_length=254)
    primary = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(STATUSES, required=False)


class PhoneInput(serializers.Serializer):
    number = Text(max_length=40)
    number_type = optional_text(20)
    primary = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(STATUSES, required=False)


class PostalInput(serializers.Serializer):
    primary = serializers.BooleanField(required=False)
    locality = optional_text(100)
    region = optional_text(100)
    postal_code = optional_text(20)
    country = optional_text(2)

    def validate_country(self, value: str | None) -> str | None:
        if value and not value.isalpha():
            raise serializers.ValidationError(
                _("Write the country as its two-letter code."), code="invalid_country"
            )
        return value.upper() if value else value


def contact_list(child: serializers.Serializer) -> serializers.ListField:
    return serializers.ListField(child=child, max_length=10, required=False, allow_null=True)


class PersonInput(serializers.Serializer):
    given_name = optional_text(150)
    family_name = optional_text(150)
    email_addresses = contact_list(EmailInput())
    phone_numbers = contact_list(PhoneInput())
    postal_addresses = contact_list(PostalInput())
    languages_spoken = serializers.ListField(
        child=Text(max_length=8), max_length=10, required=False, allow_null=True
    )
    custom_fields = serializers.DictField(
        child=serializers.JSONField(allow_null=True), required=False, allow_null=True
    )

    def validate_custom_fields(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if len(value) > MAX_CUSTOM_FIELDS:
            raise serializers.ValidationError(_("Too many custom fields."), code="max_length")
        for key, item in value.items():
            if len(key) > 100 or isinstance(item, (dict, list)):
                raise serializers.ValidationError(
                    _("A custom field holds a text, a number or true/false."),
                    code="invalid_custom_field",
                )
            if isinstance(item, str) and len(item) > MAX_CUSTOM_TEXT:
                raise serializers.ValidationError(_("A value is too long."), code="max_length")
            if not _encodable(key) or (isinstance(item, str) and not _encodable(item)):
                raise serializers.ValidationError(
                    _("This text holds invalid characters."), code="invalid_text"
                )
        return value


class TagNames(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=Text(max_length=200), max_length=50, required=False, **kwargs)


class SignupInput(serializers.Serializer):
    person = PersonInput()
    add_tags = TagNames()
    remove_tags = TagNames()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated data, or a 400 with the field errors (DRF's ValidationError)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- From the input to our fields -----------------------------------------------


@dataclass
class Contact:
    value: str
    status: str = ""


@dataclass
class PersonChanges:
    """What a PUT or sign-up changes; `profile` holds "" for what was nulled."""

    profile: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)  # None removes a value
    emails: list[Contact] = field(default_factory=list)
    phones: list[Contact] = field(default_factory=list)


def _contacts(entries: list[dict[str, Any]] | None, key: str) -> list[Contact]:
    entries = sorted(entries or [], key=lambda entry: not entry.get("primary", False))
    return [Contact(entry[key], entry.get("status", "")) for entry in entries]


def _postal(entries: list[dict[str, Any]] | None, sent: bool) -> dict[str, str]:
    if not sent:
        return {}
    if not entries:
        return dict.fromkeys(POSTAL_FIELDS, "")  # null or []: the address goes
    chosen = next((e for e in entries if e.get("primary")), entries[0])
    return {name: chosen[name] or "" for name in POSTAL_FIELDS if name in chosen}


def _custom(organization: Organization, sent: Any, values: dict[str, Any] | None) -> dict:
    if not sent:
        return {}
    fields = {f.key: f for f in CustomField.objects.for_org(organization)}
    if values is None:
        return dict.fromkeys(fields)  # null: every value goes
    custom: dict[str, Any] = {}
    # Keys the organization has no field for are left out, as an import leaves them.
    for key, value in values.items():
        definition = fields.get(key)
        if definition is None:
            continue
        if value is None or value == "":
            custom[key] = None
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        converted = convert_custom(definition, text)
        if converted is None:
            raise serializers.ValidationError(
                {"custom_fields": {key: _("This value does not fit the field.")}},
                code=f"invalid_{definition.kind}",
            )
        custom[key] = converted
    return custom


def person_changes(organization: Organization, person: dict[str, Any]) -> PersonChanges:
    profile: dict[str, str] = {
        name: person[name] or "" for name in ("given_name", "family_name") if name in person
    }
    profile.update(_postal(person.get("postal_addresses"), "postal_addresses" in person))
    if "languages_spoken" in person:
        languages = person["languages_spoken"] or [""]
        profile["language"] = languages[0].lower()
    return PersonChanges(
        profile=profile,
        custom=_custom(organization, "custom_fields" in person, person.get("custom_fields")),
        emails=_contacts(person.get("email_addresses"), "address"),
        phones=_contacts(person.get("phone_numbers"), "number"),
    )


# --- Writes ---------------------------------------------------------------------


def _ledger_words(organization: Organization, subscribed: bool, actor: str) -> tuple[str, str]:
    """What the ledger keeps as the words shown, in the organization's language, naming the
    token: the API shows the person nothing, the integration answers for the consent."""
    language = organization.default_language
    values = {"organization": organization.name, "token": actor}
    with translation.override(language):
        if subscribed:
            text = _("Agreed to hear from %(organization)s, as sent through the API (%(token)s).")
        else:
            text = _("Unsubscribed through the API (%(token)s).")
    return text % values, language


def _set_subscription(person: Person, channel: str, status: str, actor: str) -> None:
    """`subscribed` grants the channel; `unsubscribed` withdraws every purpose on it, as the
    unsubscribe link does. The other statuses are ours to set (bounces, complaints)."""
    if status not in (SUBSCRIBED, UNSUBSCRIBED):
        return
    wording, language = _ledger_words(person.organization, status == SUBSCRIBED, actor)
    if status == SUBSCRIBED:
        grant = ConsentGrant(
            channel=channel,
            wording=wording,
            source=ConsentSource.API,
            source_ref=actor,
            language=language,
        )
        record_consent(person=person, grant=grant)
        return
    withdraw(
        person,
        channel=channel,
        purposes=all_purposes(person, channel),
        source=ConsentSource.API,
        source_ref=actor,
        wording=wording,
        language=language,
    )


def _add_contacts(person: Person, changes: PersonChanges, actor: str, *, strict: bool) -> None:
    """Each address and number becomes the person's; one that is another person's is a 409
    (`strict`, a PUT) or left to its owner (a sign-up, as `upsert_person` leaves it)."""
    for channel, contacts in ((Channel.EMAIL, changes.emails), (Channel.SMS, changes.phones)):
        for contact in contacts:
            kind = "email" if channel == Channel.EMAIL else "phone"
            try:
                with transaction.atomic():
                    add_contact(actor=actor, person=person, **{kind: contact.value})
            except ContactTaken:
                if strict:
                    raise
                continue
            _set_subscription(person, channel, contact.status, actor)


def _apply(person: Person, changes: PersonChanges, actor: str, *, strict: bool) -> None:
    if changes.profile or changes.custom:
        update_person(
            actor=actor, person=person, values=changes.profile, custom_fields=changes.custom
        )
    _add_contacts(person, changes, actor, strict=strict)


def _person_data(
    changes: PersonChanges, tags: list[str], anonymous: bool, actor: str
) -> PersonData:
    email = changes.emails[0] if changes.emails else Contact("")
    phone = changes.phones[0] if changes.phones else Contact("")
    grants = []
    if anonymous:
        # Typed by a stranger on another site: the consent goes with the sign-up, where
        # `upsert_person` keeps it only for contacts that are already this person's.
        for channel, contact in ((Channel.EMAIL, email), (Channel.SMS, phone)):
            if contact.value and contact.status == SUBSCRIBED:
                grants.append(
                    ConsentGrant(
                        channel=channel,
                        wording=_("Agreed through a form on another website (%(token)s).")
                        % {"token": actor},
                        source=ConsentSource.API,
                        source_ref=actor,
                    )
                )
    return PersonData(
        email=email.value,
        phone=phone.value,
        custom_fields={k: v for k, v in changes.custom.items() if v is not None},
        tags=tags,
        consents=grants,
        **_filled(changes.profile),
    )


def _filled(profile: dict[str, str]) -> dict[str, Any]:
    return {name: value for name, value in profile.items() if value}


@background.write("people.signup")
def signup(*, organization: Organization, actor: str, data: Any, anonymous: bool = False) -> Person:
    """The person signup helper: find by email, then phone, or create; merge; tag.

    With a token, what is sent overwrites what the person had (Action Network's
    merge) and nothing else changes. `anonymous` (the public helper, no token):
    the data was typed by anyone, so it only fills what is empty, adds tags and
    consents of contacts already the person's, and can neither unsubscribe nor
    remove tags.
    """
    sent = validated(SignupInput, data)
    changes = person_changes(organization, dict(sent["person"]))
    with transaction.atomic():
        result = upsert_person(
            organization=organization,
            actor=actor,
            data=_person_data(changes, sent.get("add_tags", []), anonymous, actor),
            source=Source.API,
            source_ref=actor,
            anonymous=anonymous,
        )
        person = result.person
        if not anonymous:
            _apply(person, changes, actor, strict=False)
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


def _email_owners(value: str) -> Any:
    """The people holding this address (a subquery: a join would repeat a person)."""
    return PersonEmail.objects.filter(address=value.strip().lower()).values("person_id")


def _phone_owners(value: str) -> Any:
    phone = normalize_phone(value)
    if phone is None:
        raise ValueError(value)
    return PersonPhone.objects.filter(number=phone.number).values("person_id")


DATE = (filters.as_datetime, ("eq", "gt", "lt"))
FILTERS = {
    "email_address": filters.Field("pk__in", _email_owners),
    "phone_number": filters.Field("pk__in", _phone_owners),
    "given_name": filters.Field("given_name__iexact"),
    "family_name": filters.Field("family_name__iexact"),
    "region": filters.Field("region__iexact"),
    "postal_code": filters.Field("postal_code__iexact"),
    "country": filters.Field("country__iexact"),
    "created_date": filters.Field("created_at", *DATE),
    "modified_date": filters.Field("modified_at", *DATE),
}
