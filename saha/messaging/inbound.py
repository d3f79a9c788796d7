"""What comes back: SMS keywords, bounce and complaint reports, unsubscribe emails.

Each arrives through a webhook of the organization (`views/public.py`) and
ends here, scoped to that organization: a report naming another
organization's message or number finds nothing.

- An SMS "STOP" (in English, French or Arabic) withdraws SMS consent for every
  purpose and marks the number UNSUBSCRIBED, which is also what the carrier
  or gateway does on its side; "START" undoes exactly that.
- A permanent bounce marks the address BOUNCING; a complaint marks it
  COMPLAINED and withdraws email consent for every purpose.
- An email to the List-Unsubscribe mailto is the one-click link by mail.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.utils
import re
import unicodedata
from email.message import Message as EmailMessage

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from saha.messaging.contacts import set_contact_status
from saha.messaging.models import Delivery
from saha.messaging.unsubscribe import all_purposes, delivery_id_of, unsubscribe, withdraw
from saha.organizations.models import Organization
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    Channel,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    ContactStatus,
    Person,
    PersonEmail,
    PersonPhone,
)
from saha.supporters.text import clean_text, normalize_email, normalize_name, normalize_phone

# --- SMS keywords -------------------------------------------------------------

STOP, START = "stop", "start"
# Compared after `normalize_name`: case, accents, Arabic marks and alef forms folded.
_STOP_WORDS = [
    *("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    *("ARRET", "ARRÊT", "DESABONNER", "DÉSABONNER"),
    *("توقف", "قف", "الغاء", "إلغاء", "ايقاف", "إيقاف", "الغاء الاشتراك", "إلغاء الاشتراك"),
]
_START_WORDS = ["START", "UNSTOP", "اشتراك"]
# A keyword is the whole message, as carriers and gateways match it: "Stop by
# the stand tomorrow" or "Cancel my RSVP" are not a STOP. Words may be
# followed by a little punctuation or an emoji ("Stop.", "STOP 🙏").
_KEYWORD_MESSAGE = re.compile(r"(\w+(?: \w+)*)\W{0,8}")


def _keyword_form(text: str) -> str:
    """The message as a keyword is compared: folded, its words joined by single spaces."""
    return " ".join(re.findall(r"\w+", normalize_name(text)))


STOP_KEYWORDS = frozenset(_keyword_form(word) for word in _STOP_WORDS)
START_KEYWORDS = frozenset(_keyword_form(word) for word in _START_WORDS)


def keyword_of(body: str) -> str | None:
    """STOP when the whole message is a stop keyword, START for a start keyword, else None."""
    match = _KEYWORD_MESSAGE.fullmatch(normalize_name(body[:200]))
    if match is None:
        return None
    if match.group(1) in STOP_KEYWORDS:
        return STOP
    if match.group(1) in START_KEYWORDS:
        return START
    return None


# --- Text from outside ----------------------------------------------------------

# RFC 5322's longest line: no address or Message-ID a provider reports is longer.
MAX_TEXT = 998


def text_problem(value: str) -> str:
    """What would make the database refuse a string (NUL in PostgreSQL, a lone surrogate in
    SQLite's encoder) or a report absurd (its length); "" when it is fine."""
    if len(value) > MAX_TEXT:
        return f"is longer than {MAX_TEXT} characters"
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return ""


def storable(text: str, limit: int) -> str:
    """The text without control characters or lone surrogates, spaces collapsed, cut to `limit`."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text[: limit * 4]
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    return clean_text(kept)[:limit]


def _language(person: Person | None, organization: Organization) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    for code in (person.language if person else "", organization.default_language):
        if code in known:
            return code
    return settings.LANGUAGE_CODE


def handle_inbound_sms(organization: Organization, from_number: str, body: str) -> str:
    """Act on a keyword from one of the organization's people; returns the reply, or "" for none.

    A number nobody holds, or a message that is no keyword, gets no reply:
    the organization pays for every SMS, and an answer would tell a stranger
    that the number is on a list.
    """
    phone = normalize_phone(from_number or "")
    keyword = keyword_of(body or "")
    if phone is None or keyword is None:
        return ""
    owner = (
        PersonPhone.objects.filter(organization=organization, number=phone.number)
        .select_related("person")
        .first()
    )
    if owner is None:
        return ""
    person = owner.person
    language = _language(person, organization)
    # The words are the proof of the choice: kept as sent, less what no database stores.
    words = storable(body or "", 160)
    with transaction.atomic():
        if keyword == STOP:
            _stop_sms(person, owner, words, language)
        elif not _start_sms(person, owner, words, language):
            return ""
    with translation.override(language):
        if keyword == STOP:
            reply = _(
                "You will receive no more SMS from %(organization)s. "
                "Reply START to receive them again."
            )
        else:
            reply = _("You will receive SMS from %(organization)s again. Reply STOP to stop.")
        return reply % {"organization": organization.name}


def _stop_sms(person: Person, phone: PersonPhone, words: str, language: str) -> None:
    withdraw(
        person,
        channel=Channel.SMS,
        purposes=all_purposes(person, Channel.SMS),
        source=ConsentSource.SMS_REPLY,
        source_ref=f"sms:{phone.number[-4:]}",
        wording=words,
        language=language,
    )
    set_contact_status(phone.organization_id, Channel.SMS, phone.number, ContactStatus.UNSUBSCRIBED)


def _start_sms(person: Person, phone: PersonPhone, words: str, language: str) -> bool:
    """Undo a STOP: re-grant what a reply withdrew, nothing the person withdrew otherwise."""
    stopped = ConsentState.objects.filter(
        person=person,
        channel=Channel.SMS,
        status=ConsentStatus.WITHDRAWN,
        record__source=ConsentSource.SMS_REPLY,
    ).values_list("purpose", flat=True)
    changed = False
    for purpose in list(stopped):
        grant = ConsentGrant(
            channel=Channel.SMS,
            purpose=purpose,
            wording=words,
            source=ConsentSource.SMS_REPLY,
            source_ref=f"sms:{phone.number[-4:]}",
            language=language,
        )
        changed |= record_consent(person=person, grant=grant) is not None
    # Only a number that a STOP unsubscribed: not one that bounces.
    changed |= bool(
        PersonPhone.objects.filter(pk=phone.pk, status=ContactStatus.UNSUBSCRIBED).update(
            status=ContactStatus.SUBSCRIBED
        )
    )
    return changed


# --- Email events: bounces, complaints, unsubscribes ---------------------------

BOUNCE, COMPLAINT, UNSUBSCRIBE = "bounce", "complaint", "unsubscribe"
EMAIL_EVENTS = (BOUNCE, COMPLAINT, UNSUBSCRIBE)


def delivery_by_message_id(organization: Organization, message_id: str | None) -> Delivery | None:
    """The organization's email delivery with this Message-ID (with or without its brackets)."""
    provider_id = (message_id or "").strip().strip("<>").strip()
    if not provider_id:
        return None
    return (
        Delivery.objects.filter(
            organization=organization, channel=Channel.EMAIL, provider_id=provider_id
        )
        .select_related("person", "organization")
        .order_by("-id")
        .first()
    )


def handle_email_event(
    organization: Organization,
    *,
    kind: str,
    address: str | None = None,
    message_id: str | None = None,
    permanent: bool = True,
) -> str:
    """Act on a provider's report; returns what happened: bounced, complained, unsubscribed,
    ignored (a temporary bounce) or unknown (no such message or address here)."""
    if kind not in EMAIL_EVENTS:
        raise ValueError(f"unknown email event {kind!r}")
    if kind == BOUNCE and not permanent:
        return "ignored"  # the outbox retries; a full mailbox is not a dead one
    # The webhook refuses these with a reason; here they simply find nothing.
    message_id = message_id if message_id and not text_problem(message_id) else None
    address = address if address and not text_problem(address) else None
    delivery = delivery_by_message_id(organization, message_id)
    found = normalize_email((delivery.address if delivery else "") or address or "")
    contact = (
        PersonEmail.objects.filter(organization=organization, address=found)
        .select_related("person")
        .first()
        if found
        else None
    )
    person = delivery.person if delivery else (contact.person if contact else None)
    if delivery is None and contact is None:
        return "unknown"
    with transaction.atomic():
        if kind == BOUNCE:
            return _bounced(organization, contact)
        if kind == COMPLAINT:
            return _complained(organization, contact, person, delivery)
        return _unsubscribed(organization, person, delivery)


def _bounced(organization: Organization, contact: PersonEmail | None) -> str:
    # A complaint says more than a bounce about what the owner wants: keep it.
    if contact is not None and contact.status != ContactStatus.COMPLAINED:
        set_contact_status(organization.pk, Channel.EMAIL, contact.address, ContactStatus.BOUNCING)
    return "bounced"


def _complained(
    organization: Organization,
    contact: PersonEmail | None,
    person: Person | None,
    delivery: Delivery | None,
) -> str:
    if contact is not None:
        set_contact_status(
            organization.pk, Channel.EMAIL, contact.address, ContactStatus.COMPLAINED
        )
    if person is not None:
        language = _language(person, organization)
        with translation.override(language):
            wording = _("Reported an email from %(organization)s as spam.") % {
                "organization": organization.name
            }
        withdraw(
            person,
            channel=Channel.EMAIL,
            purposes=all_purposes(person, Channel.EMAIL),
            source=ConsentSource.COMPLAINT,
            source_ref=f"delivery:{delivery.pk}" if delivery else "email-event",
            wording=wording,
            language=language,
        )
    return "complained"


def _unsubscribed(
    organization: Organization, person: Person | None, delivery: Delivery | None
) -> str:
    if delivery is not None:
        unsubscribe(delivery, source_ref=f"email-event:delivery:{delivery.pk}")
    elif person is not None:
        # Without the message there is no telling which purpose: all of them.
        language = _language(person, organization)
        with translation.override(language):
            wording = _("Unsubscribed from %(organization)s through their email program.") % {
                "organization": organization.name
            }
        withdraw(
            person,
            channel=Channel.EMAIL,
            purposes=all_purposes(person, Channel.EMAIL),
            source=ConsentSource.UNSUBSCRIBE,
            source_ref="email-event",
            wording=wording,
            language=language,
        )
    return "unsubscribed"


# --- The List-Unsubscribe mailto ----------------------------------------------

_IN_SUBJECT = re.compile(r"unsubscribe\s+([^\s@<>]+)", re.IGNORECASE)
_IN_ADDRESS = re.compile(r"^[^+@]*\+([^@]+)@")
MAX_TOKENS = 20
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def _subject(message: EmailMessage) -> str:
    value = message.get("Subject", "")
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, UnicodeError, email.errors.HeaderParseError, ValueError):
        return str(value)


