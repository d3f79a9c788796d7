"""Settings come from the environment and fail loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from saha.config import env


def test_booleans_are_strict(monkeypatch) -> None:
    monkeypatch.setenv("SAHA_X", "true")
    assert env.get_bool("SAHA_X") is True
    monkeypatch.setenv("SAHA_X", "ture")
    with pytest.raises(ImproperlyConfigured, match="SAHA_X"):
        env.get_bool("SAHA_X")


def test_integers_are_checked(monkeypatch) -> None:
    monkeypatch.setenv("SAHA_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="SAHA_N"):
        env.get_int("SAHA_N", 1)
    monkeypatch.setenv("SAHA_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.get_int("SAHA_N", 1, minimum=1)


def test_secret_key_is_made_once_and_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path)
    assert len(first) >= 50
    assert env.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_short_secret_key_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env.secret_key(tmp_path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://u:p%40ss@mail.example.org:587",
            {
                "EMAIL_HOST": "mail.example.org",
                "EMAIL_PORT": 587,
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
                "EMAIL_HOST_USER": "u",
                "EMAIL_HOST_PASSWORD": "p@ss",
            },
        ),
        (
            "smtps://mail.example.org",
            {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False},
        ),
        (
            "smtp://127.0.0.1:2525?tls=false&timeout=5",
            {"EMAIL_PORT": 2525, "EMAIL_USE_TLS": False, "EMAIL_TIMEOUT": 5},
        ),
        ("console:", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("file:///tmp/mail", {"EMAIL_FILE_PATH": "/tmp/mail"}),
    ],
)
def test_email_url_forms(url: str, expected: dict[str, object], tmp_path: Path) -> None:
    config = env.email_config(url, tmp_path)
    assert {key: config[key] for key in expected} == expected


@pytest.mark.parametrize(
    "url",
    [
        "pop3://mail",
        "smtp://",
        "smtp://mail?timeout=abc",
        "smtp://mail?tls=maybe",
        "smtp://mail:port",
    ],
)
def test_bad_email_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        env.email_config(url, tmp_path)


def run_check(tmp_path: Path, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SAHA_", "DJANGO_", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    environment.update({"SAHA_VAR_DIR": str(tmp_path), **overrides})
    return subprocess.run(
        [sys.executable, "-m", "saha.cli", "manage", "check", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAHA_DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://x/y"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("SAHA_LANGUAGES", "ar,de"),
        ("REDIS_URL", "http://cache"),
    ],
)
def test_the_process_refuses_to_start_on_a_bad_value(tmp_path: Path, name: str, value: str) -> None:
    result = run_check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


# What docs/operators.md prescribes for production.
PRODUCTION = {
    "SAHA_DEBUG": "false",
    "SAHA_HTTPS": "true",
    "ALLOWED_HOSTS": "saha.example.org",
    "SAHA_BASE_URL": "https://saha.example.org",
    "SECRET_KEY": "k" * 20 + "3#v9!Qz@2L&xR7^pW0m$Tj8*Yb5%Nd1(Hs6)Fg4+",
}


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = run_check(tmp_path, "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("base_url", "warning"),
    [("http://127.0.0.1:8000", "saha.W001"), ("http://saha.example.org", "saha.W002")],
)
def test_the_deploy_check_warns_about_a_wrong_base_url(
    tmp_path: Path, base_url: str, warning: str
) -> None:
    result = run_check(tmp_path, "--deploy", **{**PRODUCTION, "SAHA_BASE_URL": base_url})
    output = result.stderr + result.stdout
    assert warning in output
    other = "saha.W002" if warning == "saha.W001" else "saha.W001"
    assert other not in output
