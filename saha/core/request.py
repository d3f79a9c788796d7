from __future__ import annotations

from typing import Any


def client_ip(request: Any) -> str | None:
    """The peer address. Behind a proxy, the proxy sets REMOTE_ADDR (see docs/operators.md)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
