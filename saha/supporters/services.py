"""Every write to a person: create or find, edit, tag, merge, erase.

`upsert_person` is the one way a sign-up path (a form, an RSVP, a signature,
an offer, the API) creates or finds a person. It matches by email, then by
phone, as Action Network does, and only fills what is empty, so a later
sign-up never erases what an earlier one said.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import django.dispatch
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.supporters import suppression
from saha.supporters.consent import ConsentGrant, recompute_states, record_consent
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    Person,
    PersonEmail,
    PersonPhone,
    Tag,
    Tagging,
)
from saha.supporters.text import clean_text, normalize_email, normalize_phone

if TYPE_CHECKING:
    from saha.organizations.models import Organization

# Later apps move their rows from `other` to `kept` (signatures, RSVPs, offers).
people_merged = django.dispatch.Signal()  # kept, other
# Later apps anonymize what they hold about the person, keeping counts right.
person_erasing = django.dispatch.Signal()  # person

PROFILE_FIELDS = (
    "given_name",
    "family_name",
    "language",
    "country",
    "region",
    "locality",
    "postal_code",
)
UPSERT_ATTEMPTS = 3
ERASE_BATCH = 500


class InvalidContact(DomainError):
    """An address or number that is not one (400)."""


class ContactTaken(Conflict):
    """The address or number belongs to another person of the organization (409)."""


def _email_taken() -> ContactTaken:
    return ContactTaken("email_taken", _("Another person has this address: merge them."))


def _phone_taken() -> ContactTaken:
    return ContactTaken("phone_taken", _("Another person has this number: merge them."))


@dataclass
class PersonData:
    """What one sign-up knows about a person; every field optional but one contact."""

    email: str = ""
    phone: str = ""
    given_name: str = ""
    family_name: str = ""
    language: str = ""
    country: str = ""
    region: str = ""
    locality: str = ""
    postal_code: str = ""
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tags: Sequence[str] = ()
    consents: Sequence[ConsentGrant] = ()
    phone_collected_for: dt.date | None = None

    def profile(self) -> dict[str, str]:
        return {name: _profile_value(name, getattr(self, name)) for name in PROFILE_FIELDS}


def _profile_value(name: str, value: str) -> str:
    """Cleaned and cut to the column: PostgreSQL refuses a value that SQLite would keep."""
    value = clean_text(value or "")
    if name == "country":
        value = value.upper()
    max_length = getattr(Person._meta.get_field(name), "max_length", None)
    return value[:max_length].rstrip() if max_length else value


@dataclass
class UpsertResult:
    person: Person
    created: bool
    changed: bool


def upsert_person(
    *,
    organization: Organization,
    actor: Any,
    data: PersonData,
    source: str,
    source_ref: str = "",
    referrer: str = "",
    anonymous: bool = False,
) -> UpsertResult:
    """Find the person by email, then by phone, or create them; fill what is missing.

    Two requests with the same address at once: one creates, the other hits
    the unique constraint (or finds the address taken by the time it attaches
    it), rolls back to its savepoint and finds the new row.

    `anonymous`: the data comes from a public form, typed by anyone. A person
    found by one contact then gets no other contact from it (else a stranger
    typing a supporter's phone with their own email would receive that
    supporter's messages), and consents count only for contacts already theirs.
    """
    email = normalize_email(data.email) if data.email else None
    if data.email and email is None:
        raise InvalidContact("invalid_email", _("This email address is not valid."))
    phone = normalize_phone(data.phone) if data.phone else None
    if data.phone and phone is None:
        raise InvalidContact("invalid_phone", _("This phone number is not valid."))
    if email is None and phone is None:
        raise InvalidContact("no_contact", _("Give an email address or a phone number."))
    for attempt in range(UPSERT_ATTEMPTS):
        try:
            with transaction.atomic():
                person = _find(organization, email, phone.number if phone else None)
                created = person is None
                if person is None:
                    person = _create(organization, data, source, source_ref, referrer)
                    changed = True
                else:
                    # What a stranger types changes nothing of someone else's profile.
                    changed = False if anonymous else _fill(person, data)
                grants = list(data.consents)
                if anonymous and not created:
                    owned = _owned_channels(person, email, phone.number if phone else None)
                    email = email if Channel.EMAIL in owned else None
                    phone = phone if Channel.SMS in owned else None
                    grants = [grant for grant in grants if grant.channel in owned]
                if email:
                    # Matched first, so taken by someone else means taken since we looked.
                    changed |= _attach_email(person, email)
                if phone:
                    try:
                        changed |= _attach_phone(person, phone.number, phone.sms_capable, data)
                    except ContactTaken:
                        if created:
                            raise  # it was free when we looked: another sign-up won
                        # Otherwise the address matched another person than the
                        # number: the address wins and the number stays theirs.
                changed |= bool(_apply_tags(person, data.tags))
                for grant in grants:
                    changed |= record_consent(person=person, grant=grant, actor=actor) is not None
                if created:
                    audit.log(actor, "supporters.person.created", person, {"source": source})
                elif changed:
                    # A sign-up that filled a blank, added a contact or a consent changed
                    # the person: the log (and the person.updated webhook) says so.
                    audit.log(actor, "supporters.person.updated", person, {"source": source})
                return UpsertResult(person=person, created=created, changed=changed)
        except (IntegrityError, ContactTaken):
            if attempt == UPSERT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _find(organization: Organization, email: str | None, phone: str | None) -> Person | None:
    """The person with this email, else this phone, locked for the rest of the transaction.

    The contact is read first by its unique (organization, address) index, then
    the person by primary key: two plans no planner can get wrong, even on a
    young table without statistics (a join here was seen to scan every person).
    """
    person_id = None
    if email:
        person_id = _owner(PersonEmail.objects.filter(organization=organization, address=email))
    if person_id is None and phone:
        person_id = _owner(PersonPhone.objects.filter(organization=organization, number=phone))
    if person_id is None:
        return None
    return Person.objects.select_for_update().filter(pk=person_id).first()


def _owned_channels(person: Person, email: str | None, phone: str | None) -> set[str]:
    """The channels whose typed address already belongs to this person."""
    owned = set()
    if email and person.emails.filter(address=email).exists():
        owned.add(Channel.EMAIL.value)
    if phone and person.phones.filter(number=phone).exists():
        owned.add(Channel.SMS.value)
    return owned


def _owner(contacts: Any) -> int | None:
    return next(iter(contacts.order_by().values_list("person_id", flat=True)[:1]), None)


def _create(
    organization: Organization, data: PersonData, source: str, source_ref: str, referrer: str
) -> Person:
    person = Person(
        organization=organization,
        source=source,
        source_ref=source_ref[:300],
        referrer=referrer[:200],
        custom_fields=dict(data.custom_fields),
        **data.profile(),
    )
    person.refresh_name_key()
    person.save()
    return person


def _fill(person: Person, data: PersonData, *, activity: bool = True) -> bool:
    """Fill empty fields from `data`; never overwrite what the person said before.

    `activity`: this is the person acting (a sign-up), which keeps them from
    the retention rule; a merge by an organizer is not.
    """
    changed = []
    for name, value in data.profile().items():
        if value and not getattr(person, name):
            setattr(person, name, value)
            changed.append(name)
    new_custom = {k: v for k, v in data.custom_fields.items() if k not in person.custom_fields}
    if new_custom:
        person.custom_fields = {**person.custom_fields, **new_custom}
        changed.append("custom_fields")
    now = timezone.now()
    touched = []
    if activity:
        person.last_activity_at = now
        touched.append("last_activity_at")
    if changed:
        person.refresh_name_key()
        person.modified_at = now
        touched += [*changed, "name_key", "modified_at"]
    if touched:
        person.save(update_fields=touched)
    return bool(changed)


def _attach_email(person: Person, address: str) -> bool:
    """Give the person this address; False if they had it, ContactTaken if someone else does."""
    owner_id = (
        PersonEmail.objects.filter(organization_id=person.organization_id, address=address)
        .values_list("person_id", flat=True)
        .first()
    )
    if owner_id == person.pk:
        return False
    if owner_id is not None:
        raise _email_taken()
    try:
        with transaction.atomic():
            PersonEmail.objects.create(
                organization_id=person.organization_id,
                person=person,
                address=address,
                is_primary=not person.emails.exists(),
            )
    except IntegrityError:
        raise _email_taken() from None  # taken a moment ago, by a concurrent sign-up
    return True


def _attach_phone(person: Person, number: str, sms_capable: bool, data: PersonData) -> bool:
    """Give the person this number; False if nothing changed, ContactTaken if it is another's."""
    existing = PersonPhone.objects.filter(
        organization_id=person.organization_id, number=number
    ).first()
    if existing is not None:
        if existing.person_id != person.pk:
            raise _phone_taken()
        if existing.collected_for_date is None:
            return False
        # Given again outside an event: no longer only an event contact. Given
        # for a later event: kept until after that one.
        later = data.phone_collected_for
        if later is None or later > existing.collected_for_date:
            existing.collected_for_date = later
            existing.save(update_fields=["collected_for_date"])
            return True
        return False
    try:
        with transaction.atomic():
            PersonPhone.objects.create(
                organization_id=person.organization_id,
                person=person,
                number=number,
                sms_capable=sms_capable,
                is_primary=not person.phones.exists(),
                collected_for_date=data.phone_collected_for,
            )
    except IntegrityError:
        raise _phone_taken() from None
    return True


def tag_names(names: Iterable[str]) -> list[str]:
    return sorted({clean_text(n)[:100] for n in names if clean_text(n)})


def _apply_tags(person: Person, names: Iterable[str]) -> list[Tag]:
    added = []
    for name in tag_names(names):
        tag, _created = Tag.objects.get_or_create(organization_id=person.organization_id, name=name)
        _tagging, created = Tagging.objects.get_or_create(person=person, tag=tag)
        if created:
            added.append(tag)
    return added


def _named_tag(actor: Any, organization_id: int, name: str) -> tuple[Tag, bool]:
    """The tag of this (clean) name, created and audited if new."""
    with transaction.atomic():
        # get_or_create retries the read when a concurrent call inserted the name first.
        tag, created = Tag.objects.get_or_create(organization_id=organization_id, name=name)
        if created:
            audit.log(actor, "supporters.tag.created", tag, {"tag": tag.name})
    return tag, created


def create_tag(*, actor: Any, organization: Organization, name: str) -> tuple[Tag, bool]:
    """The organization's tag of this name, created if new; `created` says which."""
    names = tag_names([name])
    if not names:
        raise DomainError("tag_name_missing", _("Give the tag a name."))
    return _named_tag(actor, organization.pk, names[0])


def tag_people(*, actor: Any, people: Sequence[Person], names: Iterable[str]) -> int:
    """Add tags to people, creating (and auditing) a tag that is new; returns how many
    taggings were new."""
    names = tag_names(names)
    added = 0
    tags: dict[tuple[int, str], Tag] = {}
    with transaction.atomic():
        for person in people:
            for name in names:
                key = (person.organization_id, name)
                if key not in tags:
                    tags[key] = _named_tag(actor, person.organization_id, name)[0]
                _tagging, created = Tagging.objects.get_or_create(person=person, tag=tags[key])
                if created:
                    added += 1
                    audit.log(actor, "supporters.person.tagged", person, {"tag": name})
    return added


def untag_person(*, actor: Any, person: Person, tag: Tag) -> None:
    if tag.organization_id != person.organization_id:
        raise DomainError("not_found", _("No such tag."), status=404)
    with transaction.atomic():
        deleted, _by_model = Tagging.objects.filter(person=person, tag=tag).delete()
        if deleted:
            audit.log(actor, "supporters.person.untagged", person, {"tag": tag.name})


def update_person(
    *, actor: Any, person: Person, values: dict[str, Any], custom_fields: dict[str, Any]
) -> list[str]:
    """An organizer's edit: overwrite the given fields. Returns the names that changed."""
    changed = []
    for name in PROFILE_FIELDS:
        if name in values:
            value = _profile_value(name, values[name])
            if getattr(person, name) != value:
                setattr(person, name, value)
                changed.append(name)
    merged = {
        k: v for k, v in {**person.custom_fields, **custom_fields}.items() if v not in ("", None)
    }
    if merged != person.custom_fields:
        person.custom_fields = merged
        changed.append("custom_fields")
    if not changed:
        return []
    with transaction.atomic():
        person.refresh_name_key()
        person.modified_at = timezone.now()
        person.save(update_fields=[*changed, "name_key", "modified_at"])
        audit.log(actor, "supporters.person.updated", person, {"fields": changed})
    return changed


def add_contact(*, actor: Any, person: Person, email: str = "", phone: str = "") -> None:
    """An organizer adds an address or number; one that belongs to someone else is refused."""
    with transaction.atomic():
        if email:
            address = normalize_email(email)
            if address is None:
                raise InvalidContact("invalid_email", _("This email address is not valid."))
            if _attach_email(person, address):
                _touch(person)
                audit.log(actor, "supporters.person.email_added", person)
        if phone:
            parsed = normalize_phone(phone)
            if parsed is None:
                raise InvalidContact("invalid_phone", _("This phone number is not valid."))
            if _attach_phone(person, parsed.number, parsed.sms_capable, PersonData()):
                _touch(person)
                audit.log(actor, "supporters.person.phone_added", person)


def _touch(person: Person) -> None:
    """A new contact is a change of the person, for whoever syncs by modified date."""
    person.modified_at = timezone.now()
    Person.objects.filter(pk=person.pk).update(modified_at=person.modified_at)


def remove_contact(
    *, actor: Any, person: Person, email_id: int | None = None, phone_id: int | None = None
) -> None:
    with transaction.atomic():
        if email_id:
            deleted, _by_model = PersonEmail.objects.filter(person=person, pk=email_id).delete()
            if deleted:
                _ensure_primary(person.emails.all())
                _touch(person)
                audit.log(actor, "supporters.person.email_removed", person)
        if phone_id:
            deleted, _by_model = PersonPhone.objects.filter(person=person, pk=phone_id).delete()
            if deleted:
                _ensure_primary(person.phones.all())
                _touch(person)
                audit.log(actor, "supporters.person.phone_removed", person)


def _ensure_primary(contacts: Any) -> None:
    """After a removal, the oldest remaining address or number becomes primary if none is."""
    if not contacts.filter(is_primary=True).exists():
        first = contacts.order_by("pk").first()
        if first is not None:
            contacts.filter(pk=first.pk).update(is_primary=True)


def merge_people(*, actor: Any, kept: Person, other: Person) -> Person:
    """Fold `other` into `kept` (contacts, tags, consent history, empty fields), drop `other`."""
    if kept.organization_id != other.organization_id or kept.pk == other.pk:
        raise DomainError("merge_invalid", _("These two people cannot be merged."), status=400)
    with transaction.atomic():
        # Lock both in id order so two merges of the same pair cannot deadlock.
        locked = {
            p.pk: p
            for p in Person.objects.select_for_update()
            .filter(pk__in=[kept.pk, other.pk])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise DomainError("merge_gone", _("One of these people no longer exists."), status=409)
        kept, other = locked[kept.pk], locked[other.pk]
        _fill(
            kept,
            PersonData(
                **{n: getattr(other, n) for n in PROFILE_FIELDS}, custom_fields=other.custom_fields
            ),
            activity=False,
        )
        has_primary_email = kept.emails.filter(is_primary=True).exists()
        has_primary_phone = kept.phones.filter(is_primary=True).exists()
        PersonEmail.objects.filter(person=other).update(
            person=kept, **({"is_primary": False} if has_primary_email else {})
        )
        PersonPhone.objects.filter(person=other).update(
            person=kept, **({"is_primary": False} if has_primary_phone else {})
        )
        kept_tags = set(Tagging.objects.filter(person=kept).values_list("tag_id", flat=True))
        Tagging.objects.filter(person=other).exclude(tag_id__in=kept_tags).update(person=kept)
        # The ledger is append-only, but a record's subject is now the kept person.
        _move_consent_records(other, kept)
        recompute_states(kept)
        kept.created_at = min(kept.created_at, other.created_at)
        kept.last_activity_at = max(kept.last_activity_at, other.last_activity_at)
        kept.save(update_fields=["created_at", "last_activity_at"])
        people_merged.send(sender=Person, kept=kept, other=other)
        other_id = other.pk
        other.delete()
        audit.log(actor, "supporters.person.merged", kept, {"merged": other_id})
    return kept


def _move_consent_records(source: Person, target: Person) -> None:
    # QuerySet.update is refused on the ledger; a merge is the one sanctioned
    # re-pointing, done through the base manager.
    ConsentRecord._base_manager.filter(person=source).update(person=target)


def erase_person(*, actor: Any, person: Person, reason: str = "") -> int:
    """Forget a person: every personal field and row goes; counts elsewhere stay right.

    Later apps hear `person_erasing` first and detach what they keep for totals
    (a signature still counts, without a name). Returns the erased id.
    """
    person_id = person.pk
    with transaction.atomic():
        # Erased already (a retried task, two clicks): nothing more to do or log.
        if not Person.objects.select_for_update().filter(pk=person_id).exists():
            return person_id
        person_erasing.send(sender=Person, person=person)
        suppressed = suppression.remember_withdrawals(person)
        audit.log(
            actor,
            "supporters.person.erased",
            person,
            {"reason": reason[:200], "suppressed_contacts": suppressed},
        )
        person.delete()
    return person_id


def erase_people(*, actor: Any, organization: Organization, people: Q, reason: str) -> int:
    """Erase everybody matching `people` in batches (retention); returns how many.

    Each person is checked again under a lock just before erasure: one who
    signed up again or agreed to hear from us since the batch was read stays.
    """
    people_of_org = Person.objects.for_org(organization)
    total = 0
    after = 0
    while True:
        ids = list(
            people_of_org.filter(people, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:ERASE_BATCH]
        )
        if not ids:
            return total
        after = ids[-1]
        for person_id in ids:
            with transaction.atomic():
                person = people_of_org.select_for_update().filter(people, pk=person_id).first()
                if person is not None:
                    erase_person(actor=actor, person=person, reason=reason)
                    total += 1
