"""The `saha` command: serve, worker, demo, createadmin, people, manage."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import saha

DEFAULT_SETTINGS = "saha.config.settings"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def cmd_manage(args: argparse.Namespace, rest: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["saha manage", *rest])
    return 0


def cmd_worker(args: argparse.Namespace, rest: list[str]) -> int:
    _setup()
    from saha.core.worker import run_worker

    run_worker(interval=args.interval, batch=args.batch)
    return 0


def cmd_demo(args: argparse.Namespace, rest: list[str]) -> int:
    _setup()
    _manage("migrate", "--no-input", "--verbosity", "0")
    from saha.organizations.demo import load_demo

    info = load_demo()
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
    else:
        print(f"Demo organization ready: {info['organization_url']}")
        print(f"Sign in at {info['login_url']}")
        print(f"  email:    {info['username']}")
        print(f"  password: {info['password']}")
    return 0


def cmd_createadmin(args: argparse.Namespace, rest: list[str]) -> int:
    _setup()
    import getpass
    import secrets

    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(args.email)
    except ValidationError:
        print(f"Not an email address: {args.email}", file=sys.stderr)
        return 2
    generated = False
    password = args.password or os.environ.get("SAHA_ADMIN_PASSWORD", "")
    if not password and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    if not password:
        password, generated = secrets.token_urlsafe(15), True
    User = get_user_model()
    try:
        validate_password(password)
    except ValidationError as exc:
        print("Password refused: " + " ".join(exc.messages), file=sys.stderr)
        return 2
    user, created = User.objects.get_or_create(email=args.email.lower())
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save(update_fields=None if created else ["is_staff", "is_superuser", "password"])
    from saha.core import audit

    audit.log(
        "saha createadmin",
        "accounts.operator_created" if created else "accounts.operator_updated",
        user,
    )
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    print(f"{'Created' if created else 'Updated'} operator {user.email}.")
    if generated:
        print(f"Password: {password}")
    return 0


# Signals that stop `saha serve`: Ctrl+C, a service manager, a dropped SSH session.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
STOP_TIMEOUT = 15.0  # seconds the children get to finish before they are killed
RESTART_DELAY_FIRST = 1.0
RESTART_DELAY_MAX = 60.0
WORKER_STABLE_AFTER = 30.0  # a worker up this long is healthy: the back-off starts over
PR_SET_PDEATHSIG = 1


def _say(message: str) -> None:
    # After a hang-up the terminal may be gone; that must not stop the shutdown.
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes a child receive SIGTERM when this process dies.

    Linux only (prctl PR_SET_PDEATHSIG); elsewhere, or without a usable libc,
    None: the children then outlive a supervisor killed with SIGKILL.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        # Looked up here, in the parent: after fork the child should only call it.
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, sigterm = os.getpid(), int(signal.SIGTERM)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    # A session of their own: the terminal's and the process group's signals
    # (Ctrl+C, a hang-up) reach only the supervisor, which then stops them.
    return subprocess.Popen(  # noqa: S603
        argv,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent(),
    )


class Supervisor:
    """Runs the web server and the worker, restarts the worker, stops both on a signal."""

    def __init__(self, web: list[str], worker: list[str] | None) -> None:
        self.web_argv, self.worker_argv = web, worker
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.worker_started = 0.0
        self.restart_delay = RESTART_DELAY_FIRST
        self.restart_at: float | None = None

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def start(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        if not self.stopping:
            self.children["web"] = _spawn(self.web_argv)
        if self.worker_argv and not self.stopping:
            self._start_worker()

    def _start_worker(self) -> None:
        assert self.worker_argv is not None
        self.children["worker"] = _spawn(self.worker_argv)
        self.worker_started = time.monotonic()
        self.restart_at = None

    def run(self) -> int:
        """Supervise until a stop signal (0) or the web server stopping (1)."""
        try:
            while not self.stopping:
                time.sleep(0.2)
                code = self.children["web"].poll()
                if code is not None and not self.stopping:
                    _say(f"The web server stopped (exit code {code}); stopping Saha.")
                    return 1
                if self.worker_argv and not self.stopping:
                    self._watch_worker()
            return 0
        finally:
            self.stop()

    def _watch_worker(self) -> None:
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self._start_worker()
            return
        code = self.children["worker"].poll()
        if code is None:
            return
        if now - self.worker_started >= WORKER_STABLE_AFTER:
            self.restart_delay = RESTART_DELAY_FIRST
        delay = self.restart_delay
        self.restart_delay = min(delay * 2, RESTART_DELAY_MAX)
        self.restart_at = now + delay
        how = f"exit code {code}"
        if code < 0:
            with contextlib.suppress(ValueError):  # an unnamed signal: the number will do
                how += f", {signal.Signals(-code).name}"
        _say(f"The worker stopped ({how}); starting it again in {delay:g} s.")

    def stop(self) -> None:
        """Terminate the children, wait up to STOP_TIMEOUT in all, then kill."""
        running = [child for child in self.children.values() if child.poll() is None]
        for child in running:
            child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in running:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def cmd_serve(args: argparse.Namespace, rest: list[str]) -> int:
    _setup()
    from django.conf import settings

    _manage("migrate", "--no-input", "--verbosity", "1")
    web_workers = args.web_workers or (2 if settings.REDIS_URL else 1)
    if web_workers > 1 and not settings.REDIS_URL:
        # The in-process cache holds the rate limits: each process would count alone.
        print(
            "Warning: several web processes without REDIS_URL each keep their own rate "
            "limits; set REDIS_URL to share them.",
            file=sys.stderr,
        )
    if not settings.DEBUG:
        _manage("collectstatic", "--no-input", "--verbosity", "0")
    web = [
        *(sys.executable, "-m", "gunicorn", "saha.config.wsgi:application"),
        *("--bind", f"{args.host}:{args.port}", "--workers", str(web_workers)),
        *("--threads", "8", "--graceful-timeout", "10"),
        # gunicorn's control socket sits at one path per user: a second
        # instance (or a test) would take over the first one's.
        "--no-control-socket",
    ]
    if args.access_log:
        web += ["--access-logfile", "-"]
    worker = None if args.no_worker else [sys.executable, "-m", "saha.cli", "worker"]
    supervisor = Supervisor(web, worker)
    try:
        supervisor.start()
        _banner(args, settings)
    except BaseException:
        supervisor.stop()
        raise
    return supervisor.run()


def _banner(args: argparse.Namespace, settings: Any) -> None:
    url = f"http://{args.host}:{args.port}"
    print(f"\nSaha {saha.__version__} is running at {url}  (Ctrl+C stops it)")
    demo = settings.VAR_DIR / "demo.json"
    if demo.exists():
        creds = json.loads(demo.read_text())
        print(
            f"Sign in at {url}/accounts/login/ as {creds['username']} "
            f"with the password {creds['password']}"
        )
    print(flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="saha", description="Saha, the public square.")
    parser.add_argument("--version", action="version", version=f"saha {saha.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then run the web server and a worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--web-workers",
        type=int,
        default=None,
        help="web processes (default: 1, or 2 with REDIS_URL)",
    )
    serve.add_argument("--no-worker", action="store_true", help="run the web server only")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request to stdout (off by default: access logs keep visitors' IP "
        "addresses and URLs, and URLs can carry secret tokens such as invitation links "
        "and password-reset keys)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run background tasks and the scheduler")
    worker.add_argument(
        "--interval", type=float, default=1.0, help="seconds between polls when the queue is empty"
    )
    worker.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    worker.set_defaults(func=cmd_worker)

    demo = sub.add_parser("demo", help="load the demo organization (idempotent)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=cmd_demo)

    admin = sub.add_parser("createadmin", help="create or update an operator account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="default: asked for, or generated and printed")
    admin.set_defaults(func=cmd_createadmin)

    from saha.supporters.cli import add_commands as add_people_commands

    add_people_commands(sub, _setup)

    from saha.api.cli import add_commands as add_api_token_commands

    add_api_token_commands(sub, _setup)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] == "manage":
        return cmd_manage(argparse.Namespace(), argv[1:])
    args = parser.parse_args(argv)
    return int(args.func(args, []) or 0)


if __name__ == "__main__":
    sys.exit(main())
