"""What `bench/run.py` hands each benchmark: databases, servers, sizes, a time budget, a log.

A benchmark is a module `bench/b<N>_<name>.py` with

    def run(ctx: Context) -> list[Result]: ...

It seeds what it needs (in this process: `ctx.setup_django()` points Django at
`ctx.database_url`, migrated), starts servers with `ctx.start_saha(url)` and
`ctx.start_ceiling_app(url)` (gunicorn on a free loopback port, the same
settings for both; `run.py` stops whatever a benchmark left running), drives
them with `bench.harness.loadgen`, and returns its records. Sizes go through
`ctx.size(n)` (a tenth with QUICK=1), and time through `ctx.deadline(seconds)`.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.harness.servers import Server, start_gunicorn, start_process

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/saha_bench"

# What the Saha servers of every benchmark run with: the load generator comes
# from one address, so the per-address limits meant for the open internet
# would measure the limiter, not the code path.
SAHA_BENCH_ENV = {
    "SAHA_LOG_LEVEL": "WARNING",
    "SAHA_DEBUG": "false",
    "SAHA_API_RATE_PER_MINUTE": "10000000",
    "SAHA_API_PUBLIC_HELPER_PER_MINUTE": "10000000",
    "SAHA_PETITION_IP_LIMIT": "10000000",
    "SAHA_PETITION_EMAIL_LIMIT": "10000000",
    "SAHA_PETITION_FLOOD_THRESHOLD": "10000000",
    "SAHA_LOGIN_ATTEMPTS": "10000000",
}


class BudgetExceeded(Exception):
    """A benchmark ran past its time budget."""


@dataclass
class Deadline:
    """A time budget: `remaining`, `expired`, and `check()` that raises once it is spent."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return max(0.0, self.started + self.seconds - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining <= 0

    def check(self, what: str = "") -> None:
        if self.expired:
            raise BudgetExceeded(
                f"over its {self.seconds:g} s budget{' in ' + what if what else ''}"
            )

    def at_most(self, seconds: float) -> float:
        """`seconds`, or what is left if less (for a step's duration)."""
        return max(0.0, min(seconds, self.remaining))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def ensure_bench_name(url: str) -> None:
    if "bench" not in database_name(url):
        raise SystemExit(f"refusing a database whose name does not contain 'bench': {url}")


