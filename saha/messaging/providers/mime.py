"""Emails written straight to bytes: the outbox's hot path.

The standard library's `EmailMessage` parses every header it is given through
its header registry and re-folds it on output: about a millisecond a message,
more than sending it to a nearby server takes. Saha's emails have one fixed
shape (a text part, perhaps an HTML alternative, a handful of headers), so
they are written here directly, 7-bit clean: non-ASCII headers as RFC 2047
encoded words, non-ASCII or long-lined bodies as base64. The result parses
back with `email.parser` to what `EmailMessage` would have produced.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from email.utils import format_datetime

CRLF = "\r\n"
# An encoded word may be 75 characters: "=?utf-8?b?" + 60 base64 + "?=" fits,
# and 45 bytes of UTF-8 encode to exactly 60.
_WORD_BYTES = 45
_SPECIALS = set('()<>[]:;@\\,."')


def _printable(text: str) -> bool:
    return text.isascii() and all(32 <= ord(ch) < 127 for ch in text)


def encoded_words(text: str) -> str:
    """A header value: as it is if printable ASCII, else RFC 2047 words, folded.

    A line break can never reach the header itself: it is encoded with the
    rest, so no value (a sender name typed by an organizer) can add a header.
    """
    if _printable(text):
        return text
    data = text.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # never split a character between two words
        words.append("=?utf-8?b?" + base64.b64encode(data[start:end]).decode("ascii") + "?=")
        start = end
    return (CRLF + " ").join(words)


def display_address(name: str, address: str) -> str:
    if not name:
        return address
    if _printable(name):
        if any(ch in _SPECIALS for ch in name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{address}>"
    return f"{encoded_words(name)} <{address}>"


def _part(content_type: str, text: str) -> str:
    lines = text.splitlines()
    if text.isascii() and all(len(line) <= 900 for line in lines):
        body = CRLF.join(lines)
        encoding = "7bit"
    else:
        canonical = (CRLF.join(lines) + CRLF).encode("utf-8")  # as EmailMessage writes it
        raw = binascii.b2a_base64(canonical, newline=False).decode("ascii")
        body = CRLF.join(raw[i : i + 76] for i in range(0, len(raw), 76))
        encoding = "base64"
    return (
        f"Content-Type: {content_type}; charset=utf-8{CRLF}"
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}{body}{CRLF}"
    )


def build(
    *,
    sender: str,
    recipient: str,
    message_id: str,
    subject: str,
    text: str,
    html: str = "",
    reply_to: str = "",
    language: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The whole message, CRLF line ends, ready for DATA (before dot-stuffing)."""
    for value in (sender, recipient, message_id, reply_to, language):
        if "\r" in value or "\n" in value:
            raise ValueError("A line break in an address header.")
    lines = [
        f"From: {sender}",
        f"To: {recipient}",
    ]
    if subject:
        lines.append(f"Subject: {encoded_words(subject)}")
    lines += [
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <{message_id}>",
        "MIME-Version: 1.0",
    ]
    if reply_to:
        lines.append(f"Reply-To: {reply_to}")
    if language:
        lines.append(f"Content-Language: {language}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {encoded_words(value)}")
    head = CRLF.join(lines) + CRLF
    if not html:
        return (head + _part("text/plain", text)).encode("ascii")
    boundary = f"=_saha_{message_id.split('@', 1)[0]}"
    body = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}'
        f"--{boundary}{CRLF}{_part('text/plain', text)}"
        f"--{boundary}{CRLF}{_part('text/html', html)}"
        f"--{boundary}--{CRLF}"
    )
    return (head + body).encode("ascii")
