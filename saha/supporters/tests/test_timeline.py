"""A person's timeline: consent changes, audited changes and what other apps add, newest first."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone, translation

from saha.core import audit
from saha.core.models import AuditEntry
from saha.supporters import timeline
from saha.supporters.models import Channel, ConsentSource, ConsentStatus, Source
from saha.supporters.services import PersonData, tag_people, update_person, upsert_person
from saha.supporters.tests.people_factories import PersonFactory, consent
from saha.supporters.timeline import Moment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def rana(org_a, owner):
    person = upsert_person(
        organization=org_a,
        actor=owner.user,
        data=PersonData(email="rana@example.org", given_name="Rana"),
        source=Source.FORM,
    ).person
    tag_people(actor=owner.user, people=[person], names=["volunteers"])
    consent(person, Channel.EMAIL, source=ConsentSource.FORM, wording="Keep me informed.")
    consent(
        person, Channel.EMAIL, ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE, wording=""
    )
    return person


class TestTimeline:
    def test_what_happened_newest_first(self, rana) -> None:
        moments = timeline.timeline(rana)

        assert [(m.kind, m.text, m.detail) for m in moments] == [
            ("consent", "Email: Withdrawn (Unsubscribe link)", ""),
            ("consent", "Email: Agreed (Web form)", "Keep me informed."),
            ("audit", "Tagged", "volunteers"),
            ("created", "Added (Web form)", ""),
        ]
        whens = [m.when for m in moments]
        assert whens == sorted(whens, reverse=True)

    def test_an_edit_shows_without_its_values(self, rana, owner) -> None:
        update_person(actor=owner.user, person=rana, values={"region": "Beirut"}, custom_fields={})

        latest = timeline.timeline(rana)[0]

        assert (latest.kind, latest.text, latest.detail) == ("audit", "Details edited", "")

    def test_an_action_without_words_shows_its_name(self, rana) -> None:
        audit.log("system", "petitions.signature.created", rana)

        assert timeline.timeline(rana)[0].text == "petitions.signature.created"

    def test_only_this_persons_rows(self, org_a, org_b, rana) -> None:
        other = PersonFactory(organization=org_a)
        consent(other, Channel.SMS)
        audit.log("system", "supporters.person.tagged", other, {"tag": "donors"})
        # A row of another organization that happens to carry the same target id.
        AuditEntry.objects.create(
            organization=org_b,
            action="supporters.person.updated",
            target_type="supporters.person",
            target_id=str(rana.pk),
        )

        moments = timeline.timeline(rana)

        assert len(moments) == 4
        assert "donors" not in {m.detail for m in moments}
        assert "Details edited" not in {m.text for m in moments}

    def test_the_timeline_is_capped(self, rana, monkeypatch) -> None:
        monkeypatch.setattr(timeline, "LIMIT", 2)

        moments = timeline.timeline(rana)

        assert [m.text for m in moments] == [
            "Email: Withdrawn (Unsubscribe link)",
            "Email: Agreed (Web form)",
        ]

    def test_texts_are_plain_strings_ready_to_serialize(self, rana) -> None:
        # Lazy translations resolved when the timeline is built, not later.
        moments = timeline.timeline(rana)

        assert {type(m.text) for m in moments} == {str}
        assert json.dumps([m.text for m in moments])


class TestProviders:
    def test_another_app_adds_its_moments_in_their_place(self, rana) -> None:
        signed_at = timezone.now() - dt.timedelta(days=3650)

        def signatures(person):
            yield Moment(when=signed_at, kind="signature", text="Signed", detail="Clean the beach")

        timeline.register(signatures)
        try:
            moments = timeline.timeline(rana)
        finally:
            timeline._PROVIDERS.remove(signatures)

        assert len(moments) == 5
        assert moments[-1] == Moment(
            when=signed_at, kind="signature", text="Signed", detail="Clean the beach"
        )


def test_the_history_of_a_merged_duplicate_stays_on_the_kept_person(org_a, owner, rana) -> None:
    from saha.supporters.services import merge_people

    # given a duplicate with its own history, itself the result of a merge
    twin = upsert_person(
        organization=org_a,
        actor=owner.user,
        data=PersonData(email="rana.h@example.org"),
        source=Source.FORM,
    ).person
    older = upsert_person(
        organization=org_a, actor=owner.user, data=PersonData(phone="03123456"), source=Source.FORM
    ).person
    tag_people(actor=owner.user, people=[older], names=["drivers"])
    merge_people(actor=owner.user, kept=twin, other=older)
    # when the duplicate is merged into Rana
    merge_people(actor=owner.user, kept=rana, other=twin)
    # then Rana's timeline still tells that the oldest record was tagged
    details = [(m.text, m.detail) for m in timeline.timeline(rana) if m.kind == "audit"]
    assert ("Tagged", "drivers") in details
    assert [text for text, _detail in details].count("Merged with a duplicate") == 2


def test_consent_changed_by_hand_is_in_the_audit_log(owner, rana) -> None:
    from saha.supporters.consent import ConsentGrant, record_consent

    grant = ConsentGrant(
        channel=Channel.SMS, wording="Agreed by phone.", source=ConsentSource.MANUAL
    )
    record_consent(person=rana, grant=grant, actor=owner.user)
    entry = AuditEntry.objects.get(action="supporters.consent.recorded")
    assert entry.actor == owner.user and entry.data == {"channel": "sms", "status": "granted"}
