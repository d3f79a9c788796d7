"""How a recipient stops (or chooses) what they receive: every path writes the consent ledger.

The unsubscribe link, the one-click POST of RFC 8058, the mailto of
List-Unsubscribe, the preference page, an SMS keyword and a spam complaint
all end in `record_consent`, so the person's timeline shows each of them with
its source, and the outbox (which sends a broadcast only to people whose
consent for its channel and purpose is GRANTED) stops at once.

A delivery whose person was erased has nothing left to withdraw; the pages
still answer as if it had worked (the preference page as for a person with
nothing on), so that a link does not tell whoever holds it that the person
was erased.

A link proves that its holder reads the channel it came by, nothing more: on
the preference page it can start messages on that channel, and only stop
them on the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saha.core.tenancy import is_row_id
from saha.messaging import tokens
from saha.messaging.models import Broadcast, Delivery
from saha.messaging.purposes import purpose_label, purposes
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    ContactStatus,
    Person,
    PersonEmail,
    PersonPhone,
)

# "…by email", "…by SMS": how a sentence names the channel.
BY_CHANNEL: dict[str, str | Promise] = {
    Channel.EMAIL: gettext_lazy("by email"),
    Channel.SMS: gettext_lazy("by SMS"),
}
# The heading of each channel's choices on the preference page.
CHANNEL_HEADINGS: dict[str, str | Promise] = {
    Channel.EMAIL: gettext_lazy("By email"),
    Channel.SMS: gettext_lazy("By SMS"),
}
# Statuses a checkbox shows as ticked: a pending double opt-in was asked for.
WANTED = (ConsentStatus.GRANTED, ConsentStatus.PENDING)


# --- Language and words -------------------------------------------------------


def language_of(delivery: Delivery) -> str:
    """The recipient's language: the delivery's, the person's, else the organization's."""
    known = {code for code, _name in settings.LANGUAGES}
    person = delivery.person
    candidates = [
        delivery.language,
        person.language if person else "",
        delivery.organization.default_language,
    ]
    return next((code for code in candidates if code in known), settings.LANGUAGE_CODE)


def purpose_of(delivery: Delivery) -> str:
    """The purpose of the broadcast the delivery belongs to; transactional messages: the default."""
    purpose = (
        Broadcast.objects.filter(message_id=delivery.message_id)
        .values_list("purpose", flat=True)
        .first()
    )
    return purpose or DEFAULT_PURPOSE


def unsubscribe_question(delivery: Delivery, purpose: str) -> str:
    """What the unsubscribe page asks, in the active language; recorded as the words shown."""
    return _("Stop receiving “%(purpose)s” %(by_channel)s from %(organization)s?") % {
        "purpose": purpose_label(purpose),
        "by_channel": BY_CHANNEL.get(delivery.channel, delivery.channel),
        "organization": delivery.organization.name,
    }


def preference_wording(channel: str, purpose: str, wanted: bool) -> str:
    values = {"purpose": purpose_label(purpose), "by_channel": BY_CHANNEL.get(channel, channel)}
    if wanted:
        return _("Send me “%(purpose)s” %(by_channel)s.") % values
    return _("Stop sending me “%(purpose)s” %(by_channel)s.") % values


def delivery_id_of(token: str) -> int | None:
    """The delivery a token names, or None; never raises, whatever a URL or an email holds."""
    # hmac.compare_digest refuses non-ASCII text (a TypeError, so a 500).
    if not token.isascii() or len(token) > 100:
        return None
    delivery_id = tokens.read_token(token)
    return delivery_id if delivery_id is not None and is_row_id(delivery_id) else None


# --- Withdrawing --------------------------------------------------------------


def statuses(person: Person, channel: str) -> dict[str, str]:
    """The person's current status per purpose on a channel."""
    return dict(
        ConsentState.objects.filter(person=person, channel=channel).values_list("purpose", "status")
    )


