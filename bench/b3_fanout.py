"""B3 and B4: a broadcast fanned out by real `saha worker` processes, then the same under SIGKILL.

B3: a broadcast to 100,000 people (10,000 with QUICK=1) is sent, from the
organizer's "send" (`request_send`: preparing the outbox rows included) to
every delivery recorded as sent, by two `saha worker` processes (as
SAHA_OUTBOX_WORKERS=2 intends) to a loopback SMTP sink (bench/harness/
fanout_smtp.py). Ceiling, same run: plain smtplib pushing as many messages of
the same size over as many persistent connections to the same sink,
prebuilt. The workers' peak memory is read at a tenth of the send and at its
end: it must stay flat.

B4: a second broadcast to the same people, with a worker killed (SIGKILL)
every few seconds, the two in turn, and started again a second later (the
first restart delay of `saha serve`). Lost (a recipient the sink never got),
duplicates (a recipient it got twice) and the time to finish; its ceiling is
B3's time. A second copy is allowed only for a delivery the outbox flagged
(`outcome_was_unknown`: handed to the server in the chunk a worker died
sending), with the first copy's Message-ID: `duplicates` counts the copies
outside that window and must be 0, as `lost` must; the flagged resends are
in `details.flagged_resends`.

Both use short leases (SAHA_OUTBOX_LEASE_SECONDS=3, a worker presumed dead
after 3 s silent, as saha/messaging/tests/test_crash.py does) so a kill costs
seconds, not the production two minutes of lease.

    .venv/bin/python -m bench.b3_fanout [--quick] [--recipients N] [--kill-every S]

With BENCH_PROFILE=1, py-spy samples the first worker for 20 s of B3 into
var/bench/.../b3-worker.pyspy.txt (collapsed stacks).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import profile as profiling
from bench.harness.context import standalone
from bench.harness.fanout_ceiling import push
from bench.harness.fanout_smtp import Sink
from bench.harness.people_db import migrated_copy
from bench.harness.results import Result, peak_rss_mb, report
from bench.harness.servers import start_process

IDS = ["B3", "B4"]
BUDGET = 330  # seconds, for both (bench/run.py); the first run also makes the template
WORKERS = 2
KILL_EVERY = 4.0  # seconds between two kills
RESTART_AFTER = 1.0  # saha serve's first restart delay
POLL = 0.25
BODY = (
    "Dear {{ given_name | friend }},\n\n" + ("Join us on Saturday at the square. " * 12 + "\n") * 3
)

CROWD = """
from saha.organizations.models import Organization
from saha.messaging.tests.outbox_factories import crowd
org = Organization.objects.create(slug="fanout", names={{"en": "Fan-out"}},
                                  default_language="en", time_zone="UTC")
# The first {m} speak French: B4's broadcast goes to them (a segment), B3's to all.
for first, last, language in ((0, {m}, "fr"), ({m}, {n}, "en")):
    for start in range(first, last, 20000):
        crowd(org, min(20000, last - start), start=start, language=language)
"""

# Writes the draft, then waits for a line on stdin before pressing "send", so
# the clock starts at the click and not at Python's start-up.
SEND = """
import sys, time
from saha.organizations.models import Organization
from saha.messaging import broadcasts
from saha.messaging.tests.outbox_factories import broadcast
from saha.supporters.models import Segment
org = Organization.objects.get(slug="fanout")
segment = None
if {language!r}:
    segment = Segment.objects.create(
        organization=org, name="speakers", definition={{"language": [{language!r}]}}
    )
