"""How fast the outbox pushes a broadcast, against plain smtplib as the ceiling.

    .venv/bin/python bench/outbox_throughput.py --messages 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/saha_bench \
        .venv/bin/python bench/outbox_throughput.py --messages 20000

Both runs send the same number of messages of the same size to the same
loopback SMTP server (aiosmtpd, in a process of its own), in the same run:

- ceiling: `smtplib.sendmail` on one persistent connection, each message
  already flattened to bytes before the clock starts;
- outbox: a broadcast prepared into the outbox, then drained by one worker
  loop (claim, render, mark SENDING, send, record), as production does.

Prints messages per second for each and the ratio outbox / ceiling; the goal
is at least 0.80. Without DATABASE_URL it uses a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

SERVER = """
import sys, threading
from saha.testing.smtp_server import LoopbackSMTP
server = LoopbackSMTP().start()
print(server.port, flush=True)
sys.stdin.read()
print(len(server.messages), flush=True)
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def stop_server(process: subprocess.Popen[str]) -> int:
    out, _ = process.communicate("", timeout=60)
    return int(out.strip() or 0)


def setup_django(var_dir: Path, port: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saha.config.settings")
    os.environ["SAHA_VAR_DIR"] = str(var_dir)
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}?tls=false"
    os.environ.setdefault("SAHA_LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    if url and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to write into a database whose name does not contain 'bench'")
    if not url:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ceiling(port: int, count: int, size: int) -> float:
    """Plain smtplib: one connection, messages built before the clock starts."""
    messages = []
    for n in range(count):
        message = EmailMessage()
        message["From"] = "Bench <bench@example.org>"
        message["To"] = f"c{n}@example.org"
        message["Subject"] = "Rally on Saturday"
        message["Message-ID"] = f"<ceiling.{n}@example.org>"
        message.set_content(("x" * 70 + "\n") * (size // 71))
        messages.append((message["To"], message.as_bytes(policy=policy.SMTP)))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for recipient, data in messages:
            smtp.sendmail("bench@example.org", [recipient], data)
    return count / (time.perf_counter() - started)


def outbox_rate(count: int) -> tuple[float, float, int]:
    """Returns (messages per second while draining, seconds to prepare, message size)."""
    from saha.messaging import broadcasts, outbox
    from saha.messaging.models import Delivery, DeliveryStatus
    from saha.messaging.tests.outbox_factories import broadcast, crowd
    from saha.organizations.models import Organization

    slug = f"bench-{int(time.time())}"
    org = Organization.objects.create(
        slug=slug, names={"en": "Bench"}, default_language="en", time_zone="UTC"
    )
    crowd(org, count)
    made = broadcast(
        org,
        versions={"en": ("Rally on Saturday", "Dear {{ given_name | friend }},\n\n" + "x" * 400)},
    )
    broadcasts.request_send(actor=None, broadcast=made)
    started = time.perf_counter()
    broadcasts.prepare(made.pk)
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    while outbox.drain(budget_seconds=600).sent:
        pass
    elapsed = time.perf_counter() - started
    sent = Delivery.objects.filter(message=made.message, status=DeliveryStatus.SENT).count()
    assert sent == count, f"only {sent} of {count} sent"
    sample = Delivery.objects.filter(message=made.message).first()
    return count / elapsed, prepared, len(sample.address) if sample else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server()
        try:
            setup_django(Path(tmp), port)
            from django.db import connection

            # The outbox's messages are about 2.5 kB (text, HTML, headers): match it.
            # The ceiling is the best of three runs, one of them after the outbox's
            # (the loopback server's speed drifts): the ratio errs on the low side.
            sample = min(args.messages, 5000)
            base = max(ceiling(port, sample, size=2500) for _ in range(2))
            rate, prepared, _ = outbox_rate(args.messages)
            base = max(base, ceiling(port, sample, size=2500))
        finally:
            received = stop_server(server)
    print(f"database: {connection.vendor}; messages: {args.messages}; received: {received}")
    print(f"ceiling (smtplib, one connection, best of 3): {base:,.0f} messages/s")
    print(f"outbox (claim, render, send, record): {rate:,.0f} messages/s")
    print(f"prepare (write the outbox rows): {prepared:.2f} s")
    print(f"ratio outbox / ceiling: {rate / base:.2f} (goal: at least 0.80)")


if __name__ == "__main__":
    main()
