"""SMS through an HTTP gateway: Twilio, or any gateway speaking Saha's JSON dialect.

One keep-alive connection serves a whole batch. Before each request we check
that the server has not closed it while idle (the socket would read as ready)
and open a new one if it has, so a stale connection never eats a message.

When the request cannot even be written, nothing reached the gateway and we
try once more on a fresh connection. When it was written but no answer came
(timeout, connection reset), the gateway may have accepted the message: that
raises `OutcomeUnknown`. The Saha dialect can then be asked with
`find(reference)`; Twilio cannot be asked by our reference.

Saha's dialect: POST the configured URL with JSON
`{"to", "from", "body", "reference"}` (or SMS_BODY_TEMPLATE), bearer token or
basic auth; a 2xx answer carries `{"id": ...}`. An error answer may carry
`{"error": "invalid_number" | "not_mobile" | "unsubscribed", "permanent": true}`.
`GET <URL>/<reference>` answers 200 `{"id": ...}` or 404.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import select
import ssl
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from saha.messaging.providers import OutcomeUnknown
from saha.messaging.providers.base import Outgoing, ProviderError

# Twilio error codes that mean the number will never take this message:
# invalid, unreachable, not a mobile, or the person replied STOP (21610).
TWILIO_PERMANENT = {21211, 21214, 21217, 21401, 21407, 21610, 21612, 21614}
SAHA_PERMANENT = {"invalid_number", "not_mobile", "unsubscribed"}
RETRYABLE_STATUSES = {408, 425, 429}
PLACEHOLDER = re.compile(r"\{(to|from|body|reference)\}")


@dataclass(frozen=True)
class HttpSmsConfig:
    url: str  # Twilio: the API's base URL; Saha's dialect: the endpoint to POST to
    user: str = ""
    password: str = ""
    token: str = ""
    account: str = ""  # Twilio account SID
    messaging_service: str = ""  # Twilio MessagingServiceSid, used when no sender is given
    default_from: str = ""
    timeout: float = 10.0
    body_template: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    payload: dict[str, Any]


class HttpSmsProvider(ABC):
    """What both dialects share: the connection, authentication and retries."""

    name = "sms-http"
    channel = "sms"

    def __init__(self, config: HttpSmsConfig, *, rate: int = 0) -> None:
        self.config = config
        self.rate = rate
        self.connections = 0  # opened so far
        parts = urlsplit(config.url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{config.url!r} is not an http(s) URL.")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        self._query = f"?{parts.query}" if parts.query else ""
        self._authorization = _authorization(config)
        self._connection: http.client.HTTPConnection | None = None

    def open(self) -> None:
        connection = self._ready()
        if connection.sock is None:
            try:
                connection.connect()
            except OSError as error:
                self.close()
                raise self._unreachable(error) from error

    def _unreachable(self, error: Exception) -> ProviderError:
        return ProviderError(f"Cannot reach the SMS gateway {self._host}: {error}")

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def send(self, message: Outgoing) -> str:
        body, content_type = self._encode(message)
        answer = self._request("POST", self._post_path(), body, content_type)
        if 200 <= answer.status < 300:
            return self._provider_id(answer.payload, message)
        raise self._error(answer)

    # -- per dialect -------------------------------------------------------

    @abstractmethod
    def _post_path(self) -> str:
        """Each dialect says."""

    @abstractmethod
    def _encode(self, message: Outgoing) -> tuple[bytes, str]:
        """Each dialect says."""

    @abstractmethod
    def _provider_id(self, payload: dict[str, Any], message: Outgoing) -> str:
        """Each dialect says."""

    @abstractmethod
    def _error(self, answer: Answer) -> ProviderError:
        """Each dialect says."""

    # -- the connection ----------------------------------------------------

    def _ready(self) -> http.client.HTTPConnection:
        """The open connection, or a new one if there is none or the server closed it."""
        if self._connection is not None and _closed_by_peer(self._connection):
            self.close()
        if self._connection is None:
            timeout = self.config.timeout
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=timeout
                )
            self.connections += 1
        return self._connection

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "",
        *,
        idempotent: bool = False,
    ) -> Answer:
        headers = {"Accept": "application/json", "User-Agent": "Saha"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        if content_type:
            headers["Content-Type"] = content_type
        connection = self._ready()
        try:
            connection.request(method, path, body=body, headers=headers)
        except OSError:
            # Not written (refused, reset before sending): the gateway has nothing.
            self.close()
            connection = self._ready()
            try:
                connection.request(method, path, body=body, headers=headers)
            except OSError as error:
                self.close()
                raise self._unreachable(error) from error
        try:
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            if idempotent:
                raise ProviderError(f"The SMS gateway did not answer: {error}") from error
            raise OutcomeUnknown(
                f"The SMS gateway did not answer after the message was sent: {error}"
            ) from error
        if response.will_close:
            self.close()
        return Answer(response.status, _json(raw))


class TwilioProvider(HttpSmsProvider):
    """Twilio's Messages API: a form POST per message, basic auth, JSON answers."""

    name = "twilio"

    def _post_path(self) -> str:
        account = quote(self.config.account or self.config.user, safe="")
        return f"{self._path}/2010-04-01/Accounts/{account}/Messages.json"

    def _encode(self, message: Outgoing) -> tuple[bytes, str]:
        fields = {"To": message.to, "Body": message.body}
        sender = message.sender or self.config.default_from
        if sender:
            fields["From"] = sender
        elif self.config.messaging_service:
            fields["MessagingServiceSid"] = self.config.messaging_service
        return urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded"

    def _provider_id(self, payload: dict[str, Any], message: Outgoing) -> str:
        return str(payload.get("sid") or message.reference)

    def _error(self, answer: Answer) -> ProviderError:
        code = answer.payload.get("code")
        text = answer.payload.get("message", "")
        permanent = (
            400 <= answer.status < 500
            and answer.status not in RETRYABLE_STATUSES
            and code in TWILIO_PERMANENT
        )
        return ProviderError(
            f"Twilio refused the message: HTTP {answer.status}, error {code}: {text}",
            permanent=permanent,
        )


