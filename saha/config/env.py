"""Reading settings from the environment, failing loudly on a bad value.

Every setting Saha reads goes through one of these helpers so that a typo in
a deployment ("SAHA_DEBUG=ture") stops the process at start-up with a message
that names the variable, instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

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
