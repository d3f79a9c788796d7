"""upsert_person: the one door every sign-up comes through."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from saha.core.models import AuditEntry
from saha.supporters import services
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
)
from saha.supporters.services import InvalidContact, PersonData, UpsertResult, upsert_person
from saha.supporters.tests.people_factories import PersonFactory, postgres_only, run_at_once

pytestmark = pytest.mark.django_db

EMAIL_GRANT = ConsentGrant(
    channel=Channel.EMAIL, wording="Send me news of the campaign.", source=ConsentSource.FORM
)


def sign_up(organization, actor="anonymous", **fields) -> UpsertResult:
    return upsert_person(
        organization=organization, actor=actor, data=PersonData(**fields), source=Source.FORM
    )


class TestFinding:
    def test_a_new_address_creates_a_person_and_logs_it(self, owner) -> None:
        result = sign_up(
            owner.organization, actor=owner.user, email="rana@example.org", given_name="Rana"
        )

        assert (result.created, result.changed) == (True, True)
        person = result.person
        assert person.organization == owner.organization
        assert person.given_name == "Rana" and person.source == Source.FORM
        assert list(person.emails.values_list("address", "is_primary")) == [
            ("rana@example.org", True)
        ]
        entry = AuditEntry.objects.get(action="supporters.person.created")
        assert entry.actor == owner.user and entry.target_id == str(person.pk)
        assert entry.data == {"source": Source.FORM}

    def test_the_same_address_in_another_case_finds_the_same_person(self, owner) -> None:
        first = sign_up(owner.organization, email="  Rana.Haddad@Example.ORG ")
        again = sign_up(owner.organization, email="rana.haddad@example.org")

        assert again.person.pk == first.person.pk and not again.created
        assert PersonEmail.objects.get().address == "rana.haddad@example.org"

    def test_a_known_phone_finds_the_person_and_adds_the_new_address(self, owner) -> None:
        first = sign_up(owner.organization, phone="03 123 456")
        again = sign_up(owner.organization, phone="+961 3 123 456", email="sami@example.org")

        assert again.person.pk == first.person.pk and not again.created and again.changed
        assert list(again.person.phones.values_list("number", flat=True)) == ["+9613123456"]
        assert list(again.person.emails.values_list("address", flat=True)) == ["sami@example.org"]

    def test_email_is_matched_before_phone_and_nobody_loses_a_number(self, owner) -> None:
        by_email = sign_up(owner.organization, email="lina@example.org").person
        by_phone = sign_up(owner.organization, phone="03 123 456").person

        result = sign_up(owner.organization, email="lina@example.org", phone="03 123 456")

        assert result.person.pk == by_email.pk
        assert PersonPhone.objects.get(number="+9613123456").person_id == by_phone.pk
        assert Person.objects.count() == 2

    def test_the_same_address_in_two_organizations_is_two_people(self, owner, outsider) -> None:
        in_a = sign_up(owner.organization, email="rana@example.org")
        in_b = sign_up(outsider.organization, email="rana@example.org")

        assert in_a.created and in_b.created
        assert in_a.person.pk != in_b.person.pk
        assert in_b.person.organization == outsider.organization


class TestFilling:
    def test_later_sign_ups_fill_blanks_and_never_overwrite(self, owner) -> None:
        sign_up(
            owner.organization,
            email="rana@example.org",
            given_name="Rana",
            custom_fields={"branch": "Achrafieh"},
        )

        result = sign_up(
            owner.organization,
            email="rana@example.org",
            given_name="Ranya",
            family_name="Haddad",
            region="Beirut",
            country="lb",
            custom_fields={"branch": "Tripoli", "shirt": "M"},
        )

        person = Person.objects.get()
        assert result.changed and not result.created
        assert (person.given_name, person.family_name) == ("Rana", "Haddad")
        assert (person.region, person.country) == ("Beirut", "LB")
        assert person.custom_fields == {"branch": "Achrafieh", "shirt": "M"}
        assert person.name_key == "rana haddad"

    def test_the_same_sign_up_twice_changes_nothing_but_records_activity(self, owner) -> None:
        data = {
            "email": "rana@example.org",
            "phone": "03 123 456",
            "given_name": "Rana",
            "tags": ["volunteers"],
            "consents": [EMAIL_GRANT],
        }
        first = sign_up(owner.organization, **data)
        Person.objects.update(last_activity_at=timezone.now() - dt.timedelta(days=90))

        again = sign_up(owner.organization, **data)

        assert (again.created, again.changed) == (False, False)
        assert again.person.pk == first.person.pk
        assert ConsentRecord.objects.count() == 1
        assert PersonEmail.objects.count() == PersonPhone.objects.count() == 1
        person = Person.objects.get()
        assert timezone.now() - person.last_activity_at < dt.timedelta(minutes=1)

    def test_values_too_long_for_their_column_are_cut_not_refused(self, owner) -> None:
        # SQLite keeps any length; PostgreSQL refuses a value longer than the column.
        person = sign_up(
            owner.organization,
            email="rana@example.org",
            given_name="R" * 400,
            language="english-united-states",
            postal_code="1" * 40,
        ).person
        person.refresh_from_db()

        assert len(person.given_name) == 150
        assert person.language == "english-"
        assert len(person.postal_code) == 20

    def test_control_characters_from_a_broken_form_are_dropped(self, owner) -> None:
        person = sign_up(
            owner.organization, email="rana@example.org", given_name="Ra\x00na "
        ).person

        person.refresh_from_db()
        assert person.given_name == "Rana"


class TestTags:
    def test_tags_are_cleaned_deduplicated_and_scoped(self, owner, outsider) -> None:
        result = sign_up(
            owner.organization,
            email="rana@example.org",
            tags=["volunteers", "  Beirut  ", "volunteers", "", "   "],
        )
        sign_up(outsider.organization, email="x@example.org", tags=["volunteers"])

        assert sorted(result.person.taggings.values_list("tag__name", flat=True)) == [
            "Beirut",
            "volunteers",
        ]
        assert Tag.objects.filter(name="volunteers").count() == 2  # one per organization
        assert set(
            Tag.objects.filter(taggings__person=result.person).values_list(
                "organization", flat=True
            )
        ) == {owner.organization.pk}

    def test_a_new_tag_is_a_change_a_known_one_is_not(self, owner) -> None:
        sign_up(owner.organization, email="rana@example.org", tags=["volunteers"])

        known = sign_up(owner.organization, email="rana@example.org", tags=["volunteers"])
        new = sign_up(owner.organization, email="rana@example.org", tags=["donors"])

        assert not known.changed and new.changed
        assert new.person.taggings.count() == 2


class TestInvalidContacts:
    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"email": "not-an-address"}, "invalid_email"),
            ({"email": "rana@example"}, "invalid_email"),
            ({"phone": "12"}, "invalid_phone"),
            ({"email": "rana@example.org", "phone": "call me"}, "invalid_phone"),
            ({"given_name": "Rana"}, "no_contact"),
            ({}, "no_contact"),
        ],
    )
    def test_refused_with_a_stable_code_and_nothing_written(self, owner, fields, code) -> None:
        with pytest.raises(InvalidContact) as caught:
            sign_up(owner.organization, **fields)

        assert caught.value.code == code and caught.value.status == 400
        assert not Person.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="supporters.").exists()


class TestEventPhones:
    def test_a_number_given_for_events_is_kept_until_after_the_latest(self, owner) -> None:
        march, april = dt.date(2026, 3, 10), dt.date(2026, 4, 20)
        sign_up(owner.organization, phone="03 123 456", phone_collected_for=march)

        later = sign_up(owner.organization, phone="03 123 456", phone_collected_for=april)
        earlier = sign_up(owner.organization, phone="03 123 456", phone_collected_for=march)

        assert later.changed and not earlier.changed
        assert PersonPhone.objects.get().collected_for_date == april

    def test_a_number_given_outside_an_event_is_no_longer_an_event_contact(self, owner) -> None:
        sign_up(owner.organization, phone="03 123 456", phone_collected_for=dt.date(2026, 3, 10))

        result = sign_up(owner.organization, phone="03 123 456")

        assert result.changed
        assert PersonPhone.objects.get().collected_for_date is None

    def test_a_number_given_outside_an_event_stays_so(self, owner) -> None:
        sign_up(owner.organization, phone="03 123 456")

        result = sign_up(
            owner.organization, phone="03 123 456", phone_collected_for=dt.date.today()
        )

        assert not result.changed
        assert PersonPhone.objects.get().collected_for_date is None

    def test_a_landline_is_kept_but_not_for_sms(self, owner) -> None:
        sign_up(owner.organization, phone="01 123 456")

        assert PersonPhone.objects.get().sms_capable is False


class TestLosingTheRace:
    """The window between looking a contact up and attaching it, opened on purpose."""

    @pytest.fixture
    def blind_once(self, monkeypatch):
        # The first lookup misses, as when another sign-up commits just after it.
        real_find, calls = services._find, []

        def find(*args):
            calls.append(args)
            return None if len(calls) == 1 else real_find(*args)

        monkeypatch.setattr(services, "_find", find)
        return calls

    @pytest.mark.parametrize("contact", [{"email": "rana@example.org"}, {"phone": "03 123 456"}])
    def test_a_contact_taken_meanwhile_is_found_on_retry(self, owner, blind_once, contact) -> None:
        existing = sign_up(owner.organization, **contact).person
        blind_once.clear()

        result = sign_up(owner.organization, given_name="Rana", **contact)

        assert len(blind_once) == 2  # looked again
        assert result.person.pk == existing.pk and not result.created
        assert Person.objects.count() == 1  # no person without a contact left behind
        assert Person.objects.get().given_name == "Rana"


class TestAddingContacts:
    def test_an_organizer_adds_an_address_and_a_number(self, owner) -> None:
        person = sign_up(owner.organization, email="rana@example.org").person

        services.add_contact(
            actor=owner.user, person=person, email="Rana.Work@Example.org", phone="03 123 456"
        )

        assert sorted(person.emails.values_list("address", "is_primary")) == [
            ("rana.work@example.org", False),
            ("rana@example.org", True),
        ]
        assert list(person.phones.values_list("number", "is_primary")) == [("+9613123456", True)]
        assert set(
            AuditEntry.objects.filter(target_id=str(person.pk)).values_list("action", flat=True)
        ) >= {"supporters.person.email_added", "supporters.person.phone_added"}

    @pytest.mark.parametrize(
        ("contact", "code"),
        [({"email": "sami@example.org"}, "email_taken"), ({"phone": "03 999 888"}, "phone_taken")],
    )
    def test_another_persons_contact_is_refused(self, owner, contact, code) -> None:
        rana = sign_up(owner.organization, email="rana@example.org").person
        sign_up(owner.organization, email="sami@example.org", phone="03 999 888")

        with pytest.raises(services.ContactTaken) as caught:
            services.add_contact(actor=owner.user, person=rana, **contact)

        assert caught.value.code == code and caught.value.status == 409
        assert rana.emails.count() == 1 and rana.phones.count() == 0

    def test_removing_the_primary_address_hands_primary_over(self, owner) -> None:
        person = sign_up(owner.organization, email="rana@example.org").person
        services.add_contact(actor=owner.user, person=person, email="rana.work@example.org")
        primary = person.emails.get(is_primary=True)

        services.remove_contact(actor=owner.user, person=person, email_id=primary.pk)

        assert list(person.emails.values_list("address", "is_primary")) == [
            ("rana.work@example.org", True)
        ]
        assert AuditEntry.objects.filter(action="supporters.person.email_removed").count() == 1

    def test_removing_someone_elses_address_does_nothing_and_logs_nothing(self, owner) -> None:
        rana = sign_up(owner.organization, email="rana@example.org").person
        sami = sign_up(owner.organization, email="sami@example.org").person

        services.remove_contact(actor=owner.user, person=rana, email_id=sami.emails.get().pk)

        assert sami.emails.count() == 1
        assert not AuditEntry.objects.filter(action="supporters.person.email_removed").exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
class TestConcurrentSignUps:
    THREADS = 8

    def test_the_same_address_at_once_makes_one_person(self, org_a) -> None:
        results, errors = run_at_once(
            self.THREADS,
            lambda i: sign_up(
                org_a,
                email="rana@example.org",
                given_name=f"Rana{i}",
                tags=["rally", f"t{i}"],
                consents=[EMAIL_GRANT],
            ),
        )

        assert errors == []
        assert len(results) == self.THREADS
        assert Person.objects.count() == 1
        assert PersonEmail.objects.filter(address="rana@example.org").count() == 1
        assert {r.person.pk for r in results} == {Person.objects.get().pk}
        assert sum(r.created for r in results) == 1
        assert Tag.objects.filter(name="rally").count() == 1
        assert Person.objects.get().taggings.count() == self.THREADS + 1
        assert ConsentState.objects.count() == 1
        assert ConsentRecord.objects.count() == 1

    def test_the_same_number_at_once_makes_one_person(self, org_a) -> None:
        results, errors = run_at_once(
            self.THREADS, lambda i: sign_up(org_a, phone="+961 3 123 456", family_name="Haddad")
        )

        assert errors == []
        assert Person.objects.count() == 1
        assert PersonPhone.objects.count() == 1
        assert sum(r.created for r in results) == 1

    def test_an_existing_person_signing_up_at_once_gets_every_tag(self, org_a) -> None:
        person = PersonFactory(organization=org_a, email="rana@example.org")

        _, errors = run_at_once(
            self.THREADS, lambda i: sign_up(org_a, email="rana@example.org", tags=[f"t{i}"])
        )

        assert errors == []
        assert person.taggings.count() == self.THREADS
