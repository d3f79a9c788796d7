"""Email over SMTP: one connection per batch, messages built here, DKIM-signed.

`open()` connects (SSL or STARTTLS, login) once; every `send` reuses that
connection for one MAIL / RCPT / DATA transaction, one recipient each.

Reconnecting is done once, and only when it cannot deliver a message twice.
A server that dropped an idle connection is noticed on the next MAIL FROM,
RCPT TO or DATA command: until the server has answered DATA with 354 and we
have sent the message, it has nothing it could deliver, so we reconnect and
run the transaction again. Once the message is sent, a dropped connection or
a timeout while waiting for the final reply is different: the server may have
queued the message and lost only its answer. That raises `OutcomeUnknown`, for
the outbox to settle; a resend keeps the same Message-ID (derived from the
delivery's reference), so receiving systems can tell the copies apart.

Errors: a 5xx reply to RCPT TO or DATA means this address or this message
will never go (`permanent=True`); a 5xx to MAIL FROM is about our sender, not
the recipient, so it is temporary, like every 4xx, refused connection and
timeout. A provider is not thread-safe: one per worker thread.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from saha.messaging.providers import OutcomeUnknown, mime
from saha.messaging.providers.base import Outgoing, ProviderError

# 7bit: non-ASCII bodies go as base64 or quoted-printable, which no relay
# rewrites, so a DKIM signature survives every hop.
POLICY = policy.SMTP.clone(cte_type="7bit")
DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
]
ADDRESS = re.compile(r"^[^\s<>@\",;()\[\]\\]+@[^\s<>@\",;()\[\]\\]+$")
# RFC 5322 dot-atom-text: what may stand left of the @ in a Message-ID.
MESSAGE_ID_LEFT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Composed:
    """A built email and its envelope."""

    data: bytes
    sender: str  # envelope MAIL FROM, ASCII
    recipient: str  # envelope RCPT TO, ASCII
    message_id: str  # without the angle brackets

    def as_bytes(self) -> bytes:
        return self.data

    @property
    def message(self) -> EmailMessage:
        """The email parsed back (for the console, the file and the tests)."""
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


def ascii_address(address: str, *, permanent: bool) -> tuple[str, str]:
    """(local part, IDNA domain), or ProviderError: user@مثال.lb -> user@xn--mgbh0fb.lb.

    A local part that is not ASCII would need SMTPUTF8, which we do not use.
    """
    address = address.strip()
    if not ADDRESS.match(address):
        raise ProviderError(f"{address!r} is not an email address.", permanent=permanent)
    local, _, domain = address.rpartition("@")
    try:
        local.encode("ascii")
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ProviderError(
            f"{address!r} cannot be sent without SMTPUTF8.", permanent=permanent
        ) from None
    return local, domain


def message_id_for(reference: str, domain: str) -> str:
    if not MESSAGE_ID_LEFT.match(reference):
        raise ValueError(f"The reference {reference!r} cannot be the left part of a Message-ID.")
    return f"{reference}@{domain}"


def sender_of(message: Outgoing, default_from: str) -> tuple[str, str]:
    """(display name, address) of the sender: the message's own, else the default."""
    if message.from_email:
        return message.from_name, message.from_email
    name, address = parseaddr(default_from)
    return message.from_name or name, address


def compose(message: Outgoing, default_from: str) -> Composed:
    """The email for `message`: text/plain, plus text/html as an alternative."""
    from_name, from_address = sender_of(message, default_from)
    from_local, from_domain = ascii_address(from_address, permanent=False)
    to_local, to_domain = ascii_address(message.to, permanent=True)
    message_id = message_id_for(message.reference, from_domain)
    reply_to = ""
    if message.reply_to:
        local, domain = ascii_address(message.reply_to, permanent=False)
        reply_to = f"{local}@{domain}"
    sender = f"{from_local}@{from_domain}"
    recipient = f"{to_local}@{to_domain}"
    data = mime.build(
        sender=mime.display_address(from_name, sender),
        recipient=recipient,
        message_id=message_id,
        subject=" ".join(message.subject.split()),
        text=message.body,
        html=message.html,
        reply_to=reply_to,
        language=message.language,
        headers=message.headers,
    )
    return Composed(data=data, sender=sender, recipient=recipient, message_id=message_id)


