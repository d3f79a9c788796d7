"""A real HTTP SMS gateway on loopback, for tests: both dialects Saha speaks.

    with LoopbackSmsGateway() as gateway:
        ...  # SMS_URL=gateway.sms_url("saha") or gateway.sms_url("twilio")
        gateway.wait_for(1)
        assert gateway.messages[0].body == "..."

- Twilio: `POST /2010-04-01/Accounts/<sid>/Messages.json`, form fields To,
  From (or MessagingServiceSid) and Body, basic auth `<sid>:<token>`; answers
  201 `{"sid": "SM...", ...}` or Twilio's error JSON `{"code", "message",
  "status"}`.
- Saha: `POST /messages` with JSON `{"to", "from", "body", "reference"}` and a
  bearer token; answers 201 `{"id": ...}`. `GET /messages/<reference>` answers
  200 `{"id": ...}` or 404.

`fail(number, status=400, code=21211)` refuses a number; `drop=True` accepts the
message and then closes the connection without answering. It speaks HTTP/1.1
keep-alive, counts the connections it accepted, and `drop_connections()`
closes the open ones, as a gateway timing out idle clients would.

The `sms_gateway` fixture in saha.testing.fixtures points the SMS_* settings
at one, in Saha's dialect.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

HOST = "127.0.0.1"
TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
SAHA_PATH = "/messages"


@dataclass(frozen=True)
class ReceivedSms:
    dialect: str  # "twilio" or "saha"
    to: str
    sender: str
    body: str
    reference: str  # Saha's dialect only
    id: str
    fields: dict[str, Any]  # the form fields or JSON document as sent
    connection: int  # 1 for the first connection the gateway accepted, and so on


@dataclass(frozen=True)
class Refusal:
    status: int
    code: int
    error: str
    permanent: bool
    drop: bool


@dataclass
class _State:
    lock: threading.Condition = field(default_factory=threading.Condition)
    messages: list[ReceivedSms] = field(default_factory=list)
    refusals: dict[str, Refusal] = field(default_factory=dict)
    connections: int = 0
    sockets: set[socket.socket] = field(default_factory=set)


class LoopbackSmsGateway:
    account_sid = "AC00000000000000000000000000000001"
    auth_token = "twilio-auth-token"
    token = "gateway-token"

    def __init__(self) -> None:
        self._state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- running -----------------------------------------------------------

    def start(self) -> LoopbackSmsGateway:
        server = ThreadingHTTPServer((HOST, 0), _Handler)
        server.daemon_threads = True
        server.gateway = self  # type: ignore[attr-defined]
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> LoopbackSmsGateway:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def sms_url(self, dialect: str = "saha", sender: str = "+96170000000") -> str:
        """An SMS_URL that sends here, as an operator would write it."""
        if dialect == "twilio":
            return (
                f"twilio+http://{self.account_sid}:{self.auth_token}@{HOST}:{self.port}"
                f"?from={sender}"
            )
        if dialect == "saha":
            return f"http://:{self.token}@{HOST}:{self.port}{SAHA_PATH}?from={sender}"
        raise ValueError(f"Unknown dialect {dialect!r}; use saha or twilio.")

    def settings(self, dialect: str = "saha", body_template: str = "") -> dict[str, object]:
        """The SMS_* settings for `sms_url(dialect)`, for override_settings."""
        from pathlib import Path

        from saha.config.env import sms_config

        return sms_config(self.sms_url(dialect), Path("."), body_template)

    # -- what it received ------------------------------------------------

    @property
    def messages(self) -> list[ReceivedSms]:
        with self._state.lock:
            return list(self._state.messages)

    @property
    def connections(self) -> int:
        with self._state.lock:
            return self._state.connections

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedSms]:
        deadline = time.monotonic() + timeout
        with self._state.lock:
            while len(self._state.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"Expected {count} SMS, the gateway has {len(self._state.messages)}."
                    )
                self._state.lock.wait(left)
            return list(self._state.messages)

    # -- misbehaving -----------------------------------------------------

    def fail(
        self,
        number: str,
        status: int = 400,
        code: int = 21211,
        *,
        error: str = "invalid_number",
        permanent: bool = True,
        drop: bool = False,
    ) -> None:
        """Refuse SMS to `number`: Twilio's `code`, or Saha's `error` and `permanent`."""
        with self._state.lock:
            self._state.refusals[number] = Refusal(status, code, error, permanent, drop)

    def drop_connections(self) -> None:
        """Close every open connection, as a gateway timing out idle clients would."""
        with self._state.lock:
            sockets = list(self._state.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already gone
                sock.shutdown(socket.SHUT_RDWR)
        time.sleep(0.05)  # let the FINs reach the client's sockets

    def heal(self, number: str | None = None) -> None:
        with self._state.lock:
            if number is None:
                self._state.refusals.clear()
            else:
                self._state.refusals.pop(number, None)

    # -- called from the server's threads ----------------------------------

    def _connected(self, sock: socket.socket) -> int:
        with self._state.lock:
            self._state.connections += 1
            self._state.sockets.add(sock)
            return self._state.connections

    def _disconnected(self, sock: socket.socket) -> None:
        with self._state.lock:
            self._state.sockets.discard(sock)

    def _refusal(self, number: str) -> Refusal | None:
        with self._state.lock:
            return self._state.refusals.get(number)

    def _record(self, message: ReceivedSms) -> None:
        with self._state.lock:
            self._state.messages.append(message)
            self._state.lock.notify_all()

    def _find(self, reference: str) -> ReceivedSms | None:
        with self._state.lock:
            for message in self._state.messages:
                if message.dialect == "saha" and message.reference == reference:
                    return message
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go in two writes
    server_version = "SahaLoopbackSms/1"
    connection_number = 0

    @property
    def gateway(self) -> LoopbackSmsGateway:
        return self.server.gateway  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.connection_number = self.gateway._connected(self.connection)

    def finish(self) -> None:
        self.gateway._disconnected(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a test's output is for its failures

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        twilio = TWILIO_PATH.match(self.path)
        if twilio:
            self._twilio(unquote(twilio.group(1)), raw)
        elif self.path.split("?")[0] == SAHA_PATH:
            self._saha(raw)
        else:
            self._answer(404, {"error": "not_found"})

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if not path.startswith(f"{SAHA_PATH}/"):
            self._answer(404, {"error": "not_found"})
            return
        if not self._authorized(f"Bearer {self.gateway.token}"):
            self._answer(401, {"error": "unauthorized"})
            return
        found = self.gateway._find(unquote(path.removeprefix(f"{SAHA_PATH}/")))
        if found is None:
            self._answer(404, {"error": "not_found"})
        else:
            self._answer(200, {"id": found.id, "to": found.to, "status": "accepted"})

    def _twilio(self, account: str, raw: bytes) -> None:
        gateway = self.gateway
        pair = f"{gateway.account_sid}:{gateway.auth_token}".encode()
        if account != gateway.account_sid or not self._authorized(
            f"Basic {base64.b64encode(pair).decode()}"
        ):
            self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        fields = {key: values[-1] for key, values in parse_qs(raw.decode("utf-8")).items()}
        to = fields.get("To", "")
        if not to or not fields.get("Body"):
            self._answer(400, {"code": 21604, "message": "'To' and 'Body' are required"})
            return
        message = ReceivedSms(
            dialect="twilio",
            to=to,
            sender=fields.get("From") or fields.get("MessagingServiceSid", ""),
            body=fields["Body"],
            reference="",
            id=f"SM{uuid.uuid4().hex}",
            fields=fields,
            connection=self.connection_number,
        )
        self._deliver(message, twilio_error)

    def _saha(self, raw: bytes) -> None:
        if not self._authorized(f"Bearer {self.gateway.token}"):
            self._answer(401, {"error": "unauthorized"})
            return
        try:
            document = json.loads(raw.decode("utf-8"))
        except ValueError:
            self._answer(400, {"error": "bad_json"})
            return
        message = ReceivedSms(
            dialect="saha",
            to=str(document.get("to", "")),
            sender=str(document.get("from", "")),
            body=str(document.get("body", "")),
            reference=str(document.get("reference", "")),
            id=f"gw-{uuid.uuid4().hex[:16]}",
            fields=document,
            connection=self.connection_number,
        )
        self._deliver(message, saha_error)

    def _deliver(self, message: ReceivedSms, refused: Callable[[Refusal], dict[str, Any]]) -> None:
        refusal = self.gateway._refusal(message.to)
        if refusal is not None and refusal.drop:
            # Accepted, and the answer lost: the sender cannot know.
            self.gateway._record(message)
            self.close_connection = True
            return
        if refusal is not None:
            self._answer(refusal.status, refused(refusal))
            return
        self.gateway._record(message)
        key = "sid" if message.dialect == "twilio" else "id"
        self._answer(201, {key: message.id, "to": message.to, "status": "queued"})

    def _authorized(self, expected: str) -> bool:
        return self.headers.get("Authorization", "") == expected

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def twilio_error(refusal: Refusal) -> dict[str, Any]:
    return {"code": refusal.code, "message": "Refused", "status": refusal.status}


def saha_error(refusal: Refusal) -> dict[str, Any]:
    return {"error": refusal.error, "permanent": refusal.permanent, "message": "Refused"}
