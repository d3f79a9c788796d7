"""The acceptance test of exactly-once: a broadcast to 20,000 people, a worker
killed with SIGKILL again and again while it sends, and a loopback SMTP server
counting what arrived.

Every recipient must get the message. A second copy is allowed only for a
delivery the outbox itself marked `outcome_was_unknown` (handed to the server
in the chunk the dead worker was sending), at most one chunk per kill; each
such copy carries the same Message-ID as the first, so mail systems can drop it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from saha.testing.processes import SAHA, query, shared_database_url, wait_for  # noqa: F401
from saha.testing.smtp_server import LoopbackSMTP

RECIPIENTS = 20_000
KILLS = 4
CHUNK = 50

SETUP = f"""
from saha.organizations.models import Organization
from saha.messaging import broadcasts
from saha.messaging.tests.outbox_factories import broadcast, crowd
org = Organization.objects.create(slug="crash", names={{"en": "Crash test"}},
                                  default_language="en", time_zone="UTC")
crowd(org, {RECIPIENTS})
made = broadcast(org)
broadcasts.request_send(actor=None, broadcast=made)
print(made.pk)
"""


def environment(server: LoopbackSMTP, database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saha.config.settings",
        "DATABASE_URL": database_url,
        "SAHA_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_URL": f"smtp://{server.host}:{server.port}?tls=false",
        "SAHA_WORKER_HEARTBEAT_SECONDS": "1",
        "SAHA_WORKER_DEAD_AFTER_SECONDS": "3",
        "SAHA_OUTBOX_LEASE_SECONDS": "3",
        "SAHA_OUTBOX_CHUNK": str(CHUNK),
        "SAHA_OUTBOX_WORKERS": "1",
        "SAHA_LOG_LEVEL": "WARNING",
    }


def kill_while_sending(env: dict[str, str], server: LoopbackSMTP) -> list[int]:
    """Start a worker, SIGKILL it once it has sent 2,000 more, KILLS times over."""
    kills = []
    for _ in range(KILLS):
        worker = subprocess.Popen([*SAHA, "worker", "--interval", "0.2"], env=env)
        try:
            target = len(server.messages) + 2_000
            wait_for(lambda t=target: len(server.messages) >= t, 120, "the worker to send")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        kills.append(len(server.messages))
    return kills


def finish(env: dict[str, str], database_url: str) -> None:
    worker = subprocess.Popen([*SAHA, "worker", "--interval", "0.2"], env=env)
    try:
        wait_for(
            lambda: query(database_url, "SELECT status FROM messaging_broadcast") == [("sent",)],
            300,
            "the broadcast to finish",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.slow
def test_sigkill_mid_send_loses_nothing_and_duplicates_only_unknown_outcomes(
    database_url: str, tmp_path: Path
) -> None:
    with LoopbackSMTP() as server:
        env = environment(server, database_url, tmp_path)
        subprocess.run([*SAHA, "manage", "migrate", "-v0"], env=env, check=True)
        subprocess.run([*SAHA, "manage", "shell", "-c", SETUP], env=env, check=True)

        # given a worker sending the broadcast, killed without warning four times
        kills = kill_while_sending(env, server)
        assert kills[-1] < RECIPIENTS, "the kills must land mid-send"
        # when a last worker is left to finish
        finish(env, database_url)

        # then everyone got it
        deliveries = query(
            database_url,
            "SELECT id, address, status, outcome_was_unknown FROM messaging_delivery",
        )
        assert len(deliveries) == RECIPIENTS
        assert Counter(row[2] for row in deliveries) == {"sent": RECIPIENTS}
        received = Counter(rcpt for m in server.messages for rcpt in m.rcpt_tos)
        assert set(received) == {row[1] for row in deliveries}

        # and every second copy is one the outbox knew might be one, with the same Message-ID
        duplicates = {address for address, n in received.items() if n > 1}
        unknown = {row[1] for row in deliveries if row[3]}
        outside = duplicates - unknown
        assert not outside, f"duplicates outside the unknown-outcome window: {sorted(outside)}"
        assert max(received.values()) <= 2
        assert len(unknown) <= KILLS * CHUNK
        ids_by_address: dict[str, set[str]] = {}
        for message in server.messages:
            ids_by_address.setdefault(message.rcpt_tos[0], set()).add(message.message_id)
        assert all(len(ids_by_address[address]) == 1 for address in duplicates)
        print(
            f"\n{RECIPIENTS} recipients, {KILLS} kills at {kills} messages, "
            f"{len(unknown)} unknown outcomes, {len(duplicates)} duplicates "
            f"({len(server.messages)} messages received); each duplicate was marked unknown "
            f"and reconciled: {', '.join(sorted(duplicates))}"
        )
