"""A real SMTP server on loopback, for tests: aiosmtpd in a thread.

    with LoopbackSMTP() as server:
        ...  # send to 127.0.0.1:server.port
        server.wait_for(1)
        assert server.messages[0].message["Subject"] == "..."

It records every message (envelope, raw bytes, Message-ID), counts the
connections it accepted, and can be told to refuse a recipient with a given
code (`fail("x@example.org", 550)`, at RCPT TO or after DATA), to drop the
connection after a message's data arrived without answering (`drop=True`: the
sender cannot know whether it was accepted), or to close every open
connection (`drop_connections()`, as a server restarting would). With
`credentials=("user", "pass")` it offers AUTH (without TLS, on loopback).

The `smtp_server` fixture in saha.testing.fixtures points EMAIL_* at one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
MESSAGE_ID = re.compile(rb"(?im)^message-id:\s*<?([^>\r\n]*)>?")


@dataclass(frozen=True)
class ReceivedEmail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message_id: str  # without the angle brackets
    connection: int  # 1 for the first connection the server accepted, and so on
    user: str  # who logged in to send it, if anyone did

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass(frozen=True)
class Failure:
    code: int
    text: str
    stage: str  # "rcpt" or "data"
    drop: bool  # close the connection instead of answering (data stage only)


class _Handler:
    def __init__(self, server: LoopbackSMTP) -> None:
        self.server = server

    async def handle_RCPT(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self.server._failure(address, "rcpt")
        if failure is not None:
            return f"{failure.code} {failure.text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            failure = self.server._failure(address, "data")
            if failure is None:
                continue
            if failure.drop:
                self.server._record(smtp, envelope)
                transport = smtp.transport
                assert isinstance(transport, asyncio.Transport)
                transport.abort()  # nothing more is written on an aborted transport
                return "250 never sent"
            return f"{failure.code} {failure.text}"
        self.server._record(smtp, envelope)
        return "250 OK"


class _Controller(Controller):
    def __init__(self, server: LoopbackSMTP, **kwargs: Any) -> None:
        super().__init__(_Handler(server), **kwargs)
        self.saha_server = server

    def factory(self) -> SMTP:
        smtp = super().factory()
        self.saha_server._connected(smtp)
        return smtp


class LoopbackSMTP:
    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.host = HOST
        self.port = 0
        self.credentials = credentials
        self._lock = threading.Condition()
        self._messages: list[ReceivedEmail] = []
        self._failures: dict[str, Failure] = {}
        self._sessions: dict[int, SMTP] = {}
        self._connections = 0
        self._controller: _Controller | None = None

    # -- running -----------------------------------------------------------

    def start(self) -> LoopbackSMTP:
        # aiosmtpd logs every command at INFO: at a thousand messages a second
        # that is most of the work, and noise in a failing test's output.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        for _ in range(5):  # a free port may be taken between finding and binding it
            self.port = _free_port()
            controller = _Controller(self, hostname=HOST, port=self.port, **self._smtp_options())
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller = controller
            break
        else:
            raise RuntimeError("The loopback SMTP server could not start.")
        with self._lock:  # start() makes one connection of its own to check the server
            self._connections = 0
            self._sessions.clear()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> LoopbackSMTP:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def settings(self) -> dict[str, object]:
        """Django's EMAIL_* settings that send to this server."""
        user, password = self.credentials or ("", "")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": user,
            "EMAIL_HOST_PASSWORD": password,
            "EMAIL_TIMEOUT": 5,
        }

    # -- what it received ------------------------------------------------

    @property
    def messages(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Connections accepted since start."""
        with self._lock:
            return self._connections

    def message_ids(self) -> list[str]:
        with self._lock:
            return [message.message_id for message in self._messages]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedEmail]:
        """The messages, once there are at least `count`; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"Expected {count} messages, the server has {len(self._messages)}."
                    )
                self._lock.wait(left)
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    # -- misbehaving -----------------------------------------------------

    def fail(
        self,
        recipient: str,
        code: int = 550,
        text: str = "",
        *,
        stage: str = "rcpt",
        drop: bool = False,
    ) -> None:
        """Answer `code` for `recipient`, at RCPT TO or after the message's data."""
        if stage not in {"rcpt", "data"} or (drop and stage != "data"):
            raise ValueError("stage is rcpt or data; drop=True needs stage='data'.")
        default = "No such user here" if code >= 500 else "Try again later"
        failure = Failure(code, text or f"{code // 100}.1.1 {default}", stage, drop)
        with self._lock:
            self._failures[recipient.lower()] = failure

    def heal(self, recipient: str | None = None) -> None:
        """Forget the failure set for `recipient` (every failure without one)."""
        with self._lock:
            if recipient is None:
                self._failures.clear()
            else:
                self._failures.pop(recipient.lower(), None)

    def drop_connections(self) -> None:
        """Close every open connection, as a restarting server would."""
        assert self._controller is not None
        with self._lock:
            transports = [smtp.transport for smtp in self._sessions.values() if smtp.transport]
        done = threading.Event()

        def close_all() -> None:
            for transport in transports:
                transport.close()
            done.set()

        self._controller.loop.call_soon_threadsafe(close_all)
        done.wait(5)
        time.sleep(0.05)  # let the FINs reach the client's sockets

    # -- called from the server's thread -----------------------------------

    def _smtp_options(self) -> dict[str, Any]:
        # A fixed host name: aiosmtpd would otherwise ask DNS (getfqdn) per connection.
        options: dict[str, Any] = {"server_hostname": "loopback.saha.test"}
        if self.credentials is not None:
            # AUTH is offered without TLS (loopback) but not required: aiosmtpd
            # warns on every connection otherwise. `ReceivedEmail.user` tells.
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        return options

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        user, password = self.credentials
        ok = isinstance(data, LoginPassword) and (
            data.login.decode(),
            data.password.decode(),
        ) == (user, password)
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    def _connected(self, smtp: SMTP) -> None:
        with self._lock:
            self._connections += 1
            for number in [n for n, old in self._sessions.items() if old.transport is None]:
                del self._sessions[number]
            self._sessions[self._connections] = smtp
            smtp.saha_connection = self._connections  # type: ignore[attr-defined]

    def _failure(self, address: str, stage: str) -> Failure | None:
        with self._lock:
            failure = self._failures.get(address.lower())
        return failure if failure is not None and failure.stage == stage else None

    def _record(self, smtp: SMTP, envelope: Envelope) -> None:
        data = envelope.original_content or b""
        # A regular expression, not the email parser: it is a tenth of the cost.
        found = MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode("ascii", errors="replace") if found else ""
        received = ReceivedEmail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            message_id=message_id,
            connection=getattr(smtp, "saha_connection", 0),
            user=str(smtp.session.auth_data or "") if smtp.session else "",
        )
        with self._lock:
            self._messages.append(received)
            self._lock.notify_all()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
