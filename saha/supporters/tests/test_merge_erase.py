"""Merging two records of the same human, and erasing a person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q
from django.utils import timezone

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.supporters import services
from saha.supporters.consent import current_status
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    Person,
    PersonEmail,
    PersonPhone,
    Tag,
    Tagging,
)
from saha.supporters.services import erase_people, erase_person, merge_people
from saha.supporters.tests.people_factories import PersonFactory, consent

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=400)


@pytest.fixture
def heard():
    """Receivers on the two signals later apps rely on."""
    events: list[tuple[str, dict]] = []

    def on_merge(sender, kept, other, **kwargs):
        # Both still there, so later apps can move rows from one to the other.
        events.append(("merged", {"kept": kept.pk, "other": other.pk}))

    def on_erase(sender, person, **kwargs):
        # Still there when later apps hear it, so they can detach what they keep.
        events.append(
            ("erasing", {"person": person, "exists": Person.objects.filter(pk=person.pk).exists()})
        )

    services.people_merged.connect(on_merge)
    services.person_erasing.connect(on_erase)
    yield events
    services.people_merged.disconnect(on_merge)
    services.person_erasing.disconnect(on_erase)


class TestMerge:
    def test_contacts_tags_and_consent_move_to_the_kept_person(self, org_a, owner, heard) -> None:
        kept = PersonFactory(
            organization=org_a,
            given_name="",
            family_name="Haddad",
            email="rana@example.org",
            tags=["volunteers"],
        )
        other = PersonFactory(
            organization=org_a,
            given_name="Rana",
            family_name="Khoury",
            email="rana.h@example.org",
            phone="+9613123456",
            tags=["volunteers", "donors"],
            custom_fields={"branch": "Saida"},
        )
        consent(other, Channel.SMS)
        other_id = other.pk

        result = merge_people(actor=owner.user, kept=kept, other=other)

        assert result.pk == kept.pk
        assert not Person.objects.filter(pk=other_id).exists()
        assert sorted(result.emails.values_list("address", "is_primary")) == [
            ("rana.h@example.org", False),
            ("rana@example.org", True),
        ]
        assert list(result.phones.values_list("number", "is_primary")) == [("+9613123456", True)]
        assert sorted(result.taggings.values_list("tag__name", flat=True)) == [
            "donors",
            "volunteers",
        ]
        # Blanks filled, what the kept person said stays.
        assert (result.given_name, result.family_name) == ("Rana", "Haddad")
        assert result.custom_fields == {"branch": "Saida"}
        assert ConsentRecord.objects.get().person_id == kept.pk
        assert current_status(result, Channel.SMS) == ConsentStatus.GRANTED
        entry = AuditEntry.objects.get(action="supporters.person.merged")
        assert entry.actor == owner.user and entry.target_id == str(kept.pk)
        assert entry.data == {"merged": other_id}
        [(name, kwargs)] = heard
        assert (name, kwargs) == ("merged", {"kept": kept.pk, "other": other_id})

    @pytest.mark.parametrize("later", ["kept", "other"])
    def test_the_status_is_derived_again_from_both_ledgers(self, org_a, later) -> None:
        kept, other = PersonFactory(organization=org_a), PersonFactory(organization=org_a)
        earlier_person, later_person = (other, kept) if later == "kept" else (kept, other)
        first = consent(earlier_person, status=ConsentStatus.GRANTED)
        second = consent(
            later_person, status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE
        )
        assert first is not None and second is not None
        assert first.created_at <= second.created_at

        merge_people(actor="system", kept=kept, other=other)

        assert ConsentRecord.objects.filter(person=kept).count() == 2
        state = ConsentState.objects.get(person=kept)
        assert (state.status, state.record_id) == (ConsentStatus.WITHDRAWN, second.pk)

    def test_the_history_keeps_the_earliest_start_and_latest_activity(self, org_a) -> None:
        a_year_ago = timezone.now() - dt.timedelta(days=365)
        a_month_ago = timezone.now() - dt.timedelta(days=30)
        kept = PersonFactory(organization=org_a, created_at=a_month_ago, last_activity_at=LONG_AGO)
        other = PersonFactory(
            organization=org_a, created_at=a_year_ago, last_activity_at=a_month_ago
        )

        merge_people(actor="system", kept=kept, other=other)

        kept.refresh_from_db()
        assert kept.created_at == a_year_ago
        # An organizer's merge is not the person's activity: retention still applies.
        assert kept.last_activity_at == a_month_ago

    def test_people_of_two_organizations_are_never_merged(self, org_a, org_b) -> None:
        kept = PersonFactory(organization=org_a, email="rana@example.org")
        other = PersonFactory(organization=org_b, email="rana@example.org")

        with pytest.raises(DomainError) as caught:
            merge_people(actor="system", kept=kept, other=other)

        assert caught.value.code == "merge_invalid"
        assert Person.objects.count() == 2
        assert PersonEmail.objects.get(organization=org_b).person_id == other.pk

    def test_a_person_is_not_merged_with_themselves(self, org_a) -> None:
        person = PersonFactory(organization=org_a)

        with pytest.raises(DomainError) as caught:
            merge_people(actor="system", kept=person, other=person)

        assert caught.value.code == "merge_invalid"
        assert Person.objects.filter(pk=person.pk).exists()

    def test_a_person_erased_meanwhile_cannot_be_merged(self, org_a) -> None:
        kept, other = PersonFactory(organization=org_a), PersonFactory(organization=org_a)
        Person.objects.filter(pk=other.pk).delete()

        with pytest.raises(DomainError) as caught:
            merge_people(actor="system", kept=kept, other=other)

        assert caught.value.code == "merge_gone"


class TestErase:
    def test_every_personal_row_goes(self, org_a, owner, heard) -> None:
        person = PersonFactory(
            organization=org_a,
            given_name="Rana",
            family_name="Haddad",
            email="rana@example.org",
            phone="+9613123456",
            tags=["volunteers"],
        )
        consent(person, Channel.EMAIL)
        consent(person, Channel.SMS, ConsentStatus.WITHDRAWN)
        services.tag_people(actor=owner.user, people=[person], names=["donors"])
        person_id = person.pk

        returned = erase_person(actor=owner.user, person=person, reason="asked by email")

        assert returned == person_id
        assert not Person.objects.filter(pk=person_id).exists()
        for model in (PersonEmail, PersonPhone, ConsentRecord, ConsentState, Tagging):
            assert not model.objects.filter(person_id=person_id).exists(), model.__name__
        # The organization's tags are not the person's data.
        assert Tag.objects.filter(organization=org_a).count() == 2
        assert [name for name, _ in heard] == ["erasing"]
        assert heard[0][1]["exists"] is True

    def test_the_audit_row_names_no_one(self, org_a, owner) -> None:
        person = PersonFactory(
            organization=org_a,
            given_name="Rana",
            family_name="Haddad",
            email="rana@example.org",
            phone="+9613123456",
        )

        erase_person(actor=owner.user, person=person, reason="their request")

        entry = AuditEntry.objects.get(action="supporters.person.erased")
        assert entry.organization == org_a and entry.actor == owner.user
        assert entry.target_label == f"person #{entry.target_id}"
        assert entry.data == {"reason": "their request", "suppressed_contacts": 0}
        for row in AuditEntry.objects.all():
            text = f"{row.target_label} {row.data}".casefold()
            for personal in ("rana", "haddad", "example.org", "9613123456"):
                assert personal not in text

    def test_erasing_twice_logs_once(self, org_a) -> None:
        person = PersonFactory(organization=org_a)
        stale = Person.objects.get(pk=person.pk)
        erase_person(actor="system", person=person)

        erase_person(actor="system", person=stale)

        assert AuditEntry.objects.filter(action="supporters.person.erased").count() == 1

    def test_only_the_person_is_erased(self, org_a, org_b) -> None:
        person = PersonFactory(organization=org_a, email="rana@example.org", tags=["x"])
        neighbour = PersonFactory(organization=org_a, email="sami@example.org", tags=["x"])
        twin = PersonFactory(organization=org_b, email="rana@example.org")

        erase_person(actor="system", person=person)

        assert set(Person.objects.values_list("pk", flat=True)) == {neighbour.pk, twin.pk}
        assert neighbour.taggings.count() == 1
        assert PersonEmail.objects.count() == 2


class TestEraseMany:
    def test_everybody_matching_in_the_organization_goes_in_batches(
        self, org_a, org_b, monkeypatch
    ) -> None:
        monkeypatch.setattr(services, "ERASE_BATCH", 2)
        old = [PersonFactory(organization=org_a, region="Old") for _ in range(5)]
        young = PersonFactory(organization=org_a, region="Young")
        elsewhere = PersonFactory(organization=org_b, region="Old")

        erased = erase_people(
            actor="system:retention", organization=org_a, people=Q(region="Old"), reason="test"
        )

        assert erased == 5
        assert set(Person.objects.values_list("pk", flat=True)) == {young.pk, elsewhere.pk}
        entries = AuditEntry.objects.filter(action="supporters.person.erased")
        assert sorted(int(e.target_id) for e in entries) == sorted(p.pk for p in old)
        assert {e.actor_label for e in entries} == {"system:retention"}

    def test_a_person_who_no_longer_matches_when_their_turn_comes_stays(
        self, org_a, monkeypatch
    ) -> None:
        first, second = (PersonFactory(organization=org_a, region="Old") for _ in range(2))
        real_erase = services.erase_person

        def erase_and_meanwhile(**kwargs):
            # While the first is erased, the second signs up again from a new region.
            Person.objects.filter(pk=second.pk).update(region="New")
            return real_erase(**kwargs)

        monkeypatch.setattr(services, "erase_person", erase_and_meanwhile)

        erased = erase_people(
            actor="system", organization=org_a, people=Q(region="Old"), reason="test"
        )

        assert erased == 1
        assert list(Person.objects.values_list("pk", flat=True)) == [second.pk]
        assert not Person.objects.filter(pk=first.pk).exists()
