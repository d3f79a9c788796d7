"""The `saha` command, run as a newcomer runs it: a real process on a fresh var/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import saha

pytestmark = pytest.mark.slow


def saha_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SAHA_", "DJANGO_"))}
    environment["SAHA_VAR_DIR"] = str(tmp_path / "var")
    # A newcomer's machine: no DATABASE_URL, so the SQLite file under var/.
    environment.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "saha.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_version(tmp_path: Path) -> None:
    result = saha_command(tmp_path, "--version")
    assert result.stdout.strip() == f"saha {saha.__version__}"


def test_demo_prints_json_and_is_idempotent(tmp_path: Path) -> None:
    first = saha_command(tmp_path, "demo", "--json")
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    for key in ("base_url", "organization_url", "login_url", "username", "password"):
        assert info[key], key
    assert info["organization_url"].startswith(info["base_url"])
    second = json.loads(saha_command(tmp_path, "demo", "--json").stdout)
    assert second == info
    credentials = tmp_path / "var" / "demo.json"
    assert credentials.stat().st_mode & 0o777 == 0o600


def test_createadmin_refuses_a_weak_password(tmp_path: Path) -> None:
    saha_command(tmp_path, "manage", "migrate", "-v0")
    weak = saha_command(tmp_path, "createadmin", "--email", "op@example.org", "--password", "1234")
    assert weak.returncode == 2
    assert "Password refused" in weak.stderr
    made = saha_command(tmp_path, "createadmin", "--email", "op@example.org")
    assert made.returncode == 0, made.stderr
    assert "Created operator op@example.org" in made.stdout
    assert "Password:" in made.stdout
