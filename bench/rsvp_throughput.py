"""How many RSVPs one event takes per second, against a ceiling measured in the same run.

    .venv/bin/python bench/rsvp_throughput.py --rsvps 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rsvp_bench \
        .venv/bin/python bench/rsvp_throughput.py --rsvps 4000 --concurrency 4 --workers 2

One organization, one published event per path, capacity = half the RSVPs
(the other half go to the waiting list). Every RSVP is a new person, with an
email address and email consent ticked, as on the public form.

- service: `saha.events.services.rsvp(..., notify=True)` from K processes
  (SQLite: one by default, since it takes one writer at a time); ceiling: the
  same number of transactions, each one ORM INSERT of a person and the
  capacity UPDATE on an event row, from the same K processes.
- http: the public form POST (each client GETs the page once for the CSRF
  cookie and token, then posts with them as a browser does, and expects the
  303 to the ticket) against gunicorn started as `saha serve` starts it
  (W workers, 8 threads each), from K client threads with keep-alive;
  ceiling: as many GET /healthz (the cheapest dynamic view that reads the
  database) at the same concurrency, best of one run before and one after.

Then the invariant (exits non-zero if broken): confirmed == capacity on the
event row and in the RSVPs, waiting == N - capacity, N RSVPs of N distinct
people, one queued message each. Last, a profile of single RSVPs in this
process: queries and time in each step. Without DATABASE_URL it uses a fresh
SQLite file; a DATABASE_URL must name a database containing "bench".
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
WORDING = "Send me news from Bench by email."
CONTROL = re.compile(r"(BEGIN|SAVEPOINT|RELEASE|COMMIT|ROLLBACK)\b")


def setup_django(var_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saha.config.settings")
    os.environ["SAHA_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("SAHA_LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    if url and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to write into a database whose name does not contain 'bench'")
    if not url:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_event(organization, slug: str, capacity: int):
    import datetime as dt

    from django.utils import timezone

    from saha.events.models import Event, EventStatus

    start = timezone.now() + dt.timedelta(days=3)
    event = Event.objects.create(
        organization=organization,
        slug=slug,
        titles={"en": "Rally", "ar": "تجمع"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        time_zone="Asia/Beirut",
        capacity=capacity,
        status=EventStatus.PUBLISHED,
    )
    return Event.objects.select_related("organization").get(pk=event.pk)


def prefill(organization, count: int) -> None:
    """The supporters an organization already has, then fresh planner statistics
    (production runs autovacuum; this machine's PostgreSQL has it off)."""
    from django.db import connection

    from bench.b2_rsvp import prefill as known_people

    known_people(organization, count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def person_data(prefix: str, i: int, source_ref: str):
    from saha.supporters.consent import ConsentGrant
    from saha.supporters.models import Channel, ConsentSource
    from saha.supporters.services import PersonData

    consent = ConsentGrant(
        channel=Channel.EMAIL,
        wording=WORDING,
        source=ConsentSource.FORM,
        source_ref=source_ref,
        language="en",
    )
    return PersonData(
        email=f"{prefix}{i}@example.org",
        given_name=f"Person {i}",
        family_name="Bench",
        language="en",
        consents=[consent],
    )


# --- K processes, started before the clock --------------------------------------


def _child(op: Callable[[int], None], items: range, barrier, errors) -> None:
    from django.db import connection, connections

    connection.ensure_connection()
    barrier.wait()
    try:
        for i in items:
            op(i)
    except BaseException as exc:  # reported by the parent, which fails
        errors.put(f"{type(exc).__name__}: {exc}")
        connections.close_all()
        os._exit(1)
    connections.close_all()
    os._exit(0)


def in_processes(op: Callable[[int], None], n: int, k: int) -> float:
    """Runs op(0..n-1) split over k forked processes; seconds from all-ready to all-done."""
    from django.db import connections

    connections.close_all()  # never share a connection across fork
    ctx = mp.get_context("fork")
    barrier, errors = ctx.Barrier(k + 1), ctx.Queue()
    children = [
        ctx.Process(target=_child, args=(op, range(w, n, k), barrier, errors)) for w in range(k)
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    for child in children:
        child.join()
    elapsed = time.perf_counter() - started
    if any(child.exitcode for child in children):
        sys.exit(f"a process failed: {errors.get(timeout=5) if not errors.empty() else '?'}")
    return elapsed


def service_path(event, n: int, k: int) -> float:
    from saha.events import services

    def op(i: int) -> None:
        services.rsvp(event=event, data=person_data("svc", i, "bench"), notify=True)

    return in_processes(op, n, k)


def service_ceiling(organization, n: int, k: int) -> float:
    """One INSERT and the capacity UPDATE, one transaction each: the least an RSVP writes."""
    from django.db import transaction
    from django.db.models import F

    from saha.events.models import Event
    from saha.supporters.models import Person, Source

    event = make_event(organization, f"ceiling-{time.time_ns()}", n // 2)

    def op(i: int) -> None:
        with transaction.atomic():
            Person.objects.create(
                organization=organization, given_name=f"C{i}", source=Source.EVENT
            )
            Event.objects.filter(pk=event.pk, confirmed__lt=F("capacity")).update(
                confirmed=F("confirmed") + 1
            )

    return in_processes(op, n, k)


# --- HTTP: gunicorn as `saha serve` runs it, a threaded keep-alive client ---------


def start_gunicorn(workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    from django.core.management import call_command

    call_command("collectstatic", "--no-input", verbosity=0)  # as `saha serve` without DEBUG
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "saha.config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "8",
        "--graceful-timeout",
        "10",
        "--no-control-socket",
    ]
    server = subprocess.Popen(argv, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # noqa: S603
    for _ in range(300):
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"gunicorn did not answer; see {log}")


def request(
    port: int,
    method: str,
    path: str,
    body: str = "",
    headers: dict | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes, list]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body or None, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if own:
        conn.close()
    return response.status, data, response.getheaders()


def in_threads(port: int, n: int, k: int, prepare, make) -> float:
    """k client threads, each one connection; make(i, state) -> (method, path, body, headers)."""
    barrier, failures = threading.Barrier(k + 1), []

    def client(w: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        state = prepare(conn)
        barrier.wait()
        for i in range(w, n, k):
            method, path, body, headers = make(i, state)
            for attempt in range(2):  # keep-alive closed: again (an RSVP is idempotent)
                try:
                    status, data, _ = request(port, method, path, body, headers, conn)
                    break
                except (http.client.RemoteDisconnected, ConnectionError):
                    conn.close()
                    if attempt:
                        raise
            if status not in (200, 303):
                failures.append(f"{method} {path} -> {status}: {data[:300]!r}")
                return

    threads = [threading.Thread(target=client, args=(w,)) for w in range(k)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit(f"HTTP failure ({len(failures)}): {failures[0]}")
    return time.perf_counter() - started


def http_path(port: int, event, n: int, k: int) -> float:
    from django.urls import reverse

    path = reverse("events:event", args=[event.organization.slug, event.slug])
    origin = f"http://127.0.0.1:{port}"

    def prepare(conn):
        _, page, headers = request(port, "GET", path, conn=conn)
        cookie = next(
            v.split(";")[0]
            for h, v in headers
            if h.lower() == "set-cookie" and v.startswith("csrftoken=")
        )
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        return cookie, token

    def make(i, state):
        cookie, token = state
        body = urlencode(
            {
                "csrfmiddlewaretoken": token,
                "given_name": f"Person {i}",
                "family_name": "Bench",
                "email": f"http{i}@example.org",
                "phone": "",
                "language": "en",
                "consent_email": "on",
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Origin": origin,
            "Referer": origin + path,
        }
        return "POST", path, body, headers

    return in_threads(port, n, k, prepare, make)


def http_ceiling(port: int, n: int, k: int) -> float:
    return in_threads(port, n, k, lambda conn: None, lambda i, s: ("GET", "/healthz", "", {}))


# --- The invariant and the profile ------------------------------------------------


def check(event, n: int, capacity: int) -> str:
    from django.db.models import Count

    from saha.events.models import Rsvp
    from saha.messaging.models import Delivery

    event.refresh_from_db()
    rows = Rsvp.objects.filter(event=event)
    by_status = dict(rows.values_list("status").annotate(c=Count("id")).order_by())
    people = rows.values("person").distinct().count()
    twice = rows.values("person").annotate(c=Count("id")).filter(c__gt=1).order_by().count()
    messages = Delivery.objects.filter(person__rsvps__event=event).count()
    got = (
        f"confirmed {by_status.get('confirmed', 0)} (event row {event.confirmed}), "
        f"waiting {by_status.get('waiting', 0)}, rsvps {rows.count()}, people {people}, "
        f"messages queued {messages}"
    )
    if (
        event.confirmed,
        by_status.get("confirmed"),
        by_status.get("waiting"),
        rows.count(),
        people,
        twice,
        messages,
    ) != (capacity, capacity, n - capacity, n, n, 0, n):
        sys.exit(
            f"INVARIANT BROKEN on {event.slug}: {got}; expected confirmed {capacity}, "
            f"waiting {n - capacity}, {n} rsvps of {n} people, {n} messages"
        )
    return got


def profile(organization, count: int, show_sql: bool) -> None:
    """Single RSVPs in this process: queries and time per step (wrapped, not edited)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from saha.events import services
    from saha.messaging import services as messaging
    from saha.messaging import tasks
    from saha.supporters import services as supporters

    steps: dict[str, list[float]] = {}
    patches = [
        (services, "upsert_person", "upsert_person"),
        (supporters, "_find", "  find by email (SELECT ... FOR UPDATE)"),
        (supporters, "_create", "  create the person"),
        (supporters, "_attach_email", "  attach the email"),
        (supporters, "record_consent", "  record the consent"),
        (supporters.audit, "log", "  audit row"),
        (services, "_row", "rsvp row (look up, INSERT)"),
        (services, "_take_place", "take a place (event UPDATE)"),
        (services, "_notify", "notify (ticket into the outbox)"),
        (messaging, "preferred_channel", "  preferred channel (address lookup)"),
        (messaging, "send_transactional", "  send_transactional"),
        (tasks, "wake_outbox", "    wake_outbox (count/enqueue)"),
    ]
    saved = []
    for module, name, label in patches:
        original = getattr(module, name)
        saved.append((module, name, original))

        def timed(*a, _f=original, _label=label, **kw):
            q, t = len(connection.queries_log), time.perf_counter()
            try:
                return _f(*a, **kw)
            finally:
                step = steps.setdefault(_label, [0.0, 0])
                step[0] += time.perf_counter() - t
                step[1] += len(connection.queries_log) - q

        setattr(module, name, timed)
    event = make_event(organization, "profile", count // 2)
    total, queries, control, sample = 0.0, 0, 0, []
    try:
        for i in range(count):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                services.rsvp(event=event, data=person_data("prof", i, "bench"), notify=True)
                total += time.perf_counter() - started
            queries += len(captured)
            control += sum(bool(CONTROL.match(q["sql"])) for q in captured.captured_queries)
            if i == 1:
                sample = [q["sql"] for q in captured.captured_queries]
    finally:
        for module, name, original in saved:
            setattr(module, name, original)
    check(event, count, count // 2)
    print(
        f"\nprofile, {count} RSVPs one after another in one process "
        f"(half confirmed, half waiting): {total / count * 1000:.2f} ms and "
        f"{queries / count:.1f} statements per RSVP, of which {control / count:.1f} are "
        "BEGIN, SAVEPOINT, RELEASE or COMMIT"
    )
    for _module, _name, label in patches:
        seconds, q = steps.get(label, [0.0, 0])
        print(f"  {label:<42} {seconds / count * 1000:6.2f} ms  {q / count:5.1f} queries")
    if show_sql:
        print("\nthe queries of one RSVP:")
        for sql in sample:
            print("  " + sql[:150])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rsvps", type=int, default=2000)
    parser.add_argument(
        "--concurrency",
        type=int,
        help="processes (service), client threads "
        "(http); default 4, or 1 for the service path on SQLite",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (8 threads each)")
    parser.add_argument("--http", action="store_true", help="only the HTTP path")
    parser.add_argument("--service", action="store_true", help="only the service path")
    parser.add_argument("--profile", type=int, default=200, help="RSVPs profiled (0: none)")
    parser.add_argument("--sql", action="store_true", help="print the queries of one RSVP")
    parser.add_argument(
        "--existing",
        type=int,
        default=10000,
        help="people the organization has before (then ANALYZE)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the SQLite file (on PostgreSQL the rows always stay: drop the bench database)",
    )
    args = parser.parse_args()
    n, both = args.rsvps, not (args.http or args.service)
    tmp = tempfile.mkdtemp(prefix="rsvp-bench-")
    try:
        run(args, n, both, tmp)
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, n: int, both: bool, tmp: str) -> None:
    setup_django(Path(tmp))
    from django.db import connection

    from saha.organizations.models import Organization

    vendor = connection.vendor
    stamp = time.strftime("%H%M%S")
    org = Organization.objects.create(
        slug=f"bench-rsvp-{stamp}",
        names={"en": "Bench"},
        default_language="en",
        time_zone="Asia/Beirut",
    )
    ceiling_org = Organization.objects.create(
        slug=f"bench-rsvp-ceiling-{stamp}", names={"en": "Ceiling"}
    )
    prefill(org, args.existing)
    print(
        f"database: {vendor}; rsvps: {n:,} on one event, capacity {n // 2:,}; "
        f"{args.existing:,} people known before; machine: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    results = []
    if both or args.service:
        k = args.concurrency or (1 if vendor == "sqlite" else 4)
        event = make_event(org, "service", n // 2)
        base = service_ceiling(ceiling_org, n, k)
        took = service_path(event, n, k)
        note = " (SQLite: one writer at a time)" if vendor == "sqlite" else ""
        results.append(
            (
                "service",
                f"{k} processes{note}",
                n / took,
                n / base,
                "INSERT + capacity UPDATE, one transaction each",
                check(event, n, n // 2),
            )
        )
    if both or args.http:
        k = args.concurrency or 4
        event = make_event(org, "http", n // 2)
        server, port = start_gunicorn(args.workers, Path(tmp) / "gunicorn.log")
        try:
            base = http_ceiling(port, n, k)
            took = http_path(port, event, n, k)
            base = min(base, http_ceiling(port, n, k))
        finally:
            server.terminate()
            server.wait(timeout=30)
        results.append(
            (
                "http",
                f"{k} client threads, gunicorn {args.workers} workers x 8 threads",
                n / took,
                n / base,
                "GET /healthz, best of 2",
                check(event, n, n // 2),
            )
        )
    for path, how, rate, ceiling, what, got in results:
        print(f"\n{path} path, {how}:")
        print(
            f"  rsvps: {rate:,.0f}/s = {rate * 60:,.0f}/min "
            f"(design target 40,000/min: {rate * 60 / 40000:.2f}x of it; "
            f"pretix 300-400/min: {rate * 60 / 400:,.0f}x)"
        )
        print(f"  ceiling ({what}): {ceiling:,.0f}/s; ratio rsvps / ceiling: {rate / ceiling:.2f}")
        print(f"  invariant holds: {got}")
    if args.profile:
        profile(org, args.profile, args.sql)


if __name__ == "__main__":
    main()
