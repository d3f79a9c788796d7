"""pretix, the peer of the RSVP benchmark (B2): the real thing, not a stand-in.

pretix is installed from PyPI into its own virtual environment
(var/bench/pretix-venv, with the same gunicorn version as Saha's), configured
by its own file, migrated into its own PostgreSQL database on the server of
the benchmark's DATABASE_URL (`pretix_bench` unless told), and run under
gunicorn with the settings Saha gets. Installing (about a minute) and
migrating (minutes: some 250 migrations) are done once and remembered under
var/bench/; a later run only writes the config, seeds a few events and starts
the server.

    .venv/bin/python -m bench.peers.pretix prepare [--database-url URL]   # install + migrate
    .venv/bin/python -m bench.peers.pretix version

What B2 asks of it (ARCHITECTURE.md, "Known facts"): a free order is
`POST /api/v1/organizers/{o}/events/{e}/orders/` with a team's API token
(`Authorization: Token ...`, a team with `all_event_permissions`), one
position of a free item whose quota is the capacity, `send_email: false`,
answered 201; past the quota pretix answers 400.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness.context import create_database, database_name, ensure_bench_name, with_database
from bench.harness.servers import Server, free_port, start_process

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "var" / "bench"
VENV = HOME / "pretix-venv"
DATA = HOME / "pretix-data"
PYTHON = VENV / "bin" / "python"
# The version B2 was written against; a newer one may move the API's rights again.
REQUIREMENT = "pretix==2026.8.0"
DATABASE = "pretix_bench"
ORGANIZER = "bench"
# Environment of this process that must not reach pretix's (Saha's settings, paths).
FOREIGN = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")

Log = Callable[[str], None]


def _quiet(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Pretix:
    """A prepared pretix: its config file, its database and its version."""

    config: Path
    database_url: str
    version: str

    def env(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        environment["PRETIX_CONFIG_FILE"] = str(self.config)
        environment["DJANGO_SETTINGS_MODULE"] = "pretix.settings"
        return environment

    def python(self, script: str, *args: str, timeout: float = 600) -> str:
        """Run `script` in pretix's environment (Django set up first); its stdout."""
        done = subprocess.run(  # noqa: S603
            [str(PYTHON), "-c", "import django; django.setup()\n" + script, *args],
            cwd=DATA,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"pretix script failed:\n{done.stdout}{done.stderr[-3000:]}")
        return done.stdout


# --- Installing, configuring, migrating ---------------------------------------------


def _gunicorn_requirement() -> str:
    """The gunicorn of Saha's own environment, so both servers run the same one."""
    try:
        return f"gunicorn=={importlib.metadata.version('gunicorn')}"
    except importlib.metadata.PackageNotFoundError:
        return "gunicorn"


def ensure_installed(log: Log = _quiet) -> str:
    """Install pretix (and gunicorn beside it) unless done with these pins; its version."""
    wanted = f"{REQUIREMENT} {_gunicorn_requirement()}"
    marker = VENV / "bench-installed.txt"
    if not (PYTHON.exists() and marker.exists() and marker.read_text().strip() == wanted):
        started = time.monotonic()
        log(f"installing {wanted} into {VENV.relative_to(ROOT)} (once; about a minute)")
        base = Path(sys.base_prefix) / "bin" / "python3"
        if not PYTHON.exists():
            subprocess.run([str(base), "-m", "venv", str(VENV)], check=True)  # noqa: S603
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *wanted.split()], check=True)  # noqa: S603
        marker.write_text(wanted + "\n")
        log(f"installed pretix in {time.monotonic() - started:.0f} s")
    return installed_version()


def looks_prepared() -> bool:
    """Installed and migrated into the default database, by the markers (no database
    access: run.py reads it to give a first run the time to do both)."""
    name = os.environ.get("PRETIX_BENCH_DATABASE", DATABASE)
    return (VENV / "bench-installed.txt").exists() and (DATA / f"migrated-{name}.txt").exists()