def tokens_in(raw: bytes) -> list[str]:
    """Candidate tokens: "unsubscribe <token>" in the subject, "…+<token>@" in the recipients."""
    try:
        message = email.message_from_bytes(raw)
    except (ValueError, TypeError, IndexError):
        return []
    found = _IN_SUBJECT.findall(_subject(message))
    headers = [str(v) for name in _ADDRESS_HEADERS for v in message.get_all(name, [])]
    for _name, address in email.utils.getaddresses(headers):
        match = _IN_ADDRESS.match(address)
        if match:
            found.append(match.group(1))
    # A few are plenty: a real reply names one token, maybe twice.
    return list(dict.fromkeys(token.strip(".,;") for token in found))[:MAX_TOKENS]


def handle_unsubscribe_email(organization: Organization, raw_message: bytes) -> str:
    """Unsubscribe the delivery a mailto unsubscribe names: "unsubscribed" or "unknown"."""
    for token in tokens_in(raw_message):
        delivery_id = delivery_id_of(token)
        if delivery_id is None:
            continue
        delivery = (
            Delivery.objects.filter(organization=organization, pk=delivery_id)
            .select_related("person", "organization")
            .first()
        )
        if delivery is not None:
            unsubscribe(delivery, source_ref=f"mailto:delivery:{delivery.pk}")
            return "unsubscribed"
    return "unknown"