class SahaGatewayProvider(HttpSmsProvider):
    """A gateway speaking Saha's JSON dialect (see the module's docstring)."""

    name = "sms-gateway"

    def find(self, reference: str) -> str | None:
        """The gateway's id for the message sent with `reference`, or None if it has none."""
        path = f"{self._path}/{quote(reference, safe='')}{self._query}"
        answer = self._request("GET", path, idempotent=True)
        if answer.status == 404:
            return None
        if 200 <= answer.status < 300 and answer.payload.get("id"):
            return str(answer.payload["id"])
        raise ProviderError(f"The SMS gateway could not look up {reference!r}: {answer.status}")

    def _post_path(self) -> str:
        return f"{self._path or '/'}{self._query}"

    def _encode(self, message: Outgoing) -> tuple[bytes, str]:
        values = {
            "to": message.to,
            "from": message.sender or self.config.default_from,
            "body": message.body,
            "reference": message.reference,
        }
        template = self.config.body_template
        document = _fill(template, values) if template else values
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return body, "application/json; charset=utf-8"

    def _provider_id(self, payload: dict[str, Any], message: Outgoing) -> str:
        for key in ("id", "message_id", "messageId", "sid"):
            if payload.get(key):
                return str(payload[key])
        return message.reference

    def _error(self, answer: Answer) -> ProviderError:
        error = answer.payload.get("error", "")
        permanent = (
            400 <= answer.status < 500
            and answer.status not in RETRYABLE_STATUSES
            and (answer.payload.get("permanent") is True or error in SAHA_PERMANENT)
        )
        text = answer.payload.get("message", "")
        return ProviderError(
            f"The SMS gateway refused the message: HTTP {answer.status} {error} {text}".strip(),
            permanent=permanent,
        )


def _authorization(config: HttpSmsConfig) -> str:
    if config.token:
        return f"Bearer {config.token}"
    if config.user:
        pair = f"{config.user}:{config.password}".encode()
        return f"Basic {base64.b64encode(pair).decode('ascii')}"
    return ""


def _closed_by_peer(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive socket that reads as ready has been closed by the server."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    """SMS_BODY_TEMPLATE with its {to}, {from}, {body} and {reference} filled in."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    if isinstance(template, Mapping):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    return template