def installed_version() -> str:
    done = subprocess.run(  # noqa: S603
        [str(PYTHON), "-c", "import importlib.metadata as m; print(m.version('pretix'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def pretix_database_url(database_url: str, name: str | None = None) -> str:
    """pretix's own database beside the benchmark's, on the same server."""
    url = with_database(database_url, name or os.environ.get("PRETIX_BENCH_DATABASE", DATABASE))
    ensure_bench_name(url)
    return url


def write_config(path: Path, database_url: str, redis_url: str = "") -> Path:
    """pretix.cfg for `database_url`: PostgreSQL, no Celery (tasks run in the request, as
    a small pretix runs), Redis as its cache only if given (without it pretix caches
    nothing), no exchange-rate fetching, mail to nowhere."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(database_url)
    DATA.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(
            [
                "[pretix]",
                "instance_name=pretix (Saha benchmark)",
                "url=http://127.0.0.1",
                f"datadir={DATA}",
                "ecb_rates=off",
                "",
                "[database]",
                "backend=postgresql",
                f"name={database_name(database_url)}",
                f"user={unquote(parts.username or 'postgres')}",
                f"password={unquote(parts.password or '')}",
                f"host={parts.hostname or '127.0.0.1'}",
                f"port={parts.port or 5432}",
                "",
                *(["[redis]", f"location={redis_url}", ""] if redis_url else []),
                "[django]",
                "debug=off",
                "",
                "[mail]",
                "from=bench@localhost",
                "host=127.0.0.1",
                "port=1",
                "",
            ]
        )
    )
    return path


def _migrated(database_url: str) -> bool:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT to_regclass('public.pretixbase_organizer') IS NOT NULL"
        ).fetchone()
    return bool(row and row[0])


def prepare(database_url: str, config: Path, log: Log = _quiet, redis_url: str = "") -> Pretix:
    """Installed, configured and migrated (each skipped when already done)."""
    version = ensure_installed(log)
    url = pretix_database_url(database_url)
    create_database(url, drop=False)
    pretix = Pretix(config=write_config(config, url, redis_url), database_url=url, version=version)
    marker = DATA / f"migrated-{database_name(url)}.txt"
    if not (marker.exists() and marker.read_text().strip() == version and _migrated(url)):
        started = time.monotonic()
        log(f"migrating pretix {version} into {database_name(url)} (once; minutes)")
        done = subprocess.run(  # noqa: S603
            [str(PYTHON), "-m", "pretix", "migrate", "--no-input"],
            cwd=DATA,
            env=pretix.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            output = done.stdout[-2000:] + done.stderr[-3000:]
            raise RuntimeError(f"pretix migrate failed:\n{output}")
        marker.write_text(version + "\n")
        log(f"migrated pretix in {time.monotonic() - started:.0f} s")
    return pretix


# --- Seeding and counting -----------------------------------------------------------

SEED = """
import datetime as dt, json, sys
from decimal import Decimal
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled
from pretix.base.models import Event, Item, Organizer, Quota, Team

spec = json.loads(sys.argv[1])
with scopes_disabled():
    organizer = Organizer.objects.filter(slug=spec["organizer"]).first()
    if organizer is None:
        organizer = Organizer.objects.create(slug=spec["organizer"], name="Saha benchmark")
    team = Team.objects.filter(organizer=organizer, name="API").first()
    if team is None:
        team = Team.objects.create(
            organizer=organizer, name="API", all_events=True,
            all_event_permissions=True, all_organizer_permissions=True,
        )
    token = team.tokens.filter(active=True).first() or team.tokens.create(name="bench")
    made = []
    start = timezone.now() + dt.timedelta(days=3)
    for slug, size in spec["events"]:
        # As the event wizard makes one: default plugins and settings, live.
        event = Event.objects.create(
            organizer=organizer, slug=slug, name="Rally", currency="EUR",
            date_from=start, date_to=start + dt.timedelta(hours=3),
            plugins=settings.PRETIX_PLUGINS_DEFAULT, live=True,
        )
        event.set_defaults()
        item = Item.objects.create(
            event=event, name="Free ticket", default_price=Decimal("0.00"), admission=True,
        )
        quota = Quota.objects.create(event=event, name="Places", size=size)
        quota.items.add(item)
        made.append({"slug": slug, "item": item.pk, "quota": quota.pk, "size": size})
print(json.dumps({"organizer": organizer.slug, "token": token.token, "events": made}))
"""


def seed(pretix: Pretix, events: list[tuple[str, int]]) -> dict[str, Any]:
    """One organizer with an API team (kept between runs) and new events (slug, capacity),
    each with one free item under one quota of that size."""
    spec = json.dumps({"organizer": ORGANIZER, "events": events})
    return json.loads(pretix.python(SEED, spec).strip().splitlines()[-1])


def counts(pretix: Pretix, event_slug: str) -> dict[str, int]:
    """What pretix stored for one event: orders (pending or paid) and their positions."""
    import psycopg

    with psycopg.connect(pretix.database_url) as conn:
        orders, positions, people = conn.execute(
            """
            SELECT count(DISTINCT o.id), count(p.id), count(DISTINCT lower(o.email))
            FROM pretixbase_order o
            JOIN pretixbase_event e ON e.id = o.event_id
            JOIN pretixbase_organizer g ON g.id = e.organizer_id
            LEFT JOIN pretixbase_orderposition p ON p.order_id = o.id AND NOT p.canceled
            WHERE g.slug = %s AND e.slug = %s AND o.status IN ('n', 'p')
            """,
            [ORGANIZER, event_slug],
        ).fetchone()
        (size,) = conn.execute(
            """
            SELECT q.size FROM pretixbase_quota q
            JOIN pretixbase_event e ON e.id = q.event_id
            JOIN pretixbase_organizer g ON g.id = e.organizer_id
            WHERE g.slug = %s AND e.slug = %s
            """,
            [ORGANIZER, event_slug],
        ).fetchone()
    return {"orders": orders, "positions": positions, "emails": people, "quota": size}


def order_body(item: int, email: str) -> bytes:
    """A free order of one ticket, as ARCHITECTURE.md's "Known facts" has it."""
    return json.dumps(
        {
            "email": email,
            "locale": "en",
            "sales_channel": "web",
            "positions": [{"item": item, "price": "0.00"}],
            "send_email": False,
        }
    ).encode()


# --- The server ---------------------------------------------------------------------


def start(pretix: Pretix, *, workers: int, threads: int, log: Path, timeout: float = 120) -> Server:
    """pretix under gunicorn with Saha's settings (workers x threads, graceful timeout 10 s)."""
    port = free_port()
    argv = [
        *(str(PYTHON), "-m", "gunicorn", "pretix.wsgi:application"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
        *("--graceful-timeout", "10", "--no-control-socket"),
    ]
    server = Server("pretix", port, start_process(argv, env=pretix.env(), cwd=DATA, log=log), log)
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if server.process.poll() is not None:
            break
        if _answers(port):
            return server
        time.sleep(0.25)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"pretix did not answer on :{port}; {log}:\n{tail}")


def _answers(port: int) -> bool:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/v1/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description="pretix for B2: prepare it, or say its version")
    parser.add_argument("command", choices=["prepare", "version"])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/saha_bench",
    )
    args = parser.parse_args()
    if args.command == "version":
        print(installed_version() if PYTHON.exists() else "not installed")
        return 0
    pretix = prepare(args.database_url, HOME / "pretix.cfg")
    print(f"pretix {pretix.version} ready in {database_name(pretix.database_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
