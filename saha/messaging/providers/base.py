"""The one interface every provider implements, and its one error type.

A provider sends an `Outgoing` message and answers with the id it gave the
message, or raises `ProviderError`. `permanent=True` means "this address will
never work" (a 5xx from SMTP, an invalid number): the delivery fails and the
address is marked; otherwise the outbox tries again later with back-off.

Providers are opened once per batch (`open`/`close`), so SMTP keeps one
connection for many messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ProviderError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One rendered message, ready for a provider.

    `reference` is stable for a delivery (it becomes the email's Message-ID
    and the SMS gateway's client reference), so a message resent after an
    unknown outcome can be recognised as the same one.
    """

    to: str
    body: str  # plain text, always present
    reference: str
    subject: str = ""
    html: str = ""
    from_email: str = ""
    from_name: str = ""
    reply_to: str = ""
    sender: str = ""  # SMS sender ID or number
    headers: dict[str, str] = field(default_factory=dict)
    language: str = ""


class Provider(Protocol):
    name: str
    channel: str

    def open(self) -> None: ...

    def send(self, message: Outgoing) -> str:
        """Hand over one message; return the provider's id for it."""
        ...

    def close(self) -> None: ...
