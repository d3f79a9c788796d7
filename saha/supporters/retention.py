"""Retention: each organization's rules for forgetting what it no longer needs.

Two rules, both fields of `PrivacySettings`, both run daily by the worker:

- forget people with no activity and no consent for N months: erased through
  `erase_people`, so later apps keep their totals right;
- drop phone numbers collected for an event N days after it.

A rule set to 0 is off, like an empty one: "after 0 days" would drop event
numbers on the morning of the event, and "after 0 months" would forget every
person without consent the moment they signed up.

Each rule that did something leaves one summary audit row (the erasures also
leave one row each). Every step re-checks its condition as it writes, so the
task is safe to run twice and against concurrent sign-ups.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from saha.core import audit
from saha.supporters.models import ConsentState, ConsentStatus, PersonPhone, PrivacySettings
from saha.supporters.services import erase_people

if TYPE_CHECKING:
    from saha.organizations.models import Organization

logger = logging.getLogger("saha.retention")

ACTOR = "system:retention"
PHONE_BATCH = 1000
# Consent that keeps a person: agreed, or asked to and not yet confirmed.
KEEPING_STATUSES = (ConsentStatus.GRANTED, ConsentStatus.PENDING)


@dataclass
class RetentionReport:
    organization_id: int
    people_forgotten: int = 0
    phones_dropped: int = 0


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` calendar months earlier (31 March - 1 = 28/29 February)."""
    years, month_index = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + years, month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def inactive_without_consent(cutoff: dt.datetime) -> Q:
    """People whose last activity is before `cutoff` and who hold no consent on any channel."""
    keeping = ConsentState.objects.filter(person=OuterRef("pk"), status__in=KEEPING_STATUSES)
    return Q(last_activity_at__lt=cutoff) & ~Q(Exists(keeping))


def apply_retention(
    *, organization: Organization, now: dt.datetime | None = None
) -> RetentionReport:
    """Apply the organization's retention rules as of `now`; returns what was removed."""
    now = now or timezone.now()
    report = RetentionReport(organization_id=organization.pk)
    rules = PrivacySettings.objects.filter(organization=organization).first()
    if rules is None:
        return report
    if rules.forget_inactive_after_months:
        report.people_forgotten = _forget_inactive(
            organization, rules.forget_inactive_after_months, now
        )
    if rules.drop_event_phones_after_days:
        report.phones_dropped = _drop_event_phones(
            organization, rules.drop_event_phones_after_days, now
        )
    return report


def _forget_inactive(organization: Organization, months: int, now: dt.datetime) -> int:
    cutoff = months_before(now, months)
    forgotten = erase_people(
        actor=ACTOR,
        organization=organization,
        people=inactive_without_consent(cutoff),
        reason=f"retention: no activity and no consent for {months} months",
    )
    if forgotten:
        audit.log(
            ACTOR,
            "supporters.retention.people_forgotten",
            data={"count": forgotten, "months": months, "inactive_since": cutoff.isoformat()},
            organization=organization,
        )
    return forgotten


def _drop_event_phones(organization: Organization, days: int, now: dt.datetime) -> int:
    # "N days after the event" counts in the organization's own calendar.
    today = now.astimezone(zoneinfo.ZoneInfo(organization.time_zone)).date()
    last_day = today - dt.timedelta(days=days)
    expired = PersonPhone.objects.for_org(organization).filter(
        collected_for_date__isnull=False, collected_for_date__lte=last_day
    )
    dropped, after = 0, 0
    while True:
        ids = list(
            expired.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:PHONE_BATCH]
        )
        if not ids:
            break
        after = ids[-1]
        # The condition again in the DELETE: a number given since outside an
        # event (its date cleared) stays.
        _, per_model = expired.filter(pk__in=ids).delete()
        dropped += per_model.get(PersonPhone._meta.label, 0)
    if dropped:
        audit.log(
            ACTOR,
            "supporters.retention.phones_dropped",
            data={"count": dropped, "days": days, "events_until": last_day.isoformat()},
            organization=organization,
        )
    return dropped


def apply_all_retention(now: dt.datetime | None = None) -> list[RetentionReport]:
    """Every organization with a rule; one organization's failure does not stop the others."""
    now = now or timezone.now()
    with_rules = (
        PrivacySettings.objects.filter(
            Q(forget_inactive_after_months__gt=0) | Q(drop_event_phones_after_days__gt=0)
        )
        .select_related("organization")
        .order_by("organization_id")
    )
    reports, failed = [], []
    for rules in with_rules:
        try:
            reports.append(apply_retention(organization=rules.organization, now=now))
        except Exception:
            logger.exception("Retention failed for organization %s", rules.organization_id)
            failed.append(rules.organization_id)
    if failed:
        # Fail the task so the failure shows, after the others had their turn.
        raise RuntimeError(f"Retention failed for organizations {failed}")
    return reports
