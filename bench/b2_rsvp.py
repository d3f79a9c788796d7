"""B2: RSVPs to one capacity-limited event, Saha against pretix side by side.

Both servers run at once under gunicorn with the same settings (2 workers x 8
threads, graceful timeout 10 s, same gunicorn version) on the same
PostgreSQL, and the same open-model driver (bench/harness/loadgen.py) offers
both the same ladder of rates, each rate to a new event, Saha then pretix at
each rate so that the machine's noise falls on both alike:

- Saha: the API's record attendance helper, `POST /api/v2/events/{id}/
  attendances` with a token, each request a new person (given and family
  name, an email address). The event has capacity C and **no waiting list**:
  pretix's free order either takes a place or is refused past its quota, so
  Saha does the same (a place, or 409 `event_full`). The ticket email is
  turned off (`triggers.autoresponse.enabled: false`) as pretix's is
  (`send_email: false`).
- pretix (bench/peers/pretix.py: installed from PyPI, its version recorded):
  free orders through its REST API, one position of a free item whose quota
  is C, as ARCHITECTURE.md's "Known facts" describes.

Each rate runs for a few seconds with C = the requests offered, so an event
ends exactly full when every request was taken. A side that falls behind its
offered rate (answers under 85 % of it) has found its limit and is offered no
higher rate. Then a race for the last places: 2C requests at RACE_RATE for
C places on each side.

Both get the same Redis as their cache, as the production stack runs
(PostgreSQL with Redis; .ci/run tests it so): a redis-server of the
benchmark's own on a free loopback port, in memory only (Saha's REDIS_URL,
pretix's [redis] location). Without it pretix caches nothing (its settings
are read from the database at every use): in one QUICK run here it took 2.8
orders/s without against 8.1 with, which would flatter Saha. `B2_REDIS=0`
runs both without (Saha with its in-process cache); so does a machine without
redis-server, saying so in the log and in `details.redis`.

The record: value = Saha's best accepted RSVPs/s over the ladder, ceiling =
pretix's best orders/s (a peer, not a physical ceiling: ratio > 1 means Saha
took more per second), p50/p99 at those steps, every step in `details`.
After every step, what each side stored is counted in its database:
overfilled (stored > C), lost (accepted answers not stored) and duplicates
(one person with two places, an order with two positions, or more stored
than accepted plus unanswered) must all be 0, on both sides, or the run
fails.

    .venv/bin/python -m bench.b2_rsvp [--quick]        # standalone, as run.py calls it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from bench.harness.capacity import Profile
from bench.harness.context import Context, standalone
from bench.harness.loadgen import Request, Stats, run_open
from bench.harness.results import Result, report
from bench.harness.servers import Server, free_port, start_process
from bench.peers import pretix as peer

IDS = ["B2"]
# Seconds. A first run also installs and migrates pretix (minutes, then cached):
# `python -m bench.peers.pretix prepare` does it beforehand.
BUDGET = 420 if peer.looks_prepared() else 1200
WORKERS, THREADS = 2, 8
RATES = (5, 10, 20, 40, 80, 160, 320)  # offered per second, the same to both
RACE_RATE = 80  # the race's 2 x RACE_PLACES requests, offered at this rate to both
PROFILED_RATE = 40  # with BENCH_PROFILE=1, py-spy samples Saha's workers at this step
STEP_SECONDS = 10.0
SATURATED = 0.85  # answered under this share of the offered rate: the side's limit
RACE_PLACES = 50
WARM_UP = 20  # requests to a separate event, uncounted: imports, connections
CONNECTIONS = 32  # the driver's keep-alive connections, per side


@dataclass
class Step:
    """One offered rate against one event of capacity C, and what the database says after."""

    side: str
    rate: float
    capacity: int
    stats: Stats
    accepted: int = 0
    refused_full: int = 0
    stored: int = 0
    overfilled: int = 0
    lost: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def answered_share(self) -> float:
        return self.stats.achieved_rate / self.rate if self.rate else 0.0

    @property
    def unanswered(self) -> int:
        """Sent, then given up on when the drain time ran out (neither ok nor an error)."""
        return self.stats.sent - self.stats.ok - self.stats.errors

    @property
    def other_errors(self) -> int:
        """Errors other than "full": other statuses (pretix's 409 when its quota lock
        times out) and broken connections."""
        return self.stats.errors - self.refused_full

    def as_json(self) -> dict[str, Any]:
        return {
            "offered_per_s": self.rate,
            "capacity": self.capacity,
            "accepted": self.accepted,
            "accepted_per_s": round(self.stats.achieved_rate, 1),
            "p50_ms": round(self.stats.p50_ms, 1),
            "p99_ms": round(self.stats.p99_ms, 1),
            "refused_full": self.refused_full,
            "other_errors": self.other_errors,
            "unanswered": self.unanswered,
            "shed": self.stats.shed,
            "statuses": dict(sorted(self.stats.statuses.items())),
            "stored": self.stored,
            "overfilled": self.overfilled,
            "lost": self.lost,
            "duplicates": self.duplicates,
            **({"problems": self.problems} if self.problems else {}),
        }

    def judge(self, stored: int, twice: int) -> None:
        """Overfilled, lost and duplicates from what the database holds."""
        self.stored = stored
        self.overfilled = max(0, stored - self.capacity)
        self.lost = max(0, self.accepted - stored)
        # Stored without an accepted answer: only a request left unanswered (or cut
        # off) may explain it; beyond those, something was taken twice.
        unexplained = stored - self.accepted - self.unanswered - self.other_errors
        self.duplicates = twice + max(0, unexplained)


def drive(port: int, make: Any, *, rate: float, count: int, ctx_deadline: Any) -> Stats:
    return asyncio.run(
        run_open(
            host="127.0.0.1",
            port=port,
            make_request=make,
            rate=rate,
            duration=count / rate + 1,
            max_requests=count,
            connections=CONNECTIONS,
            drain=max(5.0, ctx_deadline.at_most(60)),
            keep_bodies=True,
        )
    )


# --- Saha ---------------------------------------------------------------------------


class Saha:
    """One organization with an events:write token; an event per step, no waiting list."""

    def __init__(self, ctx: Context, stamp: str) -> None:
        ctx.setup_django()
        from saha.api.tokens import create_token
        from saha.organizations.models import Organization

        self.stamp = stamp
        self.organization = Organization.objects.create(
            slug=f"bench-b2-{stamp}",
            names={"en": "B2"},
            default_language="en",
            time_zone="Asia/Beirut",
        )
        self.secret = create_token(
            actor=None, organization=self.organization, name="B2", scopes=["events:write"]
        ).secret
        self.known = ctx.size(10000)
        prefill(self.organization, self.known)
        self.server: Any = None

    def event(self, slug: str, capacity: int) -> Any:
        import datetime as dt

        from django.utils import timezone

        from saha.events.models import Event, EventStatus

        start = timezone.now() + dt.timedelta(days=3)
        return Event.objects.create(
            organization=self.organization,
            slug=slug,
            titles={"en": "Rally"},
            kind="rally",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=3),
            time_zone="Asia/Beirut",
            capacity=capacity,
            waiting_list=False,
            status=EventStatus.PUBLISHED,
        )

    def step(self, name: str, rate: float, count: int, capacity: int, deadline: Any) -> Step:
        event = self.event(name, capacity)
        path = f"/api/v2/events/{event.uuid}/attendances"
        headers = {"Content-Type": "application/json", "OSDI-API-Token": self.secret}

        def make(i: int) -> Request:
            body = {
                "person": {
                    "given_name": f"Person {i}",
                    "family_name": "Bench",
                    "email_addresses": [{"address": f"b2-{self.stamp}-{name}-{i}@example.org"}],
                },
                "triggers": {"autoresponse": {"enabled": False}},
            }
            return Request("POST", path, headers, json.dumps(body).encode())

        stats = drive(self.server.port, make, rate=rate, count=count, ctx_deadline=deadline)
        step = Step("saha", rate, capacity, stats)
        for body in stats.bodies:
            try:
                answer = json.loads(body)
            except ValueError:
                continue
            if answer.get("status") == "accepted":
                step.accepted += 1
            elif answer.get("code") == "event_full":
                step.refused_full += 1
        unexpected = stats.ok - step.accepted
        if unexpected:
            step.problems.append(f"{unexpected} answers 2xx without status accepted")
        settle()
        self.count(step, event)
        return step

    def count(self, step: Step, event: Any) -> None:
        from django.db.models import Count

        from saha.events.models import Rsvp, RsvpStatus

        event.refresh_from_db()
        rows = Rsvp.objects.filter(event=event)
        confirmed = rows.filter(status=RsvpStatus.CONFIRMED).count()
        others = rows.exclude(status=RsvpStatus.CONFIRMED).count()
        twice = rows.values("person").annotate(n=Count("id")).filter(n__gt=1).count()
        if event.confirmed != confirmed:
            step.problems.append(
                f"event row says {event.confirmed} confirmed, RSVP rows {confirmed}"
            )
        if others:
            step.problems.append(f"{others} RSVPs not confirmed (no waiting list: expected none)")
        step.judge(max(confirmed, event.confirmed), twice)


def prefill(organization: Any, count: int) -> None:
    """The people an organization already has, then fresh planner statistics for
    them (this machine's PostgreSQL runs without autovacuum); bench/rsvp_throughput.py
    uses it too."""
    from django.db import connection

    from saha.supporters.models import Person, PersonEmail, Source

    for start in range(0, count, 5000):
        people = Person.objects.bulk_create(
            Person(organization=organization, given_name=f"Known {i}", source=Source.IMPORT)
            for i in range(start, min(start + 5000, count))
        )
        PersonEmail.objects.bulk_create(
            PersonEmail(
                organization=organization,
                person=p,
                address=f"known{p.pk}@example.org",
                is_primary=True,
            )
            for p in people
        )
    with connection.cursor() as cursor:
        for model in (Person, PersonEmail):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def settle(seconds: float = 0.5) -> None:
    """Requests the driver gave up on may still be in a server thread: let them end."""
    time.sleep(seconds)


# --- pretix -------------------------------------------------------------------------


class Pretix:
    """pretix's organizer, API team and one event per step (seeded in one go, up front)."""

    def __init__(self, prepared: peer.Pretix, steps: list[tuple[str, int]]) -> None:
        self.prepared = prepared
        seeded = peer.seed(prepared, steps)
        self.token = seeded["token"]
        self.organizer = seeded["organizer"]
        self.items = {event["slug"]: event["item"] for event in seeded["events"]}
        self.server: Any = None

    def step(
        self, slug: str, name: str, rate: float, count: int, capacity: int, deadline: Any
    ) -> Step:
        path = f"/api/v1/organizers/{self.organizer}/events/{slug}/orders/"
        headers = {"Content-Type": "application/json", "Authorization": f"Token {self.token}"}
        item = self.items[slug]

        def make(i: int) -> Request:
            body = peer.order_body(item, f"b2-{slug}-{name}-{i}@example.org")
            return Request("POST", path, headers, body)

        stats = drive(self.server.port, make, rate=rate, count=count, ctx_deadline=deadline)
        step = Step("pretix", rate, capacity, stats, accepted=stats.statuses.get(201, 0))
        step.refused_full = sum(1 for body in stats.bodies if b"quota" in body.lower())
        settle()
        stored = peer.counts(self.prepared, slug)
        if stored["quota"] != capacity:
            step.problems.append(f"quota {stored['quota']}, expected {capacity}")
        twice = (stored["positions"] - stored["orders"]) + (stored["orders"] - stored["emails"])
        step.judge(stored["positions"], twice)
        return step


def start_redis(ctx: Context) -> Server | None:
    """A redis-server of this benchmark's own, in memory only, on a free loopback port
    (None when B2_REDIS=0 or no redis-server is installed)."""
    import shutil

    if os.environ.get("B2_REDIS", "1").lower() in ("0", "false", "no"):
        return None
    binary = shutil.which("redis-server")
    if binary is None:
        ctx.log("no redis-server (Debian's package redis-server): both run without Redis")
        return None
    port = free_port()
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    log = ctx.var_dir / "B2-redis.log"
    server = Server(
        "redis", port, start_process(argv, env=os.environ, cwd=ctx.var_dir, log=log), log
    )
    ctx.servers.append(server)
    time.sleep(0.5)
    if server.process.poll() is not None:
        raise RuntimeError(f"redis-server did not start; see {log}")
    return server


# --- The run ------------------------------------------------------------------------


def run(ctx: Context) -> list[Result]:
    began = time.monotonic()
    stamp = time.strftime("%m%d%H%M%S")
    step_seconds = STEP_SECONDS / 2.5 if ctx.quick else STEP_SECONDS
    plan = [(rate, max(10, round(rate * step_seconds))) for rate in RATES]
    race = ctx.size(RACE_PLACES, minimum=20)
    profiled: dict[str, Any] = {}  # with BENCH_PROFILE=1: Saha's workers at PROFILED_RATE

    redis = start_redis(ctx)
    redis_url = f"redis://127.0.0.1:{redis.port}" if redis else ""
    prepared = peer.prepare(
        ctx.database_url,
        ctx.var_dir / "pretix.cfg",
        ctx.log,
        redis_url=f"{redis_url}/1" if redis_url else "",
    )
    slugs = [(f"b2-{stamp}-warm", WARM_UP)]
    slugs += [(f"b2-{stamp}-r{rate}", count) for rate, count in plan]
    slugs += [(f"b2-{stamp}-race", race)]
    them = Pretix(prepared, slugs)
    us = Saha(ctx, stamp)
    prepared_at = time.monotonic()
    us.server = ctx.start_saha(
        ctx.database_url,
        workers=WORKERS,
        threads=THREADS,
        env={"REDIS_URL": f"{redis_url}/0"} if redis_url else None,
    )
    them.server = peer.start(
        prepared, workers=WORKERS, threads=THREADS, log=ctx.var_dir / "B2-pretix.log"
    )
    ctx.servers.append(them.server)
    ctx.log(
        f"pretix {prepared.version} on :{them.server.port}, saha on :{us.server.port} "
        f"(set up in {time.monotonic() - began:.0f} s)"
    )
    deadline = ctx.deadline(240)
    measured_at = time.monotonic()

    us.step("warm", 10, WARM_UP, WARM_UP, deadline)
    them.step(f"b2-{stamp}-warm", "warm", 10, WARM_UP, WARM_UP, deadline)
    ladder: dict[str, list[Step]] = {"saha": [], "pretix": []}
    for rate, count in plan:
        for side in ("saha", "pretix"):
            done = ladder[side]
            if done and done[-1].answered_share < SATURATED:
                continue  # this side's limit is found: a higher rate only lengthens its queue
            if deadline.expired:
                ctx.log(f"out of time before {side} at {rate}/s")
                continue
            if side == "saha":
                watch = Profile(us.server.process.pid, ctx.var_dir / "b2-saha.pyspy.txt")
                profiler = watch.start(step_seconds) if rate == PROFILED_RATE else None
                try:
                    step = us.step(f"r{rate}", rate, count, count, deadline)
                finally:
                    if profiler is not None:
                        profiled = watch.finish(profiler)
            else:
                step = them.step(f"b2-{stamp}-r{rate}", f"r{rate}", rate, count, count, deadline)
            done.append(step)
            ctx.log(
                f"{side} at {rate}/s: {step.stats.achieved_rate:.1f}/s accepted, "
                f"p50 {step.stats.p50_ms:.0f} ms, p99 {step.stats.p99_ms:.0f} ms, "
                f"stored {step.stored}/{step.capacity}"
            )
    races = {
        "saha": us.step("race", RACE_RATE, 2 * race, race, deadline),
        "pretix": them.step(f"b2-{stamp}-race", "race", RACE_RATE, 2 * race, race, deadline),
    }
    for side, step in races.items():
        ctx.log(
            f"{side} race: {step.accepted} of {step.stats.sent} taken for {race} places, "
            f"{step.refused_full} refused full, stored {step.stored}"
        )
        if step.accepted != race and not step.unanswered and not step.other_errors:
            step.problems.append(f"{step.accepted} places taken of {race}, every request answered")
    measured = time.monotonic() - measured_at
    saha_rss, pretix_rss = us.server.peak_rss_mb(), them.server.peak_rss_mb()
    us.server.stop()
    them.server.stop()

    best = {side: max(steps, key=lambda s: s.stats.achieved_rate) for side, steps in ladder.items()}
    every = [*ladder["saha"], *ladder["pretix"], *races.values()]
    problems = [f"{s.side} {s.rate}/s: {p}" for s in every for p in s.problems]

    def side_details(side: str, rss: float) -> dict[str, Any]:
        return {
            "best_accepted_per_s": round(best[side].stats.achieved_rate, 1),
            "best_at_offered_per_s": best[side].rate,
            "p50_ms": round(best[side].stats.p50_ms, 1),
            "p99_ms": round(best[side].stats.p99_ms, 1),
            "steps": [s.as_json() for s in ladder[side]],
            "race": races[side].as_json(),
            "peak_rss_mb": rss,
            "overfilled": sum(s.overfilled for s in [*ladder[side], races[side]]),
        }

    result = Result(
        id="B2",
        what="RSVPs/s to one capacity-limited event through the API (no waiting list), "
        "each a new person",
        value=round(best["saha"].stats.achieved_rate, 1),
        unit="RSVPs/s",
        ceiling=round(best["pretix"].stats.achieved_rate, 1),
        ceiling_what=f"pretix {prepared.version}: free orders/s through its REST API, "
        "same driver, rates and PostgreSQL",
        lost=sum(s.lost for s in every),
        duplicates=sum(s.duplicates for s in every),
        peak_rss_mb=saha_rss,
        details={
            "overfilled": sum(s.overfilled for s in every),
            "p50_ms": round(best["saha"].stats.p50_ms, 1),
            "p99_ms": round(best["saha"].stats.p99_ms, 1),
            "pretix_version": prepared.version,
            "saha": side_details("saha", saha_rss),
            "pretix": side_details("pretix", pretix_rss),
            "offered_rates_per_s": list(RATES),
            "step_seconds": step_seconds,
            "race_places": race,
            "servers": f"gunicorn {peer._gunicorn_requirement().partition('==')[2] or '?'}, "
            f"{WORKERS} workers x {THREADS} threads each, both running at once",
            "redis": bool(redis_url),
            "differences": "Saha: persistent DB connections 60 s, "
            + ("Redis cache" if redis_url else "in-process cache")
            + f", {us.known} people known before (ANALYZE); pretix: persistent connections "
            + "120 s, "
            + ("Redis cache" if redis_url else "no cache (its default without Redis)")
            + ", tasks in the request (no Celery); neither sends the confirmation email",
            "waiting_list": "none on either side: pretix's free order takes a place or is "
            "refused past its quota, so Saha's event answers 409 event_full when full",
            "driver_connections": CONNECTIONS,
            "setup_seconds": round(prepared_at - began, 1),
            "measure_seconds": round(measured, 1),
            **({"profile": profiled} if profiled else {}),
            **({"problems": problems} if problems else {}),
        },
    )
    if problems:
        for problem in problems:
            ctx.log(f"PROBLEM {problem}")
        raise RuntimeError("B2's checks failed: " + "; ".join(problems))
    return [result]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    ctx = standalone("B2", quick=args.quick)
    try:
        results = run(ctx)
    finally:
        ctx.stop_servers()
    report(results, [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
