"""Consent through the API, in one shape for every path that records it.

A `subscribed` status sent through the API is consent the ledger keeps with
source "api"; an `unsubscribed` one withdraws every purpose on the channel,
as the unsubscribe link does. The API shows the person nothing, so the words
the ledger keeps say who answers for the consent (the token, or the public
helper: a form on another website), in the organization's language, and
`source_ref` is that actor's audit label.

Every API path that records consent builds it here: the person signup helper
(`POST /people`), a PUT on a person, and the record helpers (attendances,
signatures).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation
from django.utils.translation import gettext as _

from saha.messaging.unsubscribe import all_purposes, withdraw
from saha.organizations.models import Organization
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import ConsentSource, Person

# The audit log's and the ledger's name for what came through a public helper (no token).
PUBLIC_HELPER = "api:public helper"
SUBSCRIBED, UNSUBSCRIBED = "subscribed", "unsubscribed"


def _grant_words(organization: Organization, actor: str, *, anonymous: bool) -> str:
    values = {"organization": organization.name, "token": actor}
    if anonymous:
        return _("Agreed through a form on another website (%(token)s).") % values
    return _("Agreed to hear from %(organization)s, as sent through the API (%(token)s).") % values


def api_grant(
    organization: Organization, channel: str, actor: str, *, anonymous: bool = False
) -> ConsentGrant:
    """The grant of `channel` that a `subscribed` status sent by `actor` stands for.

    `anonymous`: sent through a public helper, typed by anyone; the caller
    records it only for a person the call created (a stranger never turns
    someone's withdrawal back into consent).
    """
    language = organization.default_language
    with translation.override(language):
        wording = _grant_words(organization, actor, anonymous=anonymous)
    return ConsentGrant(
        channel=channel,
        wording=wording,
        source=ConsentSource.API,
        source_ref=actor,
        language=language,
    )


def grants(
    organization: Organization,
    statuses: Mapping[str, str],
    actor: str,
    *,
    anonymous: bool = False,
) -> list[ConsentGrant]:
    """The grants for each channel whose status (`{channel: status}`) is `subscribed`."""
    return [
        api_grant(organization, channel, actor, anonymous=anonymous)
        for channel, status in statuses.items()
        if status == SUBSCRIBED
    ]


def record_grants(person: Person, granted: list[ConsentGrant], actor: str) -> None:
    for grant in granted:
        record_consent(person=person, grant=grant, actor=actor)


def api_withdraw(person: Person, channel: str, actor: str) -> None:
    """An `unsubscribed` status from a token: every purpose on the channel, as the link does."""
    organization = person.organization
    language = organization.default_language
    with translation.override(language):
        wording = _("Unsubscribed through the API (%(token)s).") % {"token": actor}
    withdraw(
        person,
        channel=channel,
        purposes=all_purposes(person, channel),
        source=ConsentSource.API,
        source_ref=actor,
        wording=wording,
        language=language,
    )


def apply_statuses(person: Person, statuses: Mapping[str, str], actor: str) -> None:
    """A token's statuses on a person it may speak for: subscribe or unsubscribe each
    channel. The other statuses (bouncing, spam complaint) are Saha's to set, not a client's."""
    for channel, status in statuses.items():
        if status == SUBSCRIBED:
            record_consent(
                person=person, grant=api_grant(person.organization, channel, actor), actor=actor
            )
        elif status == UNSUBSCRIBED:
            api_withdraw(person, channel, actor)
