"""Action Network's person hash, as a client sends it: the one set of rules.

Every API path that takes a person reads it here: the person signup helper
(`POST /people`), a PUT on a person, and the record helpers (attendances,
signatures). The rules:

- `given_name`, `family_name` (at most 150 characters), the postal address's
  `locality`, `region` (100), `postal_code` (20), `country` (two letters):
  absent leaves a field as it is; null or "" removes it (a PUT) or fills
  nothing (a sign-up).
- Only a PUT removes: on the signup helper (with a token or without) and on
  the record helpers, null, "" or [] fills nothing and removes nothing, for
  every field below too (`PersonChanges.without_removals`).
- `email_addresses`, `phone_numbers`, `postal_addresses`: at most 10 each, the
  `primary` one first; null is an empty list.
- An address's or number's `status`: Action Network's words ("subscribed",
  "unsubscribed", "bouncing", "previous bounce", "spam complaint", "previous
  spam complaint"; "spam_complaint" too). Only `subscribed` and `unsubscribed`
  change anything (see `consent`); two addresses of one channel with opposite
  statuses are a 400 `conflicting_status`, since consent is kept per channel.
- `languages_spoken`: any codes (at most 10); the first one Saha speaks
  (settings.LANGUAGES, "en-GB" counting as "en") becomes the person's
  language, a list naming none of them changes nothing, null or [] removes it
  (a PUT).
- `custom_fields`: `{key: text, number, true/false or null}`, at most 100; a
  key the organization has no field for is left out (as an import leaves it),
  a value is converted as the field's kind says (a 400 `invalid_<kind>` when
  it does not fit), null or "" removes it (a PUT).

DRF's CharField already refuses NUL and lone surrogates; custom field values
(JSON of any type) are checked for them here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from saha.api.resources.consent import SUBSCRIBED, UNSUBSCRIBED, grants
from saha.organizations.models import Organization
from saha.supporters.consent import ConsentGrant
from saha.supporters.import_rows import convert_custom
from saha.supporters.models import Channel, CustomField
from saha.supporters.services import PersonData

# What Action Network shows (a flag on the address, else the ledger) and what it takes.
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, "bouncing", "spam complaint")
INPUT_STATUSES = (
    *STATUSES,
    "spam_complaint",
    "previous bounce",
    "previous spam complaint",
)
POSTAL_FIELDS = ("locality", "region", "postal_code", "country")
MAX_CONTACTS = 10
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_TEXT = 1000
MAX_TAGS = 50


def optional_text(max_length: int) -> serializers.CharField:
    """Absent: unchanged; null or "": removed."""
    return serializers.CharField(
        max_length=max_length, required=False, allow_null=True, allow_blank=True
    )


def _invalid(message: Any, code: str) -> serializers.ValidationError:
    return serializers.ValidationError(message, code=code)


class EmailInput(serializers.Serializer):
    address = serializers.CharField(max_length=254)
    primary = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(INPUT_STATUSES, required=False)


class PhoneInput(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    number_type = optional_text(40)
    primary = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(INPUT_STATUSES, required=False)


class PostalInput(serializers.Serializer):
    primary = serializers.BooleanField(required=False)
    locality = optional_text(100)
    region = optional_text(100)
    postal_code = optional_text(20)
    country = optional_text(2)

    def validate_country(self, value: str | None) -> str | None:
        if value and not value.isalpha():
            raise _invalid(_("Write the country as its two-letter code."), "invalid_country")
        return value.upper() if value else value


def contact_list(child: serializers.Serializer) -> serializers.ListField:
    return serializers.ListField(
        child=child, max_length=MAX_CONTACTS, required=False, allow_null=True
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _check_custom_value(key: str, item: Any) -> None:
    if len(key) > 100 or isinstance(item, (dict, list)):
        raise _invalid(
            _("A custom field holds a text, a number or true/false."), "invalid_custom_field"
        )
    if isinstance(item, str) and len(item) > MAX_CUSTOM_TEXT:
        raise _invalid(_("A value is too long."), "max_length")
    if not _encodable(key) or (isinstance(item, str) and not _encodable(item)):
        raise _invalid(_("This text holds invalid characters."), "invalid_text")


class PersonInput(serializers.Serializer):
    """A person as a PUT sends it: every field optional (see the module's rules)."""

    given_name = optional_text(150)
    family_name = optional_text(150)
    email_addresses = contact_list(EmailInput())
    phone_numbers = contact_list(PhoneInput())
    postal_addresses = contact_list(PostalInput())
    languages_spoken = serializers.ListField(
        child=serializers.CharField(max_length=16), max_length=10, required=False, allow_null=True
    )
    custom_fields = serializers.DictField(
        child=serializers.JSONField(allow_null=True), required=False, allow_null=True
    )

    def validate_custom_fields(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if len(value) > MAX_CUSTOM_FIELDS:
            raise _invalid(_("Too many custom fields."), "max_length")
        for key, item in value.items():
            _check_custom_value(key, item)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("email_addresses", "phone_numbers"):
            sent = {e.get("status") for e in attrs.get(name) or []}
            if {SUBSCRIBED, UNSUBSCRIBED} <= sent:
                raise serializers.ValidationError(
                    {
                        name: [
                            ErrorDetail(
                                _("Consent is kept per channel: give one status for all."),
                                code="conflicting_status",
                            )
                        ]
                    }
                )
        return attrs


class ContactPersonInput(PersonInput):
    """A person as a sign-up sends them: with an email address or a phone number."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs.get("email_addresses") and not attrs.get("phone_numbers"):
            raise _invalid(_("Give an email address or a phone number."), "no_contact")
        return attrs


def tag_list() -> serializers.ListField:
    """`add_tags` / `remove_tags`: tag names, as the organizer pages name tags."""
    return serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_TAGS, required=False
    )


# --- From the input to our fields -------------------------------------------------


@dataclass
class PersonChanges:
    """What a PUT or a sign-up changes: `profile` holds "" for what was nulled,
    `custom` None for a value that goes, `statuses` one status per channel."""

    profile: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)

    def without_removals(self) -> PersonChanges:
        """What a sign-up or a record helper does with them: a null or "" fills nothing
        and removes nothing (only a PUT removes what it nulls)."""
        return replace(
            self,
            profile={name: value for name, value in self.profile.items() if value},
            custom={key: value for key, value in self.custom.items() if value is not None},
        )


def _primary_first(entries: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return sorted(entries or [], key=lambda entry: not entry.get("primary", False))


def _status(entries: list[dict[str, Any]] | None) -> str:
    """The channel's status: validation let at most one of subscribed/unsubscribed through."""
    sent = {entry.get("status") for entry in entries or []}
    return next((status for status in (SUBSCRIBED, UNSUBSCRIBED) if status in sent), "")


def _postal(entries: list[dict[str, Any]] | None) -> dict[str, str]:
    if not entries:
        return dict.fromkeys(POSTAL_FIELDS, "")  # null or []: the address goes
    chosen = _primary_first(entries)[0]
    return {name: chosen[name] or "" for name in POSTAL_FIELDS if name in chosen}


def _language(codes: list[str] | None) -> str | None:
    """The first code Saha speaks; "" to remove the language; None to leave it."""
    if not codes:
        return ""
    known = {code for code, _name in settings.LANGUAGES}
    for code in codes:
        primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
        if primary in known:
            return primary
    return None


def _custom(organization: Organization, values: dict[str, Any] | None) -> dict[str, Any]:
    fields = {f.key: f for f in CustomField.objects.for_org(organization)}
    if values is None:
        return dict.fromkeys(fields)  # null: every value goes
    custom: dict[str, Any] = {}
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
                {"custom_fields": {key: [_("This value does not fit the field.")]}},
                code=f"invalid_{definition.kind}",
            )
        custom[key] = converted
    return custom


def person_changes(organization: Organization, person: dict[str, Any]) -> PersonChanges:
    """The validated person hash (`PersonInput`) in our fields, custom fields checked
    against the organization's own."""
    profile: dict[str, str] = {
        name: person[name] or "" for name in ("given_name", "family_name") if name in person
    }
    if "postal_addresses" in person:
        profile.update(_postal(person["postal_addresses"]))
    if "languages_spoken" in person:
        language = _language(person["languages_spoken"])
        if language is not None:
            profile["language"] = language
    emails, phones = person.get("email_addresses"), person.get("phone_numbers")
    statuses = {Channel.EMAIL.value: _status(emails), Channel.SMS.value: _status(phones)}
    return PersonChanges(
        profile=profile,
        custom=_custom(organization, person["custom_fields"]) if "custom_fields" in person else {},
        emails=[entry["address"] for entry in _primary_first(emails)],
        phones=[entry["number"] for entry in _primary_first(phones)],
        statuses={channel: status for channel, status in statuses.items() if status},
    )


def person_data(changes: PersonChanges, consents: list[ConsentGrant] | None = None) -> PersonData:
    """What `upsert_person` takes: the primary contacts, what was filled in, no tags
    (tags go through `tag_people`, which audits them) and the given consents."""
    changes = changes.without_removals()
    filled: dict[str, Any] = changes.profile
    return PersonData(
        email=changes.emails[0] if changes.emails else "",
        phone=changes.phones[0] if changes.phones else "",
        custom_fields=changes.custom,
        consents=consents or [],
        **filled,
    )


def helper_person_data(
    organization: Organization, person: dict[str, Any], *, actor: str, anonymous: bool
) -> PersonData:
    """A record helper's person (attendances, signatures): with a token, its `subscribed`
    statuses are consent (see `consent`); through a public helper, no consent at all."""
    changes = person_changes(organization, person)
    given = [] if anonymous else grants(organization, changes.statuses, actor)
    return person_data(changes, given)
