"""`saha api-token create|list|revoke`, through the `saha` entry point (saha.cli.main) on
the test database, and once as a real process on a fresh var/: the token alone on
standard output, notes on standard error, exit code 2 for what does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from saha import cli
from saha.api import scopes
from saha.api.models import ApiToken
from saha.api.tokens import create_token, find_token
from saha.core.models import AuditEntry


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = cli.main(["api-token", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_prints_the_token_alone_and_once(org_a: Any, capsys: Any) -> None:
    code, out, err = run(
        capsys,
        *("create", "--org", org_a.slug, "--name", "Warehouse sync"),
        *("--scope", "people:read", "--scope", "events:write"),
    )
    assert code == 0
    secret = out.strip()
    assert out == secret + "\n"  # a script can do TOKEN=$(saha api-token create ...)
    token = find_token(secret)
    assert token is not None and token.organization == org_a and token.name == "Warehouse sync"
    assert token.scopes == ["people:read", "events:write"]
    assert token.prefix in err and secret not in err
    assert AuditEntry.objects.get(action="api.token.created").actor_label == "cli"
    # and never again: list shows the prefix, not the secret
    code, out, _err = run(capsys, "list", "--org", org_a.slug)
    assert code == 0 and token.prefix in out and secret not in out


def test_create_without_scopes_reads_everything_and_writes_nothing(org_a: Any, capsys: Any) -> None:
    code, out, _err = run(capsys, "create", "--org", org_a.slug, "--name", "reader")
    assert code == 0
    token = find_token(out.strip())
    assert token is not None and token.scopes == scopes.DEFAULT_SCOPES


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--org", "nope", "--name", "x"),
        ("create", "--org", "org-a", "--name", "x", "--scope", "people:admin"),
        ("create", "--org", "org-a", "--name", "  "),
        ("list", "--org", "nope"),
        ("revoke", "--org", "nope", "saha_abc"),
        ("revoke", "--org", "org-a", "saha_doesnotexist"),
    ],
)
def test_what_does_not_exist_is_a_clear_message_and_exit_code_2(
    org_a: Any, capsys: Any, args: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == "" and err.startswith("saha: ")
    assert not ApiToken.objects.exists()


def test_revoke_by_prefix(org_a: Any, org_b: Any, capsys: Any) -> None:
    made = create_token(actor="test", organization=org_a, name="old")
    theirs = create_token(actor="test", organization=org_b, name="b")
    # another organization's prefix is not found in A
    code, _out, _err = run(capsys, "revoke", "--org", org_a.slug, theirs.token.prefix)
    assert code == 2 and find_token(theirs.secret) is not None
    # the prefix as `list` prints it revokes the token
    code, _out, err = run(capsys, "revoke", "--org", org_a.slug, made.token.prefix + "…")
    assert code == 0 and "Revoked" in err
    assert find_token(made.secret) is None
    assert AuditEntry.objects.get(action="api.token.revoked").actor_label == "cli"
    code, out, _err = run(capsys, "list", "--org", org_a.slug)
    assert "revoked" in out
    # a second time: nothing more to do, still fine
    assert run(capsys, "revoke", "--org", org_a.slug, made.token.prefix)[0] == 0


@pytest.mark.slow
def test_as_a_real_process(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SAHA_", "DJANGO_"))}
    environment["SAHA_VAR_DIR"] = str(tmp_path / "var")
    environment.pop("DATABASE_URL", None)

    def saha(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "saha.cli", *args],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )

    assert saha("demo").returncode == 0  # migrates and makes an organization
    slug = saha("demo", "--json").stdout.split('"organization_url": "')[1].split('"')[0]
    slug = slug.rstrip("/").rsplit("/", 1)[-1]
    made = saha("api-token", "create", "--org", slug, "--name", "ci", "--scope", "people:read")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("saha_") and made.stdout.count("\n") == 1
    missing = saha("api-token", "create", "--org", "no-such-org", "--name", "x")
    assert missing.returncode == 2 and "no-such-org" in missing.stderr and missing.stdout == ""