def _admin_connect(url: str):
    import psycopg

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def create_database(url: str, *, drop: bool) -> str:
    """Create the database of `url` (dropping it first when `drop`); return `url`."""
    from psycopg import sql

    ensure_bench_name(url)
    name = database_name(url)
    with _admin_connect(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


@dataclass
class Context:
    database_url: str
    var_dir: Path
    quick: bool = False
    benchmark: str = ""  # the id being run, for the log
    budget: Deadline | None = None  # the running benchmark's whole budget (set by run.py)
    servers: list[Server] = field(default_factory=list)
    _migrated: set[str] = field(default_factory=set)
    _django_ready: bool = False

    # --- sizes, time, log ---------------------------------------------------

    def size(self, full: int, minimum: int = 1) -> int:
        """`full`, or a tenth of it with QUICK=1 (never below `minimum`)."""
        return max(minimum, full // 10 if self.quick else full)

    def deadline(self, seconds: float) -> Deadline:
        """A budget of `seconds` (a third with QUICK=1), never past the benchmark's own."""
        seconds = seconds / 3 if self.quick else seconds
        if self.budget is not None:
            seconds = min(seconds, self.budget.remaining)
        return Deadline(seconds)

    def log(self, message: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%SZ")
        line = f"{stamp} [{self.benchmark or 'bench'}] {message}"
        print(line, file=sys.stderr, flush=True)
        with (self.var_dir / "bench.log").open("a") as log:
            log.write(line + "\n")

    # --- databases ----------------------------------------------------------

    def fresh_database(self, name: str) -> str:
        """Drop and create `<name>_bench` on the server of `database_url`; return its URL."""
        name = name if name.endswith("bench") else f"{name}_bench"
        url = with_database(self.database_url, name)
        create_database(url, drop=True)
        self._migrated.discard(url)
        return url

    def saha_env(self, database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a Saha process on `database_url` (one var dir: one secret key,
        so a session made here is valid in the servers)."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "saha.config.settings",
            "SAHA_VAR_DIR": str(self.var_dir / "saha"),
            "DATABASE_URL": database_url,
            **SAHA_BENCH_ENV,
            **(extra or {}),
        }

    def manage(
        self, database_url: str, *args: str, extra_env: Mapping[str, str] | None = None
    ) -> str:
        """`saha manage <args>` on `database_url`, in a child process; its output."""
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "saha.cli", "manage", *args],
            cwd=ROOT,
            env=self.saha_env(database_url, extra_env),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"saha manage {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def migrate_saha(self, database_url: str) -> None:
        """Migrate Saha's schema into `database_url` and collect static files, once per run."""
        if database_url in self._migrated:
            return
        ensure_bench_name(database_url)
        started = time.monotonic()
        self.manage(database_url, "migrate", "--no-input", "--verbosity", "0")
        self.manage(database_url, "collectstatic", "--no-input", "--verbosity", "0")
        self._migrated.add(database_url)
        self.log(f"migrated {database_name(database_url)} in {time.monotonic() - started:.1f} s")

    def setup_django(self) -> None:
        """Point Django in this process at `database_url` (migrated), as the servers see it.

        Once per process: every benchmark seeds Saha's data into the same
        database, each under its own organization.
        """
        if self._django_ready:
            return
        self.migrate_saha(self.database_url)
        for name, value in self.saha_env(self.database_url).items():
            os.environ[name] = value
        import django

        django.setup()
        self._django_ready = True
        self.clear_leftovers()

    def clear_leftovers(self) -> None:
        """What earlier runs left for a worker (queued tasks, signatures not taken in):
        a worker started now must not spend its time on them. Once when Django is set
        up; a benchmark that starts a worker calls it again (a repeated suite)."""
        from django_tasks_db.models import DBTaskResult

        from saha.petitions.models import PendingSignature

        tasks, _ = DBTaskResult.objects.all().delete()
        pending, _ = PendingSignature.objects.all().delete()
        if tasks or pending:
            self.log(f"cleared {tasks} queued tasks, {pending} pending signatures of earlier runs")

    # --- servers ------------------------------------------------------------

    def start_saha(
        self,
        database_url: str,
        workers: int = 2,
        threads: int = 8,
        *,
        worker: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> Server:
        """Saha under gunicorn as `saha serve` runs it (and its task worker when `worker`)."""
        self.migrate_saha(database_url)
        environment = self.saha_env(database_url, env)
        server = start_gunicorn(
            "saha",
            "saha.config.wsgi:application",
            workers=workers,
            threads=threads,
            env=environment,
            cwd=ROOT,
            log=self.var_dir / f"{self.benchmark or 'bench'}-saha.log",
            ready_path="/healthz",
        )
        self.servers.append(server)
        if worker:
            server.helpers.append(
                start_process(
                    [sys.executable, "-m", "saha.cli", "worker"],
                    env=environment,
                    cwd=ROOT,
                    log=self.var_dir / f"{self.benchmark or 'bench'}-worker.log",
                )
            )
        self.log(f"saha on :{server.port} ({workers} workers x {threads} threads)")
        return server

    def start_ceiling_app(self, database_url: str, workers: int = 2, threads: int = 8) -> Server:
        """bench/ceiling/ (POST /insert does one INSERT) under the same gunicorn settings."""
        ensure_bench_name(database_url)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.ceiling.settings",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--verbosity", "0"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"the ceiling app's migrate failed:\n{done.stdout}{done.stderr}")
        server = start_gunicorn(
            "ceiling",
            "bench.ceiling.wsgi:application",
            workers=workers,
            threads=threads,
            env=environment,
            cwd=ROOT,
            log=self.var_dir / f"{self.benchmark or 'bench'}-ceiling.log",
            ready_path="/count",
        )
        self.servers.append(server)
        self.log(f"ceiling app on :{server.port} ({workers} workers x {threads} threads)")
        return server

    def stop_servers(self) -> None:
        while self.servers:
            self.servers.pop().stop()


def standalone(benchmark: str, *, quick: bool) -> Context:
    """A Context as bench/run.py makes one, for running one benchmark's file by hand
    (DATABASE_URL, or the default; var/bench/<benchmark>/ for its files)."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    var_dir = ROOT / "var" / "bench" / benchmark.lower().replace("+", "-")
    var_dir.mkdir(parents=True, exist_ok=True)
    create_database(url, drop=False)
    return Context(database_url=url, var_dir=var_dir, quick=quick, benchmark=benchmark)
