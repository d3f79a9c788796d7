"""B7: check-in scans per second from 40 gates at one big event, against B1's bare view.

A scan is what the gate page's camera sends (saha/events/views/gate.py): `POST
/manage/<org>/events/<id>/gate/` with the ticket's signed token and a nonce of
the phone's own, `Accept: application/json`, signed in as check-in staff (a
session cookie, the CSRF cookie and header). Forty gates: forty staff members,
each with a session of their own, over forty keep-alive connections. Every
ticket is scanned once, except one scan in twenty, which scans again a ticket
another gate has just scanned (a second phone at the same door): it must be
answered "already", and counted once.

The event is big and the day is late: CROWD people are already in (their
check-ins stored, as the gates made them), and the gates scan the other
TICKETS. A gate's answer carries the banner's counts, so what it costs to know
how many are in, with tens of thousands in, is part of every scan.

The figure is the highest offered rate held (every scan answered 200, p99
under 1 s; bench.harness.capacity), and the ceiling the same procedure over
the same forty connections against bench/ceiling/'s one-INSERT view. Then:
check-ins stored = tickets admitted, none admitted twice, and the banner's
count equal to the check-ins stored, crowd included.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from bench.harness.capacity import SAHA_SECONDS, Profile, ceiling_capacity, find_capacity
from bench.harness.context import Context
from bench.harness.loadgen import Request
from bench.harness.results import Result

IDS = ["B7"]
BUDGET = 240
GATES = 40
TICKETS = 10_000
CROWD = 40_000
STEP_SECONDS = 6
START_RATE = 50.0
RESCAN_EVERY = 20
CROWD_NONCE = "already-in-"


def make_event(run: str, tickets: int, crowd: int) -> tuple[Any, list[str], list[str]]:
    """A published event with `crowd + tickets` confirmed RSVPs, the crowd already in;
    the other tickets' tokens, and the session cookies of GATES check-in staff."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from saha.events import headcount
    from saha.events import tickets as ticket_codes
    from saha.events.models import Event, EventStatus, Rsvp
    from saha.testing.factories import OrganizationFactory

    organization = OrganizationFactory(slug=f"bench-b7-{run}", require_mfa=False)
    start = timezone.now() + dt.timedelta(hours=1)
    event = Event.objects.create(
        organization=organization,
        slug="big-rally",
        titles={"en": "Big rally"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        time_zone="Asia/Beirut",
        capacity=crowd + tickets,
        confirmed=crowd + tickets,
        status=EventStatus.PUBLISHED,
    )
    fill(event, crowd + tickets, crowd)
    # The crowd's check-ins counted as the gates would have, by the code that
    # repairs counters (saha/events/headcount.py).
    headcount.recount(event.pk)
    waiting = Rsvp.objects.filter(event=event, check_in__isnull=True).order_by("pk")
    tokens = [ticket_codes.ticket_token(pk) for pk in waiting.values_list("pk", flat=True)]
    sessions = [staff_session(organization, f"gate{gate}-{run}") for gate in range(GATES)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return event, tokens, sessions


def fill(event: Any, rsvps: int, crowd: int) -> None:
    """`rsvps` confirmed RSVPs of new people, the first `crowd` of them checked in."""
    from saha.events import tickets as ticket_codes
    from saha.events.models import CheckIn, Rsvp, RsvpStatus
    from saha.supporters.models import Person, Source

    organization = event.organization
    codes: set[str] = set()
    while len(codes) < rsvps:
        codes.add(ticket_codes.new_code())
    ordered = sorted(codes)
    for first in range(0, rsvps, 5000):
        people = Person.objects.bulk_create(
            Person(organization=organization, given_name=f"Attendee {i}", source=Source.EVENT)
            for i in range(first, min(first + 5000, rsvps))
        )
        rows = Rsvp.objects.bulk_create(
            Rsvp(
                organization=organization,
                event=event,
                person=person,
                status=RsvpStatus.CONFIRMED,
                code=ordered[first + n],
            )
            for n, person in enumerate(people)
        )
        CheckIn.objects.bulk_create(
            CheckIn(
                organization=organization,
                event=event,
                rsvp=rsvp,
                nonce=f"{CROWD_NONCE}{first + n}",
                method="scan",
            )
            for n, rsvp in enumerate(rows)
            if first + n < crowd
        )


def staff_session(organization: Any, name: str) -> str:
    """A check-in staff member of `organization`, signed in: their session's key."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from saha.organizations.models import Membership
    from saha.organizations.roles import Role

    user = get_user_model().objects.create_user(email=f"{name}@example.org", password=None)
    Membership.objects.create(organization=organization, user=user, role=Role.CHECKIN_STAFF)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def scan_body(body: bytes) -> dict[str, Any]:
    try:
        return json.loads(body)
    except ValueError:
        return {}


def reconcile(event: Any, bodies: list[bytes]) -> dict[str, Any]:
    from saha.events import gate
    from saha.events.models import CheckIn

    answers = [scan_body(body) for body in bodies]
    admitted = [a.get("ticket_code") for a in answers if a.get("code") == "admitted"]
    already = [a.get("ticket_code") for a in answers if a.get("code") == "already"]
    answered = set(admitted) | set(already)
    rows = CheckIn.objects.filter(event=event)
    stored = set(rows.exclude(nonce__startswith=CROWD_NONCE).values_list("rsvp__code", flat=True))
    banner = gate.counts(event).checked_in
    return {
        "scans_answered": len(answers),
        "admitted": len(admitted),
        "already": len(already),
        "other": len(answers) - len(admitted) - len(already),
        "check_ins_stored": len(stored),
        "lost": len(answered - stored),  # a ticket answered as in, with no check-in
        "duplicates": len(admitted) - len(set(admitted)),  # admitted twice
        "stored_beyond_answered": len(stored - answered),  # a scan whose answer was lost
        "banner_checked_in": banner,
        "banner_off_by": banner - rows.count(),  # the counts shown against the rows
    }


def run(ctx: Context) -> list[Result]:
    ctx.setup_django()
    run_id = uuid.uuid4().hex[:8]
    tickets, crowd = ctx.size(TICKETS, minimum=500), ctx.size(CROWD, minimum=2000)
    event, tokens, sessions = make_event(run_id, tickets, crowd)
    ctx.log(f"{crowd} already in, {tickets} tickets to scan, {GATES} gate staff sessions")
    step = STEP_SECONDS / 2 if ctx.quick else STEP_SECONDS
    path = f"/manage/{event.organization.slug}/events/{event.pk}/gate/"
    csrf = secrets.token_hex(16)  # 32 characters, as Django's CSRF cookie holds

    def scan(i: int) -> Request:
        # One in RESCAN_EVERY scans a ticket scanned a moment ago by another gate.
        ticket = i - 7 if i % RESCAN_EVERY == RESCAN_EVERY - 1 and i >= 7 else i
        gate = i % GATES
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Cookie": f"sessionid={sessions[gate]}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
        }
        form = {"token": tokens[ticket % len(tokens)], "nonce": f"{run_id}-{gate}-{i}"}
        return Request("POST", path, headers, urlencode(form).encode())

    def row(i: int) -> Request:
        headers = {"Content-Type": "application/json"}
        payload = {"key": f"b7-{run_id}-{i}", "token": tokens[i % len(tokens)]}
        return Request("POST", "/insert", headers, json.dumps(payload).encode())

    ceiling = ceiling_capacity(ctx, row, start=START_RATE, step_seconds=step, connections=GATES)

    saha = ctx.start_saha(ctx.database_url, workers=2, threads=8)
    ctx.log(f"saha: the gate, {GATES} gates")
    found = find_capacity(
        port=saha.port,
        make_request=scan,
        deadline=ctx.deadline(SAHA_SECONDS),
        profile=Profile(saha.process.pid, ctx.var_dir / "b7-saha.pyspy.txt", rate=100),
        start=START_RATE,
        step_seconds=step,
        connections=GATES,
        ok_statuses=(200,),
        keep_bodies=True,
        log=ctx.log,
    )
    peak = saha.peak_rss_mb()
    saha.stop()
    counts = reconcile(event, found.bodies)
    ctx.log(f"reconciled: {counts}")
    if counts["banner_off_by"]:
        raise AssertionError(f"the gate's count is off by {counts['banner_off_by']}")
    if found.ok > len(tokens):
        ctx.log(f"note: {found.ok} scans for {len(tokens)} tickets: some tickets came round again")
    return [
        Result(
            id="B7",
            what=f"check-in scans per second, {GATES} gates, {crowd:,} already in",
            value=found.best_rate,
            unit="scans/s",
            ceiling=ceiling.best_rate,
            ceiling_what=f"B1's bare view, one INSERT per request, {GATES} connections",
            lost=counts["lost"],
            duplicates=counts["duplicates"],
            peak_rss_mb=peak,
            details={
                **found.details(),
                "reconcile": counts,
                "tickets": len(tokens),
                "already_in": crowd,
                "ceiling": ceiling.details(),
                "server": "gunicorn 2 workers x 8 threads",
                "connections": GATES,
                "step_seconds": step,
                "p99_limit_ms": 1000,
            },
        )
    ]
