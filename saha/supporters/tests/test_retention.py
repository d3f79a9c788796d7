"""Retention: forgetting inactive people without consent, dropping event phone numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from saha.core.jobs import registered_periodic
from saha.core.models import AuditEntry
from saha.supporters import retention
from saha.supporters.models import (
    Channel,
    ConsentSource,
    ConsentStatus,
    Person,
    PersonPhone,
    PrivacySettings,
    Source,
)
from saha.supporters.retention import (
    RetentionReport,
    apply_all_retention,
    apply_retention,
    months_before,
)
from saha.supporters.services import PersonData, merge_people, person_erasing, upsert_person
from saha.supporters.tasks import apply_retention_rules
from saha.supporters.tests.people_factories import PersonFactory, PhoneFactory, consent
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 31, 9, 0, tzinfo=dt.UTC)
SIX_MONTHS_BEFORE = dt.datetime(2025, 9, 30, 9, 0, tzinfo=dt.UTC)


def rules(organization, *, months=None, days=None) -> PrivacySettings:
    return PrivacySettings.objects.create(
        organization=organization,
        forget_inactive_after_months=months,
        drop_event_phones_after_days=days,
    )


def inactive_since(organization, moment, **fields) -> Person:
    return PersonFactory(organization=organization, last_activity_at=moment, **fields)


def remaining(organization) -> set[str]:
    return set(Person.objects.for_org(organization).values_list("given_name", flat=True))


class TestMonths:
    @pytest.mark.parametrize(
        ("moment", "months", "expected"),
        [
            (
                dt.datetime(2026, 3, 31, 9, tzinfo=dt.UTC),
                1,
                dt.datetime(2026, 2, 28, 9, tzinfo=dt.UTC),
            ),
            (
                dt.datetime(2024, 3, 31, 9, tzinfo=dt.UTC),
                1,
                dt.datetime(2024, 2, 29, 9, tzinfo=dt.UTC),
            ),
            (
                dt.datetime(2026, 1, 15, 9, tzinfo=dt.UTC),
                1,
                dt.datetime(2025, 12, 15, 9, tzinfo=dt.UTC),
            ),
            (dt.datetime(2026, 3, 31, 9, tzinfo=dt.UTC), 6, SIX_MONTHS_BEFORE),
            (
                dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC),
                12,
                dt.datetime(2025, 3, 15, 9, tzinfo=dt.UTC),
            ),
            (
                dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC),
                25,
                dt.datetime(2024, 2, 15, 9, tzinfo=dt.UTC),
            ),
            (
                dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC),
                0,
                dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC),
            ),
        ],
    )
    def test_calendar_months(self, moment, months, expected) -> None:
        assert months_before(moment, months) == expected


class TestForgettingInactivePeople:
    def test_inactive_people_without_consent_are_forgotten(self, org_a, org_b) -> None:
        rules(org_a, months=6)
        long_ago = SIX_MONTHS_BEFORE - dt.timedelta(days=1)
        inactive_since(org_a, long_ago, given_name="silent")
        withdrew = inactive_since(org_a, long_ago, given_name="withdrew")
        consent(withdrew, Channel.EMAIL)
        consent(withdrew, Channel.EMAIL, ConsentStatus.WITHDRAWN, source=ConsentSource.UNSUBSCRIBE)
        consent(inactive_since(org_a, long_ago, given_name="sms"), Channel.SMS)
        consent(inactive_since(org_a, long_ago, given_name="pending"), status=ConsentStatus.PENDING)
        inactive_since(org_a, SIX_MONTHS_BEFORE + dt.timedelta(days=1), given_name="recent")
        inactive_since(org_a, SIX_MONTHS_BEFORE, given_name="to the minute")
        inactive_since(org_b, long_ago, given_name="elsewhere")

        report = apply_retention(organization=org_a, now=NOW)

        assert report == RetentionReport(organization_id=org_a.pk, people_forgotten=2)
        assert remaining(org_a) == {"sms", "pending", "recent", "to the minute"}
        assert remaining(org_b) == {"elsewhere"}

    def test_one_summary_row_and_one_erasure_row_per_person(self, org_a) -> None:
        rules(org_a, months=6)
        gone = [inactive_since(org_a, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) for _ in range(3)]

        apply_retention(organization=org_a, now=NOW)

        summary = AuditEntry.objects.get(action="supporters.retention.people_forgotten")
        assert summary.organization == org_a and summary.actor_label == "system:retention"
        assert summary.data == {
            "count": 3,
            "months": 6,
            "inactive_since": SIX_MONTHS_BEFORE.isoformat(),
        }
        erased = AuditEntry.objects.filter(action="supporters.person.erased")
        assert sorted(int(e.target_id) for e in erased) == sorted(p.pk for p in gone)
        assert {e.actor_label for e in erased} == {"system:retention"}
        assert all("6 months" in e.data["reason"] for e in erased)

    def test_later_apps_hear_each_erasure_to_keep_their_totals(self, org_a) -> None:
        rules(org_a, months=6)
        person = inactive_since(org_a, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        heard = []

        def receiver(sender, person, **kwargs):
            heard.append(person.pk)

        person_erasing.connect(receiver)
        try:
            apply_retention(organization=org_a, now=NOW)
        finally:
            person_erasing.disconnect(receiver)

        assert heard == [person.pk]

    def test_signing_up_again_is_activity(self, org_a) -> None:
        rules(org_a, months=6)
        person = inactive_since(
            org_a, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), email="r@example.org"
        )

        upsert_person(
            organization=org_a,
            actor="anonymous",
            data=PersonData(email="r@example.org"),
            source=Source.PETITION,
        )
        apply_retention(organization=org_a, now=dt.datetime.now(dt.UTC))

        assert Person.objects.filter(pk=person.pk).exists()

    def test_an_organizers_merge_is_not_activity(self, org_a) -> None:
        rules(org_a, months=6)
        long_ago = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        kept = inactive_since(org_a, long_ago)
        merge_people(actor="system", kept=kept, other=inactive_since(org_a, long_ago))

        report = apply_retention(organization=org_a, now=dt.datetime.now(dt.UTC))

        assert report.people_forgotten == 1
        assert not Person.objects.for_org(org_a).exists()


class TestDroppingEventPhones:
    def phone(self, person, number, collected_for) -> PersonPhone:
        return PhoneFactory(person=person, number=number, collected_for_date=collected_for)

    def test_numbers_go_the_given_days_after_their_event(self, org_a, org_b) -> None:
        rules(org_a, days=7)
        person = PersonFactory(organization=org_a, email="rana@example.org")
        self.phone(person, "+9613000001", dt.date(2026, 3, 24))  # 7 days before 31 March
        self.phone(person, "+9613000002", dt.date(2026, 1, 1))
        self.phone(person, "+9613000003", dt.date(2026, 3, 25))
        self.phone(person, "+9613000004", None)  # given outside an event
        self.phone(PersonFactory(organization=org_b), "+9613000005", dt.date(2026, 1, 1))

        report = apply_retention(organization=org_a, now=NOW)

        assert report == RetentionReport(organization_id=org_a.pk, phones_dropped=2)
        assert set(PersonPhone.objects.values_list("number", flat=True)) == {
            "+9613000003",
            "+9613000004",
            "+9613000005",
        }
        assert Person.objects.filter(pk=person.pk).exists()
        summary = AuditEntry.objects.get(action="supporters.retention.phones_dropped")
        assert (summary.organization, summary.actor_label) == (org_a, "system:retention")
        assert summary.data == {"count": 2, "days": 7, "events_until": "2026-03-24"}

    def test_days_are_counted_in_the_organizations_time_zone(self) -> None:
        beirut = OrganizationFactory(time_zone="Asia/Beirut")
        rules(beirut, days=7)
        self.phone(PersonFactory(organization=beirut), "+9613000001", dt.date(2026, 3, 24))
        # 22:30 UTC on 30 March is already 31 March in Beirut (UTC+3).
        late_evening_utc = dt.datetime(2026, 3, 30, 22, 30, tzinfo=dt.UTC)

        report = apply_retention(organization=beirut, now=late_evening_utc)

        assert report.phones_dropped == 1

    def test_in_batches(self, org_a, monkeypatch) -> None:
        monkeypatch.setattr(retention, "PHONE_BATCH", 2)
        rules(org_a, days=1)
        person = PersonFactory(organization=org_a)
        for i in range(5):
            self.phone(person, f"+961300000{i}", dt.date(2026, 1, 1))

        assert apply_retention(organization=org_a, now=NOW).phones_dropped == 5
        assert not PersonPhone.objects.exists()
        assert (
            AuditEntry.objects.get(action="supporters.retention.phones_dropped").data["count"] == 5
        )


class TestRules:
    def test_without_rules_nothing_happens(self, org_a) -> None:
        person = inactive_since(org_a, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        PhoneFactory(person=person, collected_for_date=dt.date(2020, 1, 1))

        assert apply_retention(organization=org_a, now=NOW) == RetentionReport(org_a.pk)
        rules(org_a)
        assert apply_retention(organization=org_a, now=NOW) == RetentionReport(org_a.pk)

        assert PersonPhone.objects.filter(person=person).exists()
        assert not AuditEntry.objects.filter(action__startswith="supporters.").exists()

    def test_a_rule_of_zero_is_off(self, org_a) -> None:
        rules(org_a, months=0, days=0)
        person = inactive_since(org_a, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        PhoneFactory(person=person, collected_for_date=NOW.date())

        assert apply_retention(organization=org_a, now=NOW) == RetentionReport(org_a.pk)
        assert PersonPhone.objects.filter(person=person).exists()

    def test_a_rule_that_finds_nothing_leaves_no_summary(self, org_a) -> None:
        rules(org_a, months=6, days=7)
        inactive_since(org_a, NOW - dt.timedelta(days=1))

        apply_retention(organization=org_a, now=NOW)

        assert not AuditEntry.objects.filter(action__startswith="supporters.retention").exists()

    def test_running_twice_removes_nothing_more(self, org_a) -> None:
        rules(org_a, months=6, days=7)
        person = inactive_since(org_a, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        PhoneFactory(
            person=PersonFactory(organization=org_a), collected_for_date=dt.date(2026, 1, 1)
        )

        first = apply_retention(organization=org_a, now=NOW)
        second = apply_retention(organization=org_a, now=NOW)

        assert (first.people_forgotten, first.phones_dropped) == (1, 1)
        assert second == RetentionReport(org_a.pk)
        assert not Person.objects.filter(pk=person.pk).exists()
        assert AuditEntry.objects.filter(action__startswith="supporters.retention").count() == 2


class TestEveryOrganization:
    def test_each_organization_with_rules_under_its_own(self, org_a, org_b) -> None:
        third = OrganizationFactory()
        rules(org_a, months=6)
        rules(third, days=7)
        rules(org_b)  # settings saved, no rule
        long_ago = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        for organization in (org_a, org_b, third):
            person = inactive_since(organization, long_ago)
            PhoneFactory(person=person, collected_for_date=dt.date(2026, 1, 1))

        reports = apply_all_retention(now=NOW)

        assert reports == [
            RetentionReport(org_a.pk, people_forgotten=1),
            RetentionReport(third.pk, phones_dropped=1),
        ]
        assert Person.objects.for_org(org_b).count() == 1
        assert PersonPhone.objects.for_org(org_b).count() == 1

    def test_one_organizations_failure_does_not_stop_the_others(
        self, org_a, org_b, monkeypatch
    ) -> None:
        rules(org_a, months=6)
        rules(org_b, months=6)
        inactive_since(org_b, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        real_apply = retention.apply_retention

        def failing_for_a(*, organization, now=None):
            if organization == org_a:
                raise RuntimeError("disk full")
            return real_apply(organization=organization, now=now)

        monkeypatch.setattr(retention, "apply_retention", failing_for_a)

        with pytest.raises(RuntimeError, match=str(org_a.pk)):
            apply_all_retention(now=NOW)

        assert not Person.objects.for_org(org_b).exists()


class TestTask:
    def test_the_worker_runs_it_daily(self) -> None:
        [job] = [j for j in registered_periodic() if j.task is apply_retention_rules]

        assert job.every == dt.timedelta(hours=24)

    def test_the_task_applies_every_organizations_rules(self, org_a) -> None:
        rules(org_a, months=6, days=7)
        person = inactive_since(org_a, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        PhoneFactory(
            person=PersonFactory(organization=org_a), collected_for_date=dt.date(2020, 1, 1)
        )

        result = apply_retention_rules.enqueue()

        assert result.return_value == {
            "organizations": 1,
            "people_forgotten": 1,
            "phones_dropped": 1,
        }
        assert not Person.objects.filter(pk=person.pk).exists()