def withdraw(
    person: Person,
    *,
    channel: str,
    purposes: Iterable[str],
    source: str,
    source_ref: str,
    wording: str,
    language: str,
) -> list[ConsentRecord]:
    """Withdraw consent on a channel for these purposes; those already withdrawn stay as they are.

    A purpose the person never agreed to is withdrawn too: an explicit "no"
    that an old spreadsheet imported later cannot overturn.
    """
    current = statuses(person, channel)
    records = []
    for purpose in dict.fromkeys(purposes):
        if current.get(purpose) == ConsentStatus.WITHDRAWN:
            continue  # a second click, a second STOP: nothing new to prove
        grant = ConsentGrant(
            channel=channel,
            purpose=purpose,
            status=ConsentStatus.WITHDRAWN,
            wording=wording,
            source=source,
            source_ref=source_ref,
            language=language,
        )
        record = record_consent(person=person, grant=grant)
        if record is not None:
            records.append(record)
    return records


def all_purposes(person: Person, channel: str) -> list[str]:
    """Every purpose Saha knows, and any other the person has a status for on this channel."""
    return [p.key for p in purposes()] + sorted(set(statuses(person, channel)))


def unsubscribe(
    delivery: Delivery,
    *,
    source: str = ConsentSource.UNSUBSCRIBE,
    source_ref: str = "",
    language: str = "",
) -> ConsentRecord | None:
    """Withdraw the consent this delivery relied on: its channel and its broadcast's purpose.

    `language` is the language of the page the person saw (the recipient's by
    default, for the one-click POST, which shows nothing). Returns the new
    record, or None when there was nothing to change: consent already
    withdrawn, or the person erased.
    """
    person = delivery.person
    if person is None:
        return None
    language = language or language_of(delivery)
    purpose = purpose_of(delivery)
    with translation.override(language):
        wording = unsubscribe_question(delivery, purpose)
    records = withdraw(
        person,
        channel=delivery.channel,
        purposes=[purpose],
        source=source,
        source_ref=source_ref or f"delivery:{delivery.pk}",
        wording=wording,
        language=language,
    )
    return records[0] if records else None


# --- The preference page ------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    channel: str
    purpose: str
    label: str | Promise  # lazy: the page translates it into the recipient's language
    status: str | None
    # Whether the link may turn it on: only on its own channel (see `set_preferences`).
    grantable: bool = True

    @property
    def name(self) -> str:
        """The checkbox's name in the form."""
        return f"{self.channel}:{self.purpose}"

    @property
    def checked(self) -> bool:
        return self.status in WANTED

    @property
    def pending(self) -> bool:
        return self.status == ConsentStatus.PENDING

    @property
    def editable(self) -> bool:
        """Whether the form offers it: anything the link may turn on, and anything on (to stop)."""
        return self.grantable or self.checked


@dataclass(frozen=True)
class ChannelChoices:
    channel: str
    heading: str | Promise
    contacts: list[str]  # masked: the link may have been forwarded
    choices: list[Choice] = field(default_factory=list)
    # A number whose owner replied STOP: SMS go to it again only after START.
    stopped_by_reply: bool = False
    # Not the link's channel: what is on can be stopped here, nothing started.
    withdraw_only: bool = False


# Mailbox providers shared by millions: their name identifies nobody. Any
# other domain may be a family's or a small organization's own, and is masked.
_PUBLIC_MAIL_DOMAINS = frozenset(
    {
        *("gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com"),
        *("icloud.com", "live.com", "proton.me", "protonmail.com"),
    }
)


_GMX = re.compile(r"gmx\.(?:[a-z]{2,4}|co\.uk)")


def _public_mail_domain(domain: str) -> bool:
    return domain in _PUBLIC_MAIL_DOMAINS or bool(_GMX.fullmatch(domain))