made = broadcast(org, versions={{"en": ("Rally on Saturday", {body!r})}}, segment=segment)
print(made.pk, made.message_id, flush=True)
sys.stdin.readline()
started = time.monotonic()
broadcasts.request_send(actor=None, broadcast=made)
print(started, flush=True)
"""


@dataclass
class Fanout:
    recipients: int
    seconds: float = 0.0
    prepared_seconds: float = 0.0  # until every delivery row was written
    first_message_seconds: float = 0.0
    lost: int = 0
    resends: int = 0  # second copies received, flagged or not
    unflagged: list[str] = field(default_factory=list)
    unknown_outcomes: int = 0
    kills: int = 0
    rss_at_tenth_mb: float = 0.0
    rss_mb: float = 0.0
    message_bytes: int = 0
    timed_out: bool = False

    @property
    def rate(self) -> float:
        return self.recipients / self.seconds if self.seconds else 0.0


def _query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        cursor = conn.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def _worker_env(ctx: Any, url: str, port: int) -> dict[str, str]:
    return ctx.saha_env(
        url,
        {
            "EMAIL_URL": f"smtp://127.0.0.1:{port}?tls=false",
            "SAHA_OUTBOX_WORKERS": str(WORKERS),
            "SAHA_WORKER_HEARTBEAT_SECONDS": "1",
            "SAHA_WORKER_DEAD_AFTER_SECONDS": "3",
            "SAHA_OUTBOX_LEASE_SECONDS": "3",
        },
    )


def _start_worker(ctx: Any, env: dict[str, str], n: int) -> subprocess.Popen[bytes]:
    return start_process(
        [sys.executable, "-m", "saha.cli", "worker"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        log=ctx.var_dir / f"fanout-worker-{n}.log",
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def fan_out(
    ctx: Any,
    url: str,
    sink: Sink,
    recipients: int,
    *,
    language: str,
    kill_every: float | None,
    budget: float,
    profile: Path | None = None,
) -> Fanout:
    """Send one broadcast to everybody (or the speakers of `language`); with `kill_every`,
    SIGKILL a worker that often."""
    env = _worker_env(ctx, url, sink.port)
    sink.reset()
    result = Fanout(recipients)
    _query(url, "DELETE FROM core_workerheartbeat")
    workers = [_start_worker(ctx, env, k) for k in range(WORKERS)]
    profiler: subprocess.Popen[bytes] | None = None
    sender = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "saha.cli",
            "manage",
            "shell",
            "--no-imports",
            "-c",
            SEND.format(body=BODY, language=language),
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert sender.stdout is not None and sender.stdin is not None
        broadcast_id, message_id = (int(x) for x in sender.stdout.readline().split())
        deadline = time.monotonic() + 60
        while _query(url, "SELECT count(*) FROM core_workerheartbeat")[0][0] < WORKERS:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(POLL)
        sender.stdin.write("go\n")
        sender.stdin.flush()
        started = float(sender.stdout.readline())
        sender.wait(timeout=60)
        ctx.log(f"broadcast {broadcast_id} sent to {recipients:,} people, {len(workers)} workers")
        if profile is not None:
            # py-spy attached to the first worker for a while (BENCH_PROFILE=1).
            profiler = profiling.start(workers[0].pid, profile, seconds=20)

        next_kill = started + kill_every if kill_every else float("inf")
        restarts: list[tuple[float, int]] = []
        victim = 0
        ends = started + budget
        target = recipients
        while True:
            now = time.monotonic()
            if now > ends:
                result.timed_out = True
                ctx.log(f"over its {budget:.0f} s budget: stopping")
                break
            _, distinct = sink.count()
            # VmHWM of the live workers, before any of them is killed.
            result.rss_mb = max(result.rss_mb, peak_rss_mb([w.pid for w in workers]))
            if not result.first_message_seconds and distinct:
                result.first_message_seconds = now - started
            if not result.prepared_seconds:
                written = _query(
                    url, "SELECT recipients FROM messaging_broadcast WHERE id = %s", (broadcast_id,)
                )
                if written and written[0][0] is not None:
                    result.prepared_seconds = now - started
                    # Fewer rows than people: wait for those, the rest are lost.
                    target = min(recipients, written[0][0])
            if not result.rss_at_tenth_mb and distinct >= recipients // 10:
                result.rss_at_tenth_mb = peak_rss_mb([w.pid for w in workers])
            if distinct >= target:
                sent = _query(
                    url,
                    "SELECT count(*) FROM messaging_delivery"
                    " WHERE message_id = %s AND status = 'sent'",
                    (message_id,),
                )[0][0]
                if sent >= target:
                    result.seconds = time.monotonic() - started
                    break
            if now >= next_kill and distinct < target:
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait(timeout=10)
                restarts.append((now + RESTART_AFTER, victim))
                result.kills += 1
                victim = (victim + 1) % WORKERS
                next_kill = now + kill_every if kill_every else next_kill
            for when, k in list(restarts):
                if now >= when:
                    workers[k] = _start_worker(ctx, env, k)
                    restarts.remove((when, k))
            time.sleep(POLL)
    finally:
        profiling.finish(profiler)
        if sender.poll() is None:
            sender.kill()
        for worker in workers:
            _stop(worker)
    _reconcile(url, sink, message_id, result)
    return result


def _reconcile(url: str, sink: Sink, message_id: int, result: Fanout) -> None:
    """Lost, duplicates, and whether every duplicate was one the outbox flagged."""
    received = sink.received()
    by_recipient: dict[str, list[str]] = received["by_recipient"]
    rows = _query(
        url,
        "SELECT lower(address), outcome_was_unknown FROM messaging_delivery WHERE message_id = %s",
        (message_id,),
    )
    expected = {address for address, _ in rows}
    flagged = {address for address, unknown in rows if unknown}
    result.lost = result.recipients - len(expected & set(by_recipient))
    twice = [address for address, ids in by_recipient.items() if len(ids) > 1]
    result.resends = sum(len(by_recipient[a]) - 1 for a in twice)
    # A flagged duplicate must also carry the first copy's Message-ID.
    result.unflagged = sorted(a for a in twice if a not in flagged or len(set(by_recipient[a])) > 1)
    result.unknown_outcomes = len(flagged)
    result.message_bytes = (
        round(received["bytes"] / received["messages"]) if received["messages"] else 0
    )


def run(ctx: Any, *, recipients: int | None = None, kill_every: float = KILL_EVERY) -> list[Result]:
    n = recipients or ctx.size(100_000)
    # B4 sends to fewer people at full size, to stay within the budget: its
    # ceiling is B3's time for as many messages at B3's rate.
    m = min(n, max(ctx.size(20_000), 10_000))
    # Each send has a budget of its own (a run past it counts the rest as lost),
    # never past the end of the benchmark's budget and bench/run.py's grace.
    run_budget = getattr(ctx, "budget", None)

    def at_most(seconds: float) -> float:
        left = run_budget.remaining + 45 if run_budget is not None else seconds
        return max(10.0, min(seconds, left))

    crowd = CROWD.format(n=n, m=m)
    # The people are written once into a template database, kept for later runs.
    url = migrated_copy(
        ctx,
        "h3_fanout",
        seed=lambda template: ctx.manage(template, "shell", "--no-imports", "-c", crowd),
        seed_key=crowd,
    )
    sink = Sink.start(ctx.var_dir / "fanout")
    try:
        # The ceiling is the best of two pushes: a short one before (its message
        # size a guess, 5 kB), then up to 30,000 of the size B3 sent.
        before = push(sink.port, min(n, 20_000), 5000, WORKERS)
        sink.reset()
        profile = ctx.var_dir / "b3-worker.pyspy.txt" if profiling.wanted() else None
        b3 = fan_out(
            ctx, url, sink, n, language="", kill_every=None, budget=at_most(240), profile=profile
        )
        ctx.log(
            f"B3: {b3.rate:,.0f} messages/s, {b3.message_bytes} bytes each, workers {b3.rss_mb} MB"
        )
        sink.reset()
        after = push(sink.port, min(n, 30_000), b3.message_bytes or 5000, WORKERS)
        ceiling = max(before, after)
        ctx.log(f"B3 ceiling (smtplib, {WORKERS} connections): {before:,.0f} then {after:,.0f}/s")
        b4 = fan_out(
            ctx,
            url,
            sink,
            m,
            language="fr",
            kill_every=kill_every,
            budget=at_most(max(60, 4 * m / max(b3.rate, 1))),
        )
        ctx.log(
            f"B4: {b4.seconds:.1f} s ({b4.kills} kills), lost {b4.lost}, "
            f"second copies {b4.resends} ({len(b4.unflagged)} unflagged)"
        )
    finally:
        sink.stop()
    common = {"workers": WORKERS, "lease_seconds": 3, "message_bytes": b3.message_bytes}
    b3_time_for_m = m / b3.rate if b3.rate else 0.0
    return [
        Result(
            id="B3",
            what=f"broadcast to {n:,} people by {WORKERS} saha workers, click to all recorded sent",
            value=round(b3.rate, 1),
            unit="messages/s",
            ceiling=round(ceiling, 1),
            ceiling_what=f"plain smtplib, prebuilt messages, {WORKERS} persistent connections",
            lost=b3.lost,
            duplicates=len(b3.unflagged),
            peak_rss_mb=b3.rss_mb,
            details={
                **common,
                "recipients": n,
                "seconds": round(b3.seconds, 2),
                "ceiling_runs_per_s": [round(before), round(after)],
                "prepared_after_s": round(b3.prepared_seconds, 2),
                "first_message_after_s": round(b3.first_message_seconds, 2),
                "peak_rss_mb_at_tenth": b3.rss_at_tenth_mb,
                "flagged_resends": b3.resends - len(b3.unflagged),
                "timed_out": b3.timed_out,
                **({"profile": profiling.top(profile)} if profile else {}),
            },
        ),
        Result(
            id="B4",
            what=f"B3 to {m:,} people, a worker SIGKILLed every {kill_every:g} s "
            f"and restarted {RESTART_AFTER:g} s later",
            value=round(b4.seconds, 2),
            unit="s",
            ceiling=round(b3_time_for_m, 2),
            ceiling_what=f"B3's time for {m:,} messages at its rate",
            higher_is_better=False,
            lost=b4.lost,
            duplicates=len(b4.unflagged),
            peak_rss_mb=b4.rss_mb,
            details={
                **common,
                "recipients": m,
                "kills": b4.kills,
                "unknown_outcomes": b4.unknown_outcomes,
                "flagged_resends": b4.resends,
                "unflagged_sample": b4.unflagged[:10],
                "messages_per_s": round(b4.rate, 1),
                "timed_out": b4.timed_out,
            },
        ),
    ]


def failures(results: list[Result]) -> list[str]:
    """The broken invariants: a lost recipient, an unflagged duplicate, a run cut short."""
    found = []
    for result in results:
        if result.lost:
            found.append(f"{result.id}: {result.lost} recipients lost")
        if result.duplicates:
            found.append(f"{result.id}: {result.duplicates} duplicates outside the flagged window")
        if result.details.get("timed_out"):
            found.append(f"{result.id}: did not finish within its budget")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--recipients", type=int)
    parser.add_argument("--kill-every", type=float, default=KILL_EVERY)
    args = parser.parse_args()
    ctx = standalone("B3", quick=args.quick)
    results = run(ctx, recipients=args.recipients, kill_every=args.kill_every)
    report(results, failures(results))


if __name__ == "__main__":
    main()