@dataclass(frozen=True)
class Dkim:
    """DKIM signing with one key: SAHA_DKIM_KEY_FILE, _SELECTOR and _DOMAIN."""

    selector: str
    domain: str
    private_key: bytes  # PEM

    def check(self) -> None:
        """Fail at start-up, not at the first message, on a key that cannot sign."""
        from django.core.exceptions import ImproperlyConfigured

        try:
            self.sign(b"From: a@example.org\r\nSubject: check\r\n\r\ncheck\r\n")
        except ProviderError as error:
            raise ImproperlyConfigured(f"SAHA_DKIM_KEY_FILE cannot sign: {error}") from None

    def sign(self, data: bytes) -> bytes:
        """`data` with a DKIM-Signature header in front."""
        import dkim

        try:
            signature = dkim.sign(
                data,
                self.selector.encode("ascii"),
                self.domain.encode("idna"),
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=DKIM_HEADERS,
            )
        except (dkim.DKIMException, ValueError) as error:
            raise ProviderError(f"DKIM signing failed: {error}") from error
        return bytes(signature) + data


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    timeout: float | None = DEFAULT_TIMEOUT
    certfile: str | None = None
    keyfile: str | None = None
    local_hostname: str | None = None


class _NothingSent(Exception):
    """The connection failed before the server had the message: safe to try again."""


class SmtpProvider:
    name = "smtp"
    channel = "email"

    def __init__(
        self, config: SmtpConfig, *, default_from: str, dkim: Dkim | None = None, rate: int = 0
    ) -> None:
        self.config = config
        self.default_from = default_from
        self.dkim = dkim
        self.rate = rate
        self.connections = 0  # opened so far
        self._connection: smtplib.SMTP | None = None

    def open(self) -> None:
        if self._connection is None:
            self._connection = self._connect()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def send(self, message: Outgoing) -> str:
        composed = compose(message, self.default_from)
        data = composed.as_bytes()
        if self.dkim is not None:
            data = self.dkim.sign(data)
        self.open()
        try:
            self._transact(composed, data)
        except _NothingSent:
            # The server dropped the connection (idle timeout, restart) before
            # it had the message: one fresh connection, one more try.
            self._drop()
            self.open()
            try:
                self._transact(composed, data)
            except _NothingSent as error:
                self._drop()
                raise ProviderError(f"The SMTP server closed the connection: {error}") from None
        return composed.message_id

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        timeout = config.timeout or DEFAULT_TIMEOUT
        connection: smtplib.SMTP | None = None
        try:
            if config.use_ssl:
                connection = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=config.local_hostname,
                    timeout=timeout,
                    context=self._ssl_context(),
                )
            else:
                connection = smtplib.SMTP(
                    config.host, config.port, local_hostname=config.local_hostname, timeout=timeout
                )
            connection.ehlo_or_helo_if_needed()
            if config.use_tls:
                connection.starttls(context=self._ssl_context())
                connection.ehlo()
            if config.username:
                connection.login(config.username, config.password)
        except (smtplib.SMTPException, OSError) as error:
            if connection is not None:
                connection.close()
            raise ProviderError(
                f"Cannot open an SMTP session with {config.host}:{config.port}: {error}"
            ) from error
        self.connections += 1
        return connection

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.certfile:
            context.load_cert_chain(self.config.certfile, self.config.keyfile)
        return context

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _transact(self, composed: Composed, data: bytes) -> None:
        connection = self._connection
        assert connection is not None
        try:
            code, reply = connection.mail(composed.sender)
            if code != 250:
                self._reset()
                raise _refused("MAIL FROM", code, reply, permanent=False)
            code, reply = connection.rcpt(composed.recipient)
            if code not in (250, 251):
                self._reset()
                raise _refused("RCPT TO", code, reply, permanent=code >= 500)
            code, reply = connection.docmd("DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise _NothingSent(str(error)) from error
        if code != 354:
            self._reset()
            raise _refused("DATA", code, reply, permanent=code >= 500)
        try:
            connection.send(_dot_stuffed(data))
            code, reply = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise OutcomeUnknown(
                f"The SMTP server did not answer after the message was sent: {error}"
            ) from error
        if code != 250:
            raise _refused("the message", code, reply, permanent=code >= 500)

    def _reset(self) -> None:
        """Clear a refused transaction, so the next message starts clean."""
        try:
            assert self._connection is not None
            self._connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _refused(stage: str, code: int, reply: bytes, *, permanent: bool) -> ProviderError:
    text = reply.decode("utf-8", errors="replace")
    return ProviderError(f"SMTP server refused {stage}: {code} {text}", permanent=permanent)


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: CRLF line ends, leading dots doubled, ended by a lone dot."""
    if b"\r" in data.replace(b"\r\n", b"") or b"\n" in data.replace(b"\r\n", b""):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"