def mask_email(address: str) -> str:
    """ "s•••@e•••.org", "s•••@gmail.com": enough for its owner to recognise, too little for
    anyone else."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "•••"
    domain = domain.lower()
    if not _public_mail_domain(domain):
        _name, dot, tld = domain.rpartition(".")
        domain = f"{domain[:1]}•••{dot}{tld if dot else ''}"
    return f"{local[:1]}•••@{domain}"


def mask_phone(number: str) -> str:
    """ "+961 •••• 12": the country and the last two digits."""
    try:
        country = f"+{phonenumbers.parse(number).country_code} "
    except phonenumbers.NumberParseException:
        country = ""
    return f"{country}•••• {number[-2:]}"


def preferences(person: Person | None, *, link_channel: str) -> list[ChannelChoices]:
    """Per channel the person can be reached on, each purpose with its current status.

    `link_channel` is the channel of the message whose link opened the page:
    holding an email proves nothing about a phone, so consent on any other
    channel can be withdrawn from the page but not granted.
    """
    if person is None:
        return []
    emails = PersonEmail.objects.filter(person=person).order_by("-is_primary", "id")
    phones = PersonPhone.objects.filter(person=person, sms_capable=True).order_by(
        "-is_primary", "id"
    )
    reachable = {
        Channel.EMAIL: [mask_email(e.address) for e in emails],
        Channel.SMS: [mask_phone(p.number) for p in phones],
    }
    result = []
    for channel, contacts in reachable.items():
        if not contacts:
            continue
        current = statuses(person, channel)
        own = channel == link_channel
        choices = [
            Choice(channel, p.key, p.label, current.get(p.key), grantable=own) for p in purposes()
        ]
        stopped = channel == Channel.SMS and any(
            p.status == ContactStatus.UNSUBSCRIBED for p in phones
        )
        heading = CHANNEL_HEADINGS[channel]
        result.append(ChannelChoices(channel, heading, contacts, choices, stopped, not own))
    return result


def link_preferences(
    delivery: Delivery, submitted: Mapping[tuple[str, str], bool] | None = None
) -> list[ChannelChoices]:
    """What the preference page of this delivery's link shows.

    For an erased person, the page a person with nothing on would see, on the
    link's channel (with the choices just sent, as if saved): whoever holds
    the link must not learn that the person was erased.
    """
    if delivery.person is not None:
        return preferences(delivery.person, link_channel=delivery.channel)
    channel = delivery.channel
    submitted = submitted or {}
    choices = [
        Choice(
            channel,
            p.key,
            p.label,
            ConsentStatus.GRANTED if submitted.get((channel, p.key)) else None,
        )
        for p in purposes()
    ]
    return [ChannelChoices(channel, CHANNEL_HEADINGS.get(channel, channel), [], choices)]


def set_preferences(
    person: Person | None,
    choices: Mapping[tuple[str, str], bool],
    *,
    delivery: Delivery,
    language: str = "",
) -> list[ConsentRecord]:
    """Record each (channel, purpose) whose wanted state differs from the current one.

    Only what the preference page offers this person is considered, so a
    crafted form can neither grant consent on a channel they cannot be
    reached on nor on another channel than the link's. A grant on the page
    is the person's own choice (source PREFERENCES).
    """
    if person is None:
        return []
    language = language or language_of(delivery)
    offered = {
        (c.channel, c.purpose): c
        for group in preferences(person, link_channel=delivery.channel)
        for c in group.choices
    }
    records = []
    for key, wanted in choices.items():
        choice = offered.get(key)
        if choice is None or choice.checked == wanted or (wanted and not choice.grantable):
            continue
        with translation.override(language):
            wording = preference_wording(choice.channel, choice.purpose, wanted)
        grant = ConsentGrant(
            channel=choice.channel,
            purpose=choice.purpose,
            status=ConsentStatus.GRANTED if wanted else ConsentStatus.WITHDRAWN,
            wording=wording,
            source=ConsentSource.PREFERENCES,
            source_ref=f"delivery:{delivery.pk}",
            language=language,
        )
        record = record_consent(person=person, grant=grant)
        if record is not None:
            records.append(record)
    return records
