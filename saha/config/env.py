"""Reading settings from the environment, failing loudly on a bad value.

Every setting Saha reads goes through one of these helpers so that a typo in
a deployment ("SAHA_DEBUG=ture") stops the process at start-up with a message
that names the variable, instead of silently falling back to a default.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, parse_qsl, unquote, urlencode, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def get_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def get_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def get_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def get_choice(name: str, default: str, choices: list[str]) -> str:
    value = get_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else from var/secret_key (made on first run)."""
    from_env = get_str("SECRET_KEY")
    if from_env:
        if len(from_env) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
        return from_env
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(64))
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds a key that is too short; delete it.")
    return key


def email_config(url: str, var_dir: Path) -> dict[str, object]:
    """Map EMAIL_URL to Django's EMAIL_* settings.

    smtp://user:pass@host:587 (STARTTLS with ?tls=true, the default on 587),
    smtps://user:pass@host:465 (implicit TLS), console:, file:///path, memory:.
    """
    if not url:
        url = "console:"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "memory":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        path = unquote(parts.path) or str(var_dir / "mail")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": path,
        }
    if scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {scheme!r} is not supported; use smtp, smtps, console, file "
            "or memory."
        )
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://user:pass@mail:587.")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    try:
        port = parts.port or (465 if scheme == "smtps" else 587)
        timeout = int(query.get("timeout", "20"))
    except ValueError:
        raise ImproperlyConfigured(
            "EMAIL_URL has a port or ?timeout= that is not a number."
        ) from None
    tls = query.get("tls", "true" if port == 587 else "false").lower()
    if tls not in TRUE | FALSE:
        raise ImproperlyConfigured(f"EMAIL_URL ?tls={tls!r} must be true or false.")
    use_tls = scheme == "smtp" and tls in TRUE
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_TIMEOUT": timeout,
    }


SMS_QUERY_KEYS = {"from", "timeout", "scheme", "account", "messaging_service"}


def sms_config(url: str, var_dir: Path, body_template: str = "") -> dict[str, object]:
    """Map SMS_URL (and SMS_BODY_TEMPLATE) to the SMS_* settings.

    console: (the default), file:///path, memory:,
    twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+15550000 (twilio+http://
    or ?scheme=http for a test server), and a gateway speaking Saha's JSON dialect:
    https://user:pass@sms.example.org/messages (basic auth) or
    https://:TOKEN@sms.example.org/messages (bearer token). ?from= sets the default
    sender and ?timeout= the seconds to wait for an answer.
    """
    config: dict[str, object] = {
        "SMS_BACKEND": "console",
        "SMS_FILE_PATH": "",
        "SMS_API_URL": "",
        "SMS_API_USER": "",
        "SMS_API_PASSWORD": "",
        "SMS_API_TOKEN": "",
        "SMS_ACCOUNT": "",
        "SMS_MESSAGING_SERVICE": "",
        "SMS_FROM": "",
        "SMS_TIMEOUT": 10,
        "SMS_BODY_TEMPLATE": None,
    }
    parts = urlsplit(url or "console:")
    scheme = parts.scheme.lower()
    if body_template and scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            "SMS_BODY_TEMPLATE only applies to a gateway SMS_URL (http:// or https://)."
        )
    if scheme in {"console", "memory"}:
        return {**config, "SMS_BACKEND": scheme}
    if scheme == "file":
        path = unquote(parts.path) or str(var_dir / "sms")
        return {**config, "SMS_BACKEND": "file", "SMS_FILE_PATH": path}
    if scheme in {"twilio", "twilio+http"}:
        return {**config, **_twilio_config(parts, scheme)}
    if scheme in {"http", "https"}:
        return {**config, **_sms_gateway_config(parts, body_template)}
    raise ImproperlyConfigured(
        f"SMS_URL scheme {scheme!r} is not supported; use twilio, http, https, console, file "
        "or memory."
    )


