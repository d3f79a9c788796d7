"""The `saha` command: serve, worker, demo, createadmin, manage."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
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
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    print(f"{'Created' if created else 'Updated'} operator {user.email}.")
    if generated:
        print(f"Password: {password}")
    return 0


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv)  # noqa: S603


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
        *("--threads", "8", "--access-logfile", "-", "--graceful-timeout", "10"),
    ]
    worker = [sys.executable, "-m", "saha.cli", "worker"]
    children: dict[str, Any] = {"web": _spawn(web)}
    if not args.no_worker:
        children["worker"] = _spawn(worker)
    _banner(args, settings)
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            time.sleep(0.5)
            if children["web"].poll() is not None:
                print("The web server stopped; stopping Saha.", file=sys.stderr)
                break
            if "worker" in children and children["worker"].poll() is not None:
                print("The worker stopped; starting it again.", file=sys.stderr)
                time.sleep(1)
                children["worker"] = _spawn(worker)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0 if stopping else 1


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
