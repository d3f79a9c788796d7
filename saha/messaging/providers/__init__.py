"""The providers that carry email and SMS, built from settings.

`get_provider("email")` or `get_provider("sms")` returns a fresh, unopened
provider (see base.py for the interface). Settings are read at each call, so
`override_settings` in tests takes effect; what is costly to work out from
them (a DKIM key read and checked) is cached.

Email follows Django's EMAIL_* settings (from EMAIL_URL): smtp -> SmtpProvider,
console -> ConsoleProvider, file -> FileProvider, locmem (the tests) ->
MemoryProvider. SMS follows the SMS_* settings (from SMS_URL): twilio, an HTTP
gateway in Saha's JSON dialect, console, file or memory.

Every provider has `rate`: the messages per second the outbox may hand it
(0: no limit). Some also have `find(reference) -> provider id | None`, to
settle a delivery whose outcome is unknown; check with `getattr(provider,
"find", None)`. Twilio has none: it cannot be asked by our reference.

A send that fails after the provider may already have accepted the message
(the connection dropped while waiting for the answer) raises `OutcomeUnknown`,
a temporary `ProviderError`: treat the delivery as UNKNOWN, not as unsent.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from saha.messaging.providers.base import Outgoing, Provider, ProviderError

if TYPE_CHECKING:
    from saha.messaging.providers.smtp import Dkim, SmtpConfig

__all__ = ["OutcomeUnknown", "Outgoing", "Provider", "ProviderError", "get_provider"]


class OutcomeUnknown(ProviderError):
    """The message was handed over but no answer came: it may have been accepted.

    Resending it blindly may deliver it twice; ask the provider with `find`
    where it has one (an email resent keeps its Message-ID, so mail clients
    show one copy).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


EMAIL_BACKENDS = {
    "django.core.mail.backends.smtp.EmailBackend": "smtp",
    "django.core.mail.backends.console.EmailBackend": "console",
    "django.core.mail.backends.filebased.EmailBackend": "file",
    "django.core.mail.backends.locmem.EmailBackend": "memory",
}


def get_provider(channel: str) -> Provider:
    if channel == "email":
        return _email_provider()
    if channel == "sms":
        return _sms_provider()
    raise ValueError(f"No provider for the channel {channel!r}; use email or sms.")


def _email_provider() -> Provider:
    from saha.messaging.providers.console import ConsoleProvider, FileProvider, MemoryProvider
    from saha.messaging.providers.smtp import SmtpProvider

    kind = EMAIL_BACKENDS.get(settings.EMAIL_BACKEND)
    rate = int(getattr(settings, "EMAIL_RATE", 0))
    default_from = settings.DEFAULT_FROM_EMAIL
    if kind == "smtp":
        return SmtpProvider(_smtp_config(), default_from=default_from, dkim=_dkim(), rate=rate)
    if kind == "console":
        return ConsoleProvider("email", default_from=default_from, rate=rate)
    if kind == "file":
        path = getattr(settings, "EMAIL_FILE_PATH", None) or Path(settings.VAR_DIR) / "mail"
        return FileProvider("email", Path(path), default_from=default_from, rate=rate)
    if kind == "memory":
        return MemoryProvider("email", default_from=default_from, rate=rate)
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND {settings.EMAIL_BACKEND!r} has no Saha provider; set EMAIL_URL to "
        "smtp, smtps, console, file or memory."
    )


def _smtp_config() -> SmtpConfig:
    from django.core.mail.utils import DNS_NAME

    from saha.messaging.providers.smtp import SmtpConfig

    return SmtpConfig(
        host=settings.EMAIL_HOST,
        port=int(settings.EMAIL_PORT),
        username=settings.EMAIL_HOST_USER or "",
        password=settings.EMAIL_HOST_PASSWORD or "",
        use_tls=bool(settings.EMAIL_USE_TLS),
        use_ssl=bool(settings.EMAIL_USE_SSL),
        timeout=settings.EMAIL_TIMEOUT,
        certfile=getattr(settings, "EMAIL_SSL_CERTFILE", None),
        keyfile=getattr(settings, "EMAIL_SSL_KEYFILE", None),
        local_hostname=str(DNS_NAME),
    )


def _dkim() -> Dkim | None:
    key_file = getattr(settings, "SAHA_DKIM_KEY_FILE", "")
    selector = getattr(settings, "SAHA_DKIM_SELECTOR", "")
    domain = getattr(settings, "SAHA_DKIM_DOMAIN", "")
    if not (key_file and selector and domain):
        return None
    return _load_dkim(str(key_file), selector, domain)


@lru_cache(maxsize=8)
def _load_dkim(key_file: str, selector: str, domain: str) -> Dkim:
    from saha.messaging.providers.smtp import Dkim

    try:
        key = Path(key_file).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"SAHA_DKIM_KEY_FILE cannot be read: {error}.") from None
    dkim = Dkim(selector=selector, domain=domain, private_key=key)
    dkim.check()
    return dkim


def _sms_provider() -> Provider:
    from saha.messaging.providers.console import ConsoleProvider, FileProvider, MemoryProvider

    kind = getattr(settings, "SMS_BACKEND", "console")
    rate = int(getattr(settings, "SMS_RATE", 0))
    sender = getattr(settings, "SMS_FROM", "")
    if kind in {"twilio", "http"}:
        return _http_sms_provider(kind, rate)
    if kind == "console":
        return ConsoleProvider("sms", default_from=sender, rate=rate)
    if kind == "file":
        path = getattr(settings, "SMS_FILE_PATH", "") or Path(settings.VAR_DIR) / "sms"
        return FileProvider("sms", Path(path), default_from=sender, rate=rate)
    if kind == "memory":
        return MemoryProvider("sms", default_from=sender, rate=rate)
    raise ImproperlyConfigured(
        f"SMS_BACKEND {kind!r} is not known; set SMS_URL to twilio, http, https, console, file "
        "or memory."
    )


def _http_sms_provider(kind: str, rate: int) -> Provider:
    from saha.messaging.providers.sms_http import HttpSmsConfig, SahaGatewayProvider, TwilioProvider

    config = HttpSmsConfig(
        url=getattr(settings, "SMS_API_URL", ""),
        user=getattr(settings, "SMS_API_USER", ""),
        password=getattr(settings, "SMS_API_PASSWORD", ""),
        token=getattr(settings, "SMS_API_TOKEN", ""),
        account=getattr(settings, "SMS_ACCOUNT", ""),
        messaging_service=getattr(settings, "SMS_MESSAGING_SERVICE", ""),
        default_from=getattr(settings, "SMS_FROM", ""),
        timeout=float(getattr(settings, "SMS_TIMEOUT", 10)),
        body_template=getattr(settings, "SMS_BODY_TEMPLATE", None),
    )
    if kind == "twilio":
        return TwilioProvider(config, rate=rate)
    return SahaGatewayProvider(config, rate=rate)
