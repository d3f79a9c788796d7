"""A person's timeline: everything they did and every consent change, newest first.

Apps add what they know through `register`: a provider takes a person and
returns `Moment`s (a signature, an RSVP, a check-in). The supporters app
contributes the consent ledger and the audit entries about the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from saha.core.models import AuditEntry
from saha.supporters.models import ConsentRecord, Person


@dataclass(frozen=True)
class Moment:
    when: dt.datetime
    kind: str  # "consent", "audit", or the providing app's own word
    text: str
    detail: str = ""


Provider = Callable[[Person], Iterable[Moment]]
_PROVIDERS: list[Provider] = []
LIMIT = 200


def register(provider: Provider) -> Provider:
    _PROVIDERS.append(provider)
    return provider


def timeline(person: Person) -> list[Moment]:
    moments = [moment for provider in _PROVIDERS for moment in provider(person)]
    moments.sort(key=lambda m: m.when, reverse=True)
    return moments[:LIMIT]


@register
def consent_changes(person: Person) -> Iterable[Moment]:
    for record in ConsentRecord.objects.filter(person=person).order_by("-id")[:LIMIT]:
        yield Moment(
            when=record.created_at,
            kind="consent",
            text=_("%(channel)s: %(status)s (%(source)s)")
            % {
                "channel": record.get_channel_display(),
                "status": record.get_status_display(),
                "source": record.get_source_display(),
            },
            detail=record.wording,
        )


@register
def arrival(person: Person) -> Iterable[Moment]:
    """How the person came to the list, for everyone, imported ones included."""
    yield Moment(
        when=person.created_at,
        kind="created",
        text=_("Added (%(source)s)") % {"source": person.get_source_display()},
    )


# "supporters.person.created" is told by `arrival`, which also covers imports
# (written in bulk, without an audit row per person).
ACTION_TEXT = {
    "supporters.person.updated": _("Details edited"),
    "supporters.person.tagged": _("Tagged"),
    "supporters.person.untagged": _("Tag removed"),
    "supporters.person.merged": _("Merged with a duplicate"),
    "supporters.person.email_added": _("Email address added"),
    "supporters.person.email_removed": _("Email address removed"),
    "supporters.person.phone_added": _("Phone number added"),
    "supporters.person.phone_removed": _("Phone number removed"),
    "supporters.person.exported": _("Their data was exported"),
    "supporters.consent.confirmed": _("Confirmed their email address"),
    "supporters.consent.recorded": _("Consent changed by an organizer"),
}


@register
def audited_changes(person: Person) -> Iterable[Moment]:
    about = AuditEntry.objects.filter(
        organization_id=person.organization_id, target_type=person._meta.label_lower
    )
    # The history of people merged into this one is theirs too.
    ids = {str(person.pk)}
    frontier = {str(person.pk)}
    while frontier:
        merged = about.filter(action="supporters.person.merged", target_id__in=frontier)
        frontier = {str(e.data.get("merged")) for e in merged if e.data.get("merged")} - ids
        ids |= frontier
    entries = about.filter(target_id__in=ids).order_by("-id")[:LIMIT]
    for entry in entries:
        if entry.action == "supporters.person.created":
            continue
        text = ACTION_TEXT.get(entry.action, entry.action)
        detail = entry.data.get("tag") or entry.data.get("source") or ""
        yield Moment(when=entry.created, kind="audit", text=f"{text}", detail=f"{detail}")
