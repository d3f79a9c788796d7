"""After an erasure, a withdrawal is remembered as a keyed hash: imports cannot re-subscribe."""

from __future__ import annotations

import pytest
from django.test import override_settings

from saha.core.models import AuditEntry
from saha.supporters import suppression
from saha.supporters.consent import ConsentGrant, current_status, record_consent
from saha.supporters.models import Channel, ConsentSource, ConsentStatus, Suppression
from saha.supporters.services import PersonData, erase_person, upsert_person
from saha.supporters.tests.people_factories import receive_csv, start_import

pytestmark = pytest.mark.django_db


def sign_up(owner, *, source: str = ConsentSource.FORM, email: str = "rania@example.org"):
    grant = ConsentGrant(channel=Channel.EMAIL, wording="News, please.", source=source)
    return upsert_person(
        organization=owner.organization,
        actor=owner.user,
        data=PersonData(email=email, phone="03123456", consents=[grant]),
        source="form",
    ).person


def withdraw(person, channel: str = Channel.EMAIL) -> None:
    record_consent(
        person=person,
        grant=ConsentGrant(
            channel=channel, wording="", source=ConsentSource.UNSUBSCRIBE, status="withdrawn"
        ),
    )


def test_erasing_someone_who_withdrew_keeps_only_a_hash(owner) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person, reason="asked by email")
    row = Suppression.objects.get()
    assert row.channel == Channel.EMAIL and len(row.digest) == 64
    assert "rania" not in row.digest
    assert (
        AuditEntry.objects.get(action="supporters.person.erased").data["suppressed_contacts"] == 1
    )
    # SMS was never withdrawn: the number is not suppressed
    assert suppression.suppressed(owner.organization.pk, Channel.SMS, ["+9613123456"]) == set()


def test_erasing_someone_who_never_withdrew_leaves_nothing(owner) -> None:
    erase_person(actor=owner.user, person=sign_up(owner))
    assert not Suppression.objects.exists()


def test_an_import_cannot_resubscribe_a_suppressed_address(owner) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    # when an old list is imported again with "they agreed"
    again = sign_up(owner, source=ConsentSource.IMPORT)
    # then the address is back on the list, but not subscribed
    assert current_status(again, Channel.EMAIL) is None


def test_their_own_new_sign_up_lifts_the_suppression(owner) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    again = sign_up(owner, source=ConsentSource.FORM)
    assert current_status(again, Channel.EMAIL) == ConsentStatus.GRANTED
    assert not Suppression.objects.exists()


def test_suppressions_are_per_organization(owner, outsider) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    assert (
        suppression.suppressed(outsider.organization.pk, Channel.EMAIL, ["rania@example.org"])
        == set()
    )
    assert suppression.suppressed(owner.organization.pk, Channel.EMAIL, ["rania@example.org"]) == {
        "rania@example.org"
    }


def test_a_rotated_secret_key_still_recognizes_old_suppressions(owner, settings) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="n" * 60, SECRET_KEY_FALLBACKS=[old]):
        assert suppression.suppressed(
            owner.organization.pk, Channel.EMAIL, ["rania@example.org"]
        ) == {"rania@example.org"}


def test_an_unconfirmed_form_sign_up_does_not_lift_it(owner) -> None:
    from saha.supporters.consent import confirm_consent, confirmation_token
    from saha.supporters.models import ConsentRecord, PrivacySettings

    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    PrivacySettings.objects.create(organization=owner.organization, email_double_opt_in=True)
    # anyone can type the address into a public form: it waits for confirmation
    again = sign_up(owner, source=ConsentSource.FORM)
    assert current_status(again, Channel.EMAIL) == ConsentStatus.PENDING
    assert Suppression.objects.exists()
    # and an import meanwhile cannot use the pending sign-up to subscribe them
    sign_up(owner, source=ConsentSource.IMPORT)
    assert current_status(again, Channel.EMAIL) == ConsentStatus.PENDING
    # the owner of the address confirms: now it is lifted
    pending = ConsentRecord.objects.get(person=again, status=ConsentStatus.PENDING)
    confirm_consent(confirmation_token(pending))
    assert current_status(again, Channel.EMAIL) == ConsentStatus.GRANTED
    assert not Suppression.objects.exists()


def test_a_list_pushed_through_the_api_cannot_resubscribe_either(owner) -> None:
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    again = sign_up(owner, source=ConsentSource.API)
    assert current_status(again, Channel.EMAIL) is None
    assert Suppression.objects.exists()


def test_a_bulk_import_checks_the_contacts_the_person_already_has(
    owner, tmp_path, settings
) -> None:
    from saha.supporters import importing

    settings.SAHA_IMPORT_DIR = tmp_path / "imports"
    person = sign_up(owner)
    withdraw(person)
    erase_person(actor=owner.user, person=person)
    # she comes back without consent (an import with her address and phone)
    back = upsert_person(
        organization=owner.organization,
        actor=owner.user,
        data=PersonData(email="rania@example.org", phone="03123456"),
        source="import",
    ).person
    # then a file with only her phone, "they agreed to emails"
    data = b"Name,Phone\nRania,03123456\n"
    batch = receive_csv(owner, data)
    start_import(owner, batch, consent_email=True, consent_wording="News, please.")
    importing.run_import(batch.pk)
    assert current_status(back, Channel.EMAIL) is None
