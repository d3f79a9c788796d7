"""The consent ledger: append-only proof, derived status, double opt-in."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.supporters.consent import (
    ConsentGrant,
    confirm_consent,
    confirmation_token,
    current_status,
    double_opt_in_requested,
    record_consent,
)
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    PrivacySettings,
    Source,
)
from saha.supporters.services import PersonData, merge_people, upsert_person
from saha.supporters.tests.people_factories import (
    PersonFactory,
    consent,
    postgres_only,
    run_at_once,
)

pytestmark = pytest.mark.django_db

WORDING = "Send me news of the campaign by email."


@pytest.fixture
def person(org_a):
    return PersonFactory(organization=org_a, email="rana@example.org")


@pytest.fixture
def double_opt_in(org_a):
    return PrivacySettings.objects.create(organization=org_a, email_double_opt_in=True)


@pytest.fixture
def confirmation_requests():
    """What the messaging app would hear: (record, token) per request."""
    heard = []

    def receiver(sender, record, token, **kwargs):
        heard.append((record, token))

    double_opt_in_requested.connect(receiver)
    yield heard
    double_opt_in_requested.disconnect(receiver)


def form_grant(**extra) -> ConsentGrant:
    return ConsentGrant(
        channel=Channel.EMAIL,
        wording=WORDING,
        source=ConsentSource.FORM,
        source_ref="https://saha.example/org-a/join",
        **extra,
    )


class TestLedger:
    def test_a_record_keeps_its_proof(self, person, owner) -> None:
        record = record_consent(person=person, grant=form_grant(language="ar"), actor=owner.user)

        assert record is not None
        assert (record.channel, record.status, record.source) == (
            Channel.EMAIL,
            ConsentStatus.GRANTED,
            ConsentSource.FORM,
        )
        assert record.wording == WORDING and record.language == "ar"
        assert record.source_ref == "https://saha.example/org-a/join"
        assert record.actor == owner.user and record.organization_id == person.organization_id

    def test_a_non_user_actor_is_not_stored_as_one(self, person) -> None:
        record = record_consent(person=person, grant=form_grant(), actor="system:worker")

        assert record is not None and record.actor is None

    def test_a_record_cannot_be_changed(self, person) -> None:
        record = consent(person)
        assert record is not None

        record.status = ConsentStatus.WITHDRAWN
        with pytest.raises(TypeError):
            record.save()
        with pytest.raises(TypeError):
            ConsentRecord.objects.filter(pk=record.pk).update(status=ConsentStatus.WITHDRAWN)

        assert ConsentRecord.objects.get().status == ConsentStatus.GRANTED

    def test_the_status_is_the_latest_record(self, person) -> None:
        assert current_status(person, Channel.EMAIL) is None

        granted = consent(person)
        withdrawn = consent(
            person, status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE
        )

        assert current_status(person, Channel.EMAIL) == ConsentStatus.WITHDRAWN
        assert list(ConsentRecord.objects.order_by("id")) == [granted, withdrawn]
        state = ConsentState.objects.get(person=person)
        assert state.record == withdrawn and state.updated_at == withdrawn.created_at

    def test_channels_and_purposes_are_separate(self, person) -> None:
        consent(person, Channel.EMAIL)
        consent(person, Channel.SMS, ConsentStatus.WITHDRAWN)
        consent(person, Channel.EMAIL, purpose="fundraising", status=ConsentStatus.WITHDRAWN)

        assert current_status(person, Channel.EMAIL) == ConsentStatus.GRANTED
        assert current_status(person, Channel.SMS) == ConsentStatus.WITHDRAWN
        assert current_status(person, Channel.EMAIL, "fundraising") == ConsentStatus.WITHDRAWN

    def test_the_same_grant_twice_is_recorded_once(self, person) -> None:
        assert consent(person) is not None
        assert consent(person) is None
        assert ConsentRecord.objects.count() == 1

    def test_new_words_are_new_proof(self, person) -> None:
        consent(person, wording="Old words.")

        assert consent(person, wording="New words.") is not None

        assert ConsentRecord.objects.count() == 2
        assert ConsentState.objects.get().record.wording == "New words."

    def test_an_import_never_grants_again_after_a_withdrawal(self, person) -> None:
        consent(person)
        consent(person, status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE)

        again = consent(person, source=ConsentSource.IMPORT, wording="From the 2024 list.")

        assert again is None
        assert current_status(person, Channel.EMAIL) == ConsentStatus.WITHDRAWN
        assert ConsentRecord.objects.count() == 2

    def test_the_person_themselves_can_agree_again_after_withdrawing(self, person) -> None:
        consent(person, status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE)

        assert record_consent(person=person, grant=form_grant()) is not None

        assert current_status(person, Channel.EMAIL) == ConsentStatus.GRANTED

    def test_a_language_code_too_long_for_its_column_is_cut(self, person) -> None:
        record = record_consent(person=person, grant=form_grant(language="english-united"))

        assert record is not None
        record.refresh_from_db()
        assert record.language == "english-"


class TestDoubleOptIn:
    def test_an_email_sign_up_waits_for_confirmation_and_asks_after_commit(
        self, org_a, double_opt_in, confirmation_requests, django_capture_on_commit_callbacks
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            person = upsert_person(
                organization=org_a,
                actor="anonymous",
                data=PersonData(email="rana@example.org", consents=[form_grant()]),
                source=Source.FORM,
            ).person
            assert confirmation_requests == []  # nothing is sent before the commit

        assert current_status(person, Channel.EMAIL) == ConsentStatus.PENDING
        assert len(callbacks) == 1
        callbacks[0]()
        [(record, token)] = confirmation_requests
        assert record.person_id == person.pk and record.status == ConsentStatus.PENDING
        assert isinstance(token, str) and token

    def test_following_the_link_grants(self, person, double_opt_in) -> None:
        pending = record_consent(person=person, grant=form_grant(language="fr"))
        assert pending is not None and pending.status == ConsentStatus.PENDING

        confirmed = confirm_consent(confirmation_token(pending))

        assert confirmed.status == ConsentStatus.GRANTED
        assert confirmed.source == ConsentSource.CONFIRMATION
        assert confirmed.source_ref == f"confirms:{pending.pk}"
        assert (confirmed.wording, confirmed.language) == (WORDING, "fr")
        assert current_status(person, Channel.EMAIL) == ConsentStatus.GRANTED
        entry = AuditEntry.objects.get(action="supporters.consent.confirmed")
        assert entry.target_id == str(person.pk) and entry.data == {"channel": Channel.EMAIL}

    def test_following_the_link_twice_records_one_confirmation(self, person, double_opt_in) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        token = confirmation_token(pending)

        first = confirm_consent(token)
        second = confirm_consent(token)

        assert first == second
        assert ConsentRecord.objects.filter(status=ConsentStatus.GRANTED).count() == 1

    def test_only_email_by_form_or_api_waits(self, person, double_opt_in) -> None:
        sms = consent(person, Channel.SMS, source=ConsentSource.FORM)
        imported = consent(person, Channel.EMAIL, source=ConsentSource.IMPORT)

        assert sms is not None and sms.status == ConsentStatus.GRANTED
        assert imported is not None and imported.status == ConsentStatus.GRANTED

    def test_a_confirmed_person_is_not_asked_again(
        self, person, double_opt_in, confirmation_requests, django_capture_on_commit_callbacks
    ) -> None:
        consent(person, source=ConsentSource.IMPORT, wording=WORDING)

        with django_capture_on_commit_callbacks(execute=True):
            again = record_consent(person=person, grant=form_grant())

        assert again is None and confirmation_requests == []
        assert current_status(person, Channel.EMAIL) == ConsentStatus.GRANTED

    def test_without_double_opt_in_a_form_grants_at_once(self, person) -> None:
        record = record_consent(person=person, grant=form_grant())

        assert record is not None and record.status == ConsentStatus.GRANTED

    def test_confirming_after_a_withdrawal_keeps_the_withdrawal(
        self, person, double_opt_in
    ) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        withdrawal = consent(
            person, status=ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE
        )

        outcome = confirm_consent(confirmation_token(pending))

        assert outcome == withdrawal
        assert current_status(person, Channel.EMAIL) == ConsentStatus.WITHDRAWN
        assert not ConsentRecord.objects.filter(status=ConsentStatus.GRANTED).exists()

    def test_the_link_still_works_after_the_person_was_merged(
        self, org_a, person, double_opt_in
    ) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        kept = PersonFactory(organization=org_a, phone="+9613123456")
        merge_people(actor="system", kept=kept, other=person)

        confirm_consent(confirmation_token(pending))

        assert current_status(kept, Channel.EMAIL) == ConsentStatus.GRANTED


class TestBadLinks:
    def invalid(self, token: str) -> None:
        with pytest.raises(DomainError) as caught:
            confirm_consent(token)
        assert caught.value.code == "consent_link_invalid"

    def test_garbage_is_refused(self, person) -> None:
        self.invalid("not-a-token")
        self.invalid("")

    def test_a_tampered_token_is_refused(self, person, double_opt_in) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        token = confirmation_token(pending)

        self.invalid(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
        assert current_status(person, Channel.EMAIL) == ConsentStatus.PENDING

    def test_a_token_signed_for_another_purpose_is_refused(self, person, double_opt_in) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None

        self.invalid(signing.dumps({"r": pending.pk, "p": person.pk}))  # default salt

    def test_an_expired_token_is_refused(self, person, double_opt_in, monkeypatch) -> None:
        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        long_ago = time.time() - 31 * 24 * 3600
        monkeypatch.setattr(signing.time, "time", lambda: long_ago)
        token = confirmation_token(pending)
        monkeypatch.undo()

        self.invalid(token)
        assert current_status(person, Channel.EMAIL) == ConsentStatus.PENDING

    def test_a_token_for_a_record_that_is_not_pending_is_refused(self, person) -> None:
        granted = consent(person)
        assert granted is not None

        self.invalid(confirmation_token(granted))

    def test_a_token_for_an_erased_person_is_refused(self, person, double_opt_in) -> None:
        from saha.supporters.services import erase_person

        pending = record_consent(person=person, grant=form_grant())
        assert pending is not None
        token = confirmation_token(pending)
        erase_person(actor="system", person=person)

        self.invalid(token)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_first_grant_at_once_is_recorded_once(org_a) -> None:
    person = PersonFactory(organization=org_a, email="rana@example.org")

    _, errors = run_at_once(8, lambda i: consent(person, source=ConsentSource.FORM))

    assert errors == []
    assert ConsentRecord.objects.count() == 1
    assert ConsentState.objects.get().status == ConsentStatus.GRANTED
