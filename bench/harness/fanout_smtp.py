"""A minimal, fast SMTP sink on loopback, in a process of its own, for B3 and B4.

aiosmtpd (saha/testing/smtp_server.py) parses every command through a
general state machine and keeps every message; at 100,000 messages it would
be the bottleneck and hold gigabytes. This one speaks just what smtplib and
Saha's SMTP provider say (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), one
asyncio protocol per connection, and keeps per recipient only the Message-IDs
it received and their count, which is what "lost" and "duplicates" need.

    sink = Sink.start()            # a child process; sink.port
    sink.count()                   # (messages accepted, distinct recipients) so far
    sink.reset()                   # forget them (between runs)
    received = sink.received()     # {recipient: [message-id, ...]}, plus sizes
    sink.stop()

Run directly (`python -m bench.harness.fanout_smtp`) it prints its port, then
answers one command a line on stdin: `count`, `reset`, `dump <path>`, `quit`.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
MESSAGE_ID = re.compile(rb"(?im)^message-id:\s*<?([^>\r\n]*)>?")
END = b"\r\n.\r\n"


class State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_recipient: dict[str, list[str]] = {}
        self.messages = 0
        self.bytes = 0
        self.first = 0.0  # time.monotonic() of the first and last accepted message
        self.last = 0.0
        self.connections = 0

    def record(self, recipients: list[str], data: bytes) -> None:
        found = MESSAGE_ID.search(data.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode("ascii", "replace") if found else ""
        for recipient in recipients:
            self.by_recipient.setdefault(recipient.lower(), []).append(message_id)
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.messages += 1
        self.bytes += len(data)


class SmtpSink(asyncio.Protocol):
    def __init__(self, state: State) -> None:
        self.state = state
        self.buffer = b""
        self.in_data = False
        self.searched = 0
        self.recipients: list[str] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.state.connections += 1
        transport.write(b"220 loopback.bench ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.in_data:
                if self.buffer.startswith(b".\r\n"):
                    end, skip = 0, 3  # an empty message
                else:
                    end = self.buffer.find(END, max(0, self.searched - 4))
                    skip = 5
                if end < 0:
                    self.searched = len(self.buffer)
                    return
                body = self.buffer[:end].replace(b"\r\n..", b"\r\n.")
                self.buffer = self.buffer[end + skip :]
                self.in_data, self.searched = False, 0
                self.state.record(self.recipients, body)
                self.recipients = []
                self._reply(b"250 OK")
                continue
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                return
            self.buffer = rest
            self._command(line)

    def _reply(self, text: bytes) -> None:
        assert self.transport is not None
        self.transport.write(text + b"\r\n")

    def _command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            self._reply(b"250-loopback.bench\r\n250-8BITMIME\r\n250 SMTPUTF8")
        elif verb == b"HELO":
            self._reply(b"250 loopback.bench")
        elif verb == b"MAIL":
            self.recipients = []
            self._reply(b"250 OK")
        elif verb == b"RCPT":
            address = line.split(b":", 1)[1].split(b">", 1)[0].strip().lstrip(b"<")
            self.recipients.append(address.decode("utf-8", "replace"))
            self._reply(b"250 OK")
        elif verb == b"DATA":
            self.in_data = True
            self._reply(b"354 End data with <CR><LF>.<CR><LF>")
        elif verb in (b"RSET", b"NOOP"):
            if verb == b"RSET":
                self.recipients = []
            self._reply(b"250 OK")
        elif verb == b"QUIT":
            self._reply(b"221 Bye")
            assert self.transport is not None
            self.transport.close()
        else:
            self._reply(b"502 Command not implemented")


def serve() -> None:
    """The child process: serve on a free port, print it, obey stdin."""
    state = State()
    loop = asyncio.new_event_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(256)
    server = loop.run_until_complete(loop.create_server(lambda: SmtpSink(state), sock=sock))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    print(sock.getsockname()[1], flush=True)

    def in_loop(function: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(_call(function), loop).result(timeout=60)

    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "count":
            answer: Any = in_loop(lambda: [state.messages, len(state.by_recipient)])
        elif command == "reset":
            answer = in_loop(state.reset)
        elif command == "dump":
            document = in_loop(
                lambda: {
                    "messages": state.messages,
                    "bytes": state.bytes,
                    "first": state.first,
                    "last": state.last,
                    "connections": state.connections,
                    "by_recipient": state.by_recipient,
                }
            )
            Path(argument).write_text(json.dumps(document))
            answer = "ok"
        else:
            break
        print(json.dumps(answer), flush=True)
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)


async def _call(function: Any) -> Any:
    return function()


class Sink:
    """The parent's handle on a sink process."""

    def __init__(self, process: subprocess.Popen[str], port: int, scratch: Path) -> None:
        self.process, self.port, self.scratch = process, port, scratch
        self.pid = process.pid
        self._lock = threading.Lock()

    @classmethod
    def start(cls, scratch: Path) -> Sink:
        scratch.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.harness.fanout_smtp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert process.stdout is not None
        return cls(process, int(process.stdout.readline()), scratch)

    def _ask(self, command: str) -> Any:
        with self._lock:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
            return json.loads(self.process.stdout.readline())

    def count(self) -> tuple[int, int]:
        """(messages accepted, distinct recipients among them)."""
        messages, recipients = self._ask("count")
        return int(messages), int(recipients)

    def reset(self) -> None:
        self._ask("reset")

    def received(self) -> dict[str, Any]:
        path = self.scratch / f"sink-{self.pid}.json"
        self._ask(f"dump {path}")
        document = json.loads(path.read_text())
        path.unlink()
        return document

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=5)


if __name__ == "__main__":
    serve()
