"""Providers that deliver nowhere: to the terminal, to files, to memory.

They build email exactly as SMTP does (same Message-ID, headers and parts),
so what a developer reads is what a supporter would get. Provider ids are the
Message-ID for email and the reference for SMS.

- console: prints each message, decoded and readable, to standard output.
- file: one `<reference>.eml` per email; one JSON line per SMS in `sms.jsonl`.
- memory (the tests): appends a `Sent` (channel, provider id, the `Outgoing`,
  whose fields it also answers for: `sent[0].to`) to the module's `sent` list;
  email also lands in `django.core.mail.outbox` as a Django EmailMessage, so
  tests can read `mail.outbox[0].subject`. `saha.testing.fixtures` empties
  `sent` before every test (pytest-django empties `mail.outbox`).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, TextIO

from saha.messaging.providers.base import Outgoing, ProviderError
from saha.messaging.providers.smtp import Composed, compose


@dataclass(frozen=True)
class Sent:
    """One message the memory provider took; reads as the `Outgoing` it holds."""

    channel: str
    provider_id: str
    message: Outgoing

    def __getattr__(self, name: str) -> Any:
        return getattr(self.message, name)


sent: list[Sent] = []
_print_lock = threading.Lock()
_file_lock = threading.Lock()
UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class _Base:
    name = ""

    def __init__(self, channel: str, *, default_from: str = "", rate: int = 0) -> None:
        if channel not in {"email", "sms"}:
            raise ValueError(f"Unknown channel {channel!r}.")
        self.channel = channel
        self.default_from = default_from
        self.rate = rate

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _sms_sender(self, message: Outgoing) -> str:
        return message.sender or self.default_from


class ConsoleProvider(_Base):
    name = "console"

    def __init__(
        self,
        channel: str,
        *,
        default_from: str = "",
        rate: int = 0,
        stream: TextIO | None = None,
    ) -> None:
        super().__init__(channel, default_from=default_from, rate=rate)
        self.stream = stream

    def send(self, message: Outgoing) -> str:
        if self.channel == "email":
            composed = compose(message, self.default_from)
            text, provider_id = _readable_email(composed, message), composed.message_id
        else:
            text = (
                f"----- SMS to {message.to} from {self._sms_sender(message) or '(default)'} "
                f"[{message.reference}]\n{message.body}\n"
            )
            provider_id = message.reference
        with _print_lock:
            print(text, file=self.stream or sys.stdout, flush=True)
        return provider_id


def _readable_email(composed: Composed, message: Outgoing) -> str:
    email = composed.message
    lines = [f"----- email {composed.message_id}"]
    lines += [f"{name}: {value}" for name, value in email.items() if name != "Content-Type"]
    lines += ["", message.body]
    if message.html:
        lines += ["", f"[HTML alternative: {len(message.html)} characters]"]
    return "\n".join(lines) + "\n"


class FileProvider(_Base):
    name = "file"

    def __init__(
        self, channel: str, directory: Path, *, default_from: str = "", rate: int = 0
    ) -> None:
        super().__init__(channel, default_from=default_from, rate=rate)
        self.directory = directory

    @property
    def sms_file(self) -> Path:
        return self.directory / "sms.jsonl"

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ProviderError(f"Cannot create {self.directory}: {error}") from error

    def send(self, message: Outgoing) -> str:
        self.open()
        try:
            if self.channel == "email":
                return self._write_email(message)
            return self._append_sms(message)
        except OSError as error:
            raise ProviderError(f"Cannot write to {self.directory}: {error}") from error

    def find(self, reference: str) -> str | None:
        if self.channel == "email":
            path = self._email_path(reference)
            if not path.exists():
                return None
            with path.open("rb") as handle:
                headers = BytesHeaderParser().parse(handle)
            return str(headers.get("Message-ID", "")).strip().strip("<>") or None
        if not self.sms_file.exists():
            return None
        with self.sms_file.open(encoding="utf-8") as lines:
            for line in lines:
                if json.loads(line).get("reference") == reference:
                    return reference
        return None

    def _email_path(self, reference: str) -> Path:
        return self.directory / f"{UNSAFE_IN_FILE_NAME.sub('_', reference)}.eml"

    def _write_email(self, message: Outgoing) -> str:
        composed = compose(message, self.default_from)
        path = self._email_path(message.reference)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_bytes(composed.as_bytes())
        temporary.replace(path)  # whole or absent, never half-written
        return composed.message_id

    def _append_sms(self, message: Outgoing) -> str:
        record = {
            "to": message.to,
            "from": self._sms_sender(message),
            "body": message.body,
            "reference": message.reference,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # One write on an O_APPEND file: lines from several workers do not interleave.
        with _file_lock:
            fd = os.open(self.sms_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return message.reference


class MemoryProvider(_Base):
    name = "memory"

    def send(self, message: Outgoing) -> str:
        if self.channel == "email":
            composed = compose(message, self.default_from)  # fails as SMTP would
            _to_django_outbox(message, composed)
            provider_id = composed.message_id
        else:
            provider_id = message.reference
        sent.append(Sent(self.channel, provider_id, message))
        return provider_id

    def find(self, reference: str) -> str | None:
        for record in list(sent):
            if record.channel == self.channel and record.message.reference == reference:
                return record.provider_id
        return None


def _to_django_outbox(message: Outgoing, composed: Composed) -> None:
    """What Django's locmem backend would keep, for tests that read `mail.outbox`."""
    from django.core import mail

    email = composed.message
    headers = {
        name: str(value)
        for name, value in email.items()
        if name not in {"From", "To", "Subject", "Content-Type", "MIME-Version"}
    }
    django_message = mail.EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=str(email["From"]),
        to=[message.to],
        headers=headers,
    )
    if message.html:
        django_message.attach_alternative(message.html, "text/html")
    if not hasattr(mail, "outbox"):
        mail.outbox = []
    mail.outbox.append(django_message)
