"""With REDIS_URL, the cache (and so rate limits) is Redis, shared by every process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set: set REDIS_URL=redis://127.0.0.1:6379/0 to run"
)


def in_a_process(code: str, tmp_path: Path) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saha.config.settings",
        "SAHA_VAR_DIR": str(tmp_path),
        "REDIS_URL": REDIS_URL,
    }
    env.pop("DATABASE_URL", None)
    return (
        subprocess.run(
            [sys.executable, "-m", "saha.cli", "manage", "shell", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )


def test_two_processes_share_the_cache(tmp_path: Path) -> None:
    key = f"saha-test-{uuid.uuid4().hex}"
    written = in_a_process(
        "from django.core.cache import cache;"
        f"cache.set({key!r}, 'seen', 30); print(type(cache._cache).__name__)",
        tmp_path,
    )
    assert written == "RedisCacheClient"
    assert (
        in_a_process(f"from django.core.cache import cache; print(cache.get({key!r}))", tmp_path)
        == "seen"
    )
