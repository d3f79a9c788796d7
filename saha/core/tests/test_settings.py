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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", {"SMS_BACKEND": "console"}),
        ("memory:", {"SMS_BACKEND": "memory"}),
        ("file:///srv/sms", {"SMS_BACKEND": "file", "SMS_FILE_PATH": "/srv/sms"}),
        (
            "twilio://AC123:t%40k@api.twilio.com?from=+15550000",
            {
                "SMS_BACKEND": "twilio",
                "SMS_API_URL": "https://api.twilio.com",
                "SMS_API_USER": "AC123",
                "SMS_API_PASSWORD": "t@k",
                "SMS_ACCOUNT": "AC123",
                "SMS_FROM": "+15550000",
            },
        ),
        (
            "twilio+http://SK1:secret@127.0.0.1:8080?account=AC9&messaging_service=MG1",
            {
                "SMS_API_URL": "http://127.0.0.1:8080",
                "SMS_ACCOUNT": "AC9",
                "SMS_MESSAGING_SERVICE": "MG1",
            },
        ),
        (
            "https://:tok@sms.example.org/v1/messages?from=SAHA&timeout=3&tenant=lb",
            {
                "SMS_BACKEND": "http",
                "SMS_API_URL": "https://sms.example.org/v1/messages?tenant=lb",
                "SMS_API_TOKEN": "tok",
                "SMS_API_USER": "",
                "SMS_FROM": "SAHA",
                "SMS_TIMEOUT": 3,
            },
        ),
        (
            "http://user:pass@127.0.0.1:9000/messages",
            {"SMS_API_USER": "user", "SMS_API_PASSWORD": "pass", "SMS_API_TOKEN": ""},
        ),
    ],
)
def test_sms_url_forms(url: str, expected: dict[str, object], tmp_path: Path) -> None:
    config = env.sms_config(url, tmp_path)
    assert {key: config[key] for key in expected} == expected


def test_sms_defaults_to_the_console_and_a_file_under_var(tmp_path: Path) -> None:
    assert env.sms_config("file:", tmp_path)["SMS_FILE_PATH"] == str(tmp_path / "sms")


def test_an_sms_body_template_is_parsed(tmp_path: Path) -> None:
    template = '{"msisdn": "{to}", "text": "{body}"}'
    config = env.sms_config("https://:t@sms.example.org/send", tmp_path, template)
    assert config["SMS_BODY_TEMPLATE"] == {"msisdn": "{to}", "text": "{body}"}


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("carrier-pigeon://loft", ""),
        ("twilio://AC1:tok@api.twilio.com", ""),  # no sender
        ("twilio://api.twilio.com?from=+1555", ""),  # no credentials
        ("twilio://AC1:tok@api.twilio.com?from=+1555&colour=red", ""),
        ("twilio://AC1:tok@api.twilio.com?from=+1555&scheme=ftp", ""),
        ("https://:t@sms.example.org/send?timeout=soon", ""),
        ("https://:t@sms.example.org:port/send", ""),
        ("https:///send", ""),
        ("https://:t@sms.example.org/send", "not json"),
        ("https://:t@sms.example.org/send", '["{to}", "{body}"]'),
        ("https://:t@sms.example.org/send", '{"to": "{to}"}'),  # no {body}
        ("console:", '{"to": "{to}", "body": "{body}"}'),
    ],
)
def test_bad_sms_urls_are_refused(url: str, template: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="SMS_"):
        env.sms_config(url, tmp_path, template)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMS_URL", "carrier-pigeon://loft"),
        ("SMS_BODY_TEMPLATE", "{not json"),
        ("SAHA_SMS_RATE", "-1"),
        ("SAHA_DKIM_SELECTOR", "saha2026"),  # without a key file and a domain
    ],
)
def test_the_process_refuses_to_start_on_bad_messaging_settings(
    tmp_path: Path, name: str, value: str
) -> None:
    result = run_check(tmp_path, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_arabic_dates_with_times_are_written_day_first() -> None:
    import datetime as dt

    from django.utils import formats, translation

    with translation.override("ar"):
        short = formats.date_format(dt.datetime(2026, 11, 25, 15, 5), "SHORT_DATETIME_FORMAT")
    assert short.startswith("25\u200f/11\u200f/2026")
