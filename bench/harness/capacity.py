"""The best rate a server sustains: offered rates stepped up until one is not held.

The same procedure for Saha and for its ceiling: a short warm-up at half the
first rate (uncounted; its requests are real and count in `ok`), then steps of
`step_seconds` at `start`, `start * factor`, ... (open model,
bench.harness.loadgen). A step is held when every request got an OK answer
(none shed, refused or failed) and p99 stayed under `p99_limit_ms`. After the
first step not held, steps halfway between the highest held and the lowest
not held, while those are more than 10% apart (RESOLUTION). The figure is the highest rate
held: every request offered at it was accepted within the p99 bound (a step's
achieved rate, in the details, is a little lower: its elapsed time includes
the last answers' latency). Request numbers run on across steps
(`make_request(i)` gets a fresh i every time), so each request is distinct.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import profile as profiling
from bench.harness.context import Context, Deadline
from bench.harness.loadgen import Request, Stats, run_open

WARMUP_SECONDS = 2.0
RESOLUTION = 1.1  # bisect until the lowest rate not held is within 10% of the highest held
# Each search's own bound. The ceiling climbs further (to about 2,000/s, where
# the driver on the same two cores gives out) and needs its bisecting steps to
# converge rather than stop on the 1,600 of the doubling grid.
CEILING_SECONDS, SAHA_SECONDS = 100, 75


@dataclass
class Capacity:
    best_rate: float = 0.0  # the highest offered rate held
    best: Stats | None = None  # that step's figures
    steps: list[dict[str, Any]] = field(default_factory=list)
    ok: int = 0  # OK answers over every step, the warm-up's included
    bodies: list[bytes] = field(default_factory=list)  # every answer's, when kept
    profile: dict[str, Any] = field(default_factory=dict)  # with BENCH_PROFILE=1

    def details(self) -> dict[str, Any]:
        best = self.best.summary() if self.best is not None else {}
        extra = {"profile": self.profile} if self.profile else {}
        return {"held_per_s": self.best_rate, **best, "steps": self.steps, **extra}


@dataclass
class Profile:
    """With BENCH_PROFILE=1, py-spy samples `pid` (and its children: gunicorn's
    workers) during the step offered at `rate`, into `output`."""

    pid: int
    output: Path
    rate: float = 50.0

    def start(self, seconds: float) -> subprocess.Popen[bytes] | None:
        if not profiling.wanted():
            return None
        self.output.unlink(missing_ok=True)  # an earlier run's must not pass for this one's
        return profiling.start(self.pid, self.output, seconds=seconds, subprocesses=True)

    def finish(self, profiler: subprocess.Popen[bytes]) -> dict[str, Any]:
        profiling.finish(profiler)
        return profiling.top(self.output)


def held(stats: Stats, planned: int, p99_limit_ms: float) -> bool:
    return (
        stats.ok == planned
        and stats.errors == 0
        and stats.shed == 0
        and stats.p99_ms <= p99_limit_ms
    )


def find_capacity(
    *,
    port: int,
    make_request: Callable[[int], Request],
    deadline: Deadline,
    start: float,
    step_seconds: float,
    connections: int,
    factor: float = 2.0,
    max_rate: float = 5000.0,
    p99_limit_ms: float = 1000.0,
    ok_statuses: tuple[int, ...] = (200, 201),
    keep_bodies: bool = False,
    log: Callable[[str], None] = print,
    profile: Profile | None = None,
) -> Capacity:
    found = Capacity()
    offset = 0
    good, bad = 0.0, 0.0
    rate, warmup = start / 2, True
    while rate and deadline.remaining > step_seconds + 5:
        seconds = WARMUP_SECONDS if warmup else step_seconds
        planned = max(1, round(rate * seconds))
        profiled = profile is not None and not warmup and rate == profile.rate
        profiler = profile.start(seconds) if profiled and profile is not None else None
        stats = asyncio.run(
            run_open(
                host="127.0.0.1",
                port=port,
                make_request=lambda i, first=offset: make_request(first + i),
                rate=rate,
                duration=seconds,
                max_requests=planned,
                connections=connections,
                max_in_flight=max(200, int(rate * 2)),
                drain=min(15.0, max(1.0, deadline.remaining - 1)),
                ok_statuses=ok_statuses,
                keep_bodies=keep_bodies,
            )
        )
        if profiler is not None and profile is not None:
            found.profile = profile.finish(profiler)
        offset += planned
        found.ok += stats.ok
        found.bodies += stats.bodies
        if warmup:
            log(f"  warm-up at {rate:g}/s: {stats.ok} of {planned} OK, p99 {stats.p99_ms:.0f} ms")
            rate, warmup = start, False
            continue
        ok = held(stats, planned, p99_limit_ms)
        found.steps.append({"offered_per_s": rate, "held": ok, **stats.summary()})
        log(
            f"  {rate:7.1f}/s offered: {stats.achieved_rate:7.1f}/s ok, p50 {stats.p50_ms:.0f} ms,"
            f" p99 {stats.p99_ms:.0f} ms, errors {stats.errors}, shed {stats.shed}"
            f"{'' if ok else '  (not held)'}"
        )
        if ok:
            good = max(good, rate)
            if rate > found.best_rate:
                found.best_rate, found.best = rate, stats
        else:
            bad = min(bad, rate) if bad else rate
        time.sleep(1.0)  # let the server settle between steps
        rate = next_rate(rate, good, bad, start=start, factor=factor, max_rate=max_rate)
    return found


def next_rate(
    rate: float, good: float, bad: float, *, start: float, factor: float, max_rate: float
) -> float:
    """The next step's rate (0: the search is over). `good`: the highest held so far;
    `bad`: the lowest not held (0 while none)."""
    if not bad:
        return rate * factor if rate * factor <= max_rate else 0.0
    if good and bad / good > RESOLUTION:
        return round((good + bad) / 2, 1)
    if not good and rate > start / 8:
        return round(rate / 2, 1)  # not even the first step held: lower
    return 0.0


def ceiling_capacity(
    ctx: Context,
    make_request: Callable[[int], Request],
    *,
    start: float,
    step_seconds: float,
    connections: int,
) -> Capacity:
    """The rate bench/ceiling/'s bare view holds (one INSERT per request), searched
    the same way as Saha's, its server started for the search and stopped after."""
    server = ctx.start_ceiling_app(ctx.database_url)
    ctx.log(f"ceiling: one INSERT per request, {connections} connections")
    try:
        return find_capacity(
            port=server.port,
            make_request=make_request,
            deadline=ctx.deadline(CEILING_SECONDS),
            start=start,
            step_seconds=step_seconds,
            connections=connections,
            log=ctx.log,
        )
    finally:
        server.stop()
