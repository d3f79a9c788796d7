"""System checks for a deployment (`saha manage check --deploy`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104


@register(Tags.security, deploy=True)
def base_url_is_public(**kwargs: Any) -> list[Warning]:
    host = urlsplit(settings.SAHA_BASE_URL).hostname or ""
    found = []
    if host in LOCAL_HOSTS:
        found.append(
            Warning(
                f"SAHA_BASE_URL is {settings.SAHA_BASE_URL}: links in invitation emails, written "
                "by the worker, would point at the server itself.",
                hint="Set SAHA_BASE_URL to the address people use, e.g. https://saha.example.org.",
                id="saha.W001",
            )
        )
    elif settings.SAHA_HTTPS and not settings.SAHA_BASE_URL.startswith("https://"):
        found.append(
            Warning(
                "SAHA_HTTPS is on but SAHA_BASE_URL starts with http://.",
                hint="Use the https:// address in SAHA_BASE_URL.",
                id="saha.W002",
            )
        )
    return found