def _sms_query(parts: SplitResult, *, strict: bool) -> tuple[dict[str, str], str]:
    """The known ?key=value pairs of SMS_URL, and what is left for the gateway's URL."""
    # A "+" in ?from=+15550000 is a plus, not an encoded space.
    pairs = parse_qsl(parts.query.replace("+", "%2B"), keep_blank_values=True)
    known = {key: value for key, value in pairs if key in SMS_QUERY_KEYS}
    rest = [(key, value) for key, value in pairs if key not in SMS_QUERY_KEYS]
    if rest and strict:
        raise ImproperlyConfigured(
            f"SMS_URL has unknown parameters: {', '.join(sorted({key for key, _ in rest}))}."
        )
    try:
        timeout = int(known.get("timeout", "10"))
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(
            "SMS_URL has a port or ?timeout= that is not a number."
        ) from None
    if timeout < 1:
        raise ImproperlyConfigured("SMS_URL ?timeout= must be at least 1 second.")
    known["timeout"] = str(timeout)
    known["netloc"] = _sms_netloc(parts.hostname or "", port)
    return known, urlencode(rest)


def _sms_netloc(host: str, port: int | None) -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


def _twilio_config(parts: SplitResult, scheme: str) -> dict[str, object]:
    query, _ = _sms_query(parts, strict=True)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not user or not password:
        raise ImproperlyConfigured(
            "SMS_URL for Twilio needs credentials: twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com."
        )
    if not query.get("from") and not query.get("messaging_service"):
        raise ImproperlyConfigured(
            "SMS_URL for Twilio needs a sender: ?from=+15550000 or ?messaging_service=MG..."
        )
    http = "http" if scheme == "twilio+http" else query.get("scheme", "https").lower()
    if http not in {"http", "https"}:
        raise ImproperlyConfigured("SMS_URL ?scheme= must be http or https.")
    return {
        "SMS_BACKEND": "twilio",
        "SMS_API_URL": f"{http}://{query['netloc'] or 'api.twilio.com'}",
        "SMS_API_USER": user,
        "SMS_API_PASSWORD": password,
        # An API key (SK...) signs in for an account named apart from it.
        "SMS_ACCOUNT": query.get("account") or user,
        "SMS_MESSAGING_SERVICE": query.get("messaging_service", ""),
        "SMS_FROM": query.get("from", ""),
        "SMS_TIMEOUT": int(query["timeout"]),
    }


def _sms_gateway_config(parts: SplitResult, body_template: str) -> dict[str, object]:
    query, rest = _sms_query(parts, strict=False)
    if not parts.hostname:
        raise ImproperlyConfigured(
            "SMS_URL needs a host, e.g. https://:TOKEN@sms.example.org/messages."
        )
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    basic = bool(user and password)
    api_url = f"{parts.scheme.lower()}://{query['netloc']}{parts.path or '/'}"
    return {
        "SMS_BACKEND": "http",
        "SMS_API_URL": f"{api_url}?{rest}" if rest else api_url,
        "SMS_API_USER": user if basic else "",
        "SMS_API_PASSWORD": password if basic else "",
        # A single secret (https://:TOKEN@host) is a bearer token.
        "SMS_API_TOKEN": "" if basic else password or user,
        "SMS_FROM": query.get("from", ""),
        "SMS_TIMEOUT": int(query["timeout"]),
        "SMS_BODY_TEMPLATE": _sms_body_template(body_template),
    }


def _sms_body_template(raw: str) -> dict[str, object] | None:
    """SMS_BODY_TEMPLATE: the JSON a gateway expects, with {to}, {from}, {body}, {reference}."""
    if not raw:
        return None
    try:
        template = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"SMS_BODY_TEMPLATE is not valid JSON: {error}.") from None
    if not isinstance(template, dict):
        raise ImproperlyConfigured("SMS_BODY_TEMPLATE must be a JSON object.")
    missing = [name for name in ("{to}", "{body}") if name not in raw]
    if missing:
        raise ImproperlyConfigured(f"SMS_BODY_TEMPLATE must contain {' and '.join(missing)}.")
    return template
