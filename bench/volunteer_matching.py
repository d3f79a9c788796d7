"""How fast one need is matched against 100,000 offers, against a bare scan as the ceiling.

    .venv/bin/python bench/volunteer_matching.py                    # PostgreSQL on 127.0.0.1
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/my_volunteer_bench \\
        .venv/bin/python bench/volunteer_matching.py --offers 100000 [--runs 20] [--explain]

One organization with N offers (each a person, one to three capabilities, a van's
seats or a hall's square metres for resources, one or two availability ranges half of
them with a daily window, a locality of 40 and its region, coordinates for seven in
ten), past needs with attendance recorded for one person in five, and invitations on
a need at the same time as the ones measured (so "already committed" has work to do).
Rows are written with bulk INSERTs, then `ANALYZE`.

Then, for several needs (the commonest skill with coordinates and three shifts, vans
with at least 8 seats, a skill placed by locality only, a campaign need over 60 days),
`matching.candidates(need, limit=50)` runs warm ~20 times: median and p95. The
ceiling, same run, same connection: the bare scan every ranking must at least do,
`SELECT count(*)` of the active offers having the need's capability. The ratio is
candidates / ceiling (how many bare scans one matching costs).

The default DATABASE_URL is the local server's `volunteer_bench` (created when
missing); a DATABASE_URL must name a database containing "bench". With
`--keep` the data of an earlier run of the same size is reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/volunteer_bench"
ORG_SLUG = "volunteer-bench"
BATCH = 5000
LOCALITIES = [
    (f"Locality {n}", ("Beirut", "Mount Lebanon", "North", "South", "Bekaa")[n % 5])
    for n in range(40)
]
# (key, kind, unit, share of offers giving it)
CAPABILITIES = [
    ("stewarding", "skill", "people", 0.45),
    ("first-aid", "skill", "people", 0.12),
    ("translation", "skill", "people", 0.10),
    ("legal-observer", "skill", "people", 0.04),
    ("driver", "resource", "seats", 0.10),
    ("photography", "skill", "people", 0.08),
    ("sound-system", "resource", "units", 0.02),
    ("venue", "resource", "m2", 0.01),
    ("design", "skill", "people", 0.05),
    ("cooking", "skill", "people", 0.06),
    ("sign-language", "skill", "people", 0.01),
]


def setup(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saha.config.settings")
    os.environ["SAHA_VAR_DIR"] = var_dir
    os.environ.setdefault("SAHA_LOG_LEVEL", "WARNING")
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to write into a database whose name does not contain 'bench'")
    if url.startswith("postgres"):
        _create_database(url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


# --- the data --------------------------------------------------------------------------


def build(offers: int, keep: bool) -> object:
    from saha.organizations.models import Organization
    from saha.volunteers.models import Offer

    organization = Organization.objects.filter(slug=ORG_SLUG).first()
    if organization is not None:
        if keep and Offer.objects.filter(organization=organization).count() == offers:
            print(f"reusing {offers:,} offers of {ORG_SLUG}")
            return organization
        began = time.perf_counter()
        organization.delete()
        print(f"deleted the earlier run's data in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    organization = Organization.objects.create(
        slug=ORG_SLUG, names={"en": "Volunteer bench"}, default_language="en"
    )
    rng = random.Random(8)
    capabilities = _capabilities(organization)
    offer_ids, person_ids = _people_and_offers(organization, offers, rng)
    _offered(organization, capabilities, offer_ids, rng)
    _availability(organization, offer_ids, rng)
    _history(organization, capabilities, person_ids, rng)
    _analyze()
    print(f"built {offers:,} offers in {time.perf_counter() - began:.1f} s")
    return organization


def _capabilities(organization: object) -> dict[str, object]:
    from saha.volunteers.models import Capability

    rows = [
        Capability(organization=organization, key=key, names={"en": key}, kind=kind, unit=unit)
        for key, kind, unit, _share in CAPABILITIES
    ]
    return {c.key: c for c in Capability.objects.bulk_create(rows)}


def _people_and_offers(organization: object, count: int, rng: random.Random) -> tuple:
    from saha.supporters.models import Person
    from saha.volunteers.models import Offer
    from saha.volunteers.services import fold_locality

    people = Person.objects.bulk_create(
        (
            Person(organization=organization, given_name=f"V{n}", source="volunteer")
            for n in range(count)
        ),
        batch_size=BATCH,
    )
    rows = []
    for person in people:
        locality, region = rng.choice(LOCALITIES)
        placed = rng.random() < 0.7
        rows.append(
            Offer(
                organization=organization,
                person=person,
                region=region,
                locality=locality,
                locality_key=fold_locality(locality),
                latitude=round(rng.uniform(33.3, 34.6), 5) if placed else None,
                longitude=round(rng.uniform(35.1, 36.4), 5) if placed else None,
                status="active" if rng.random() < 0.95 else "withdrawn",
            )
        )
    offers = Offer.objects.bulk_create(rows, batch_size=BATCH)
    return [o.pk for o in offers], [p.pk for p in people]


def _offered(organization: object, capabilities: dict, offer_ids: list, rng: random.Random) -> None:
    from saha.volunteers.models import OfferedCapability

    def rows():
        for offer_id in offer_ids:
            chosen = [key for key, _k, _u, share in CAPABILITIES if rng.random() < share]
            for key in chosen or ["stewarding"]:
                capability = capabilities[key]
                quantity = None
                if capability.kind == "resource":
                    quantity = {"seats": rng.randint(2, 14), "m2": rng.randint(50, 400)}.get(
                        capability.unit, 1
                    )
                yield OfferedCapability(
                    organization=organization,
                    offer_id=offer_id,
                    capability=capability,
                    quantity=quantity,
                    committed=rng.choice([0, 0, 0, 2]) if quantity and quantity > 4 else 0,
                )

    OfferedCapability.objects.bulk_create(rows(), batch_size=BATCH)


def _availability(organization: object, offer_ids: list, rng: random.Random) -> None:
    from saha.volunteers.models import Availability

    today = dt.date.today()

    def rows():
        for offer_id in offer_ids:
            for _n in range(rng.choice([0, 1, 1, 2])):
                start = today + dt.timedelta(days=rng.randint(-10, 40))
                windowed = rng.random() < 0.5
                begin = rng.choice([7, 9, 12, 17])
                yield Availability(
                    organization=organization,
                    offer_id=offer_id,
                    starts_on=start,
                    ends_on=start + dt.timedelta(days=rng.choice([0, 1, 6, 13, 30])),
                    from_time=dt.time(begin) if windowed else None,
                    to_time=dt.time(begin + rng.choice([3, 5])) if windowed else None,
                )

    Availability.objects.bulk_create(rows(), batch_size=BATCH)


def _history(organization: object, capabilities: dict, person_ids: list, rng: random.Random):
    """Past needs with attendance recorded for one person in five; invitations on a
    need at the time of the measured ones for one person in fifty."""
    from django.utils import timezone

    from saha.events.models import Event
    from saha.volunteers.models import Assignment, Need

    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        slug="past",
        titles={"en": "Past rally"},
        kind="rally",
        starts_at=now - dt.timedelta(days=60),
        ends_at=now - dt.timedelta(days=60, hours=-4),
        time_zone="Asia/Beirut",
    )
    steward = capabilities["stewarding"]
    past = [
        Need.objects.create(
            organization=organization,
            event=event,
            capability=steward,
            wanted=10_000,
            starts_at=now - dt.timedelta(days=60 + n),
            ends_at=now - dt.timedelta(days=60 + n, hours=-4),
        )
        for n in range(6)
    ]
    busy_need = Need.objects.create(
        organization=organization,
        event=event,
        capability=steward,
        titles={"en": "Stewards at the march"},
        wanted=10_000,
        starts_at=_measured_start(now),
        ends_at=_measured_start(now) + dt.timedelta(hours=2),
    )

    def rows():
        for person_id in person_ids:
            if rng.random() < 0.2:
                for need in rng.sample(past, rng.randint(1, 6)):
                    came = rng.random() < 0.8
                    yield Assignment(
                        organization=organization,
                        need=need,
                        person_id=person_id,
                        status="accepted",
                        attended=came,
                        hours=4 if came else None,
                    )
            if rng.random() < 0.02:
                yield Assignment(
                    organization=organization,
                    need=busy_need,
                    person_id=person_id,
                    status=rng.choice(["invited", "accepted"]),
                )

    Assignment.objects.bulk_create(rows(), batch_size=BATCH)


def _measured_start(now: dt.datetime) -> dt.datetime:
    """Ten days ahead at 10:00 Beirut time: the measured needs' day."""
    import zoneinfo

    day = (now + dt.timedelta(days=10)).astimezone(zoneinfo.ZoneInfo("Asia/Beirut")).date()
    return dt.datetime.combine(day, dt.time(10), zoneinfo.ZoneInfo("Asia/Beirut"))


def _analyze() -> None:
    """Fresh statistics (this machine's PostgreSQL runs without autovacuum)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the needs measured ----------------------------------------------------------------


def needs(organization: object) -> list[tuple[str, object]]:
    from django.utils import timezone

    from saha.campaigns.models import Campaign
    from saha.events.models import Event
    from saha.volunteers.models import Capability, Need, Shift

    now = timezone.now()
    start = _measured_start(now)
    event = Event.objects.create(
        organization=organization,
        slug=f"march-{int(time.time())}",
        titles={"en": "March"},
        kind="march",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        time_zone="Asia/Beirut",
    )
    by_key = {c.key: c for c in Capability.objects.filter(organization=organization)}

    def need(key: str, **fields: object) -> object:
        values = {
            "organization": organization,
            "capability": by_key[key],
            "wanted": 20,
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=4),
            "event": event,
            **fields,
        }
        return Need.objects.create(**values)

    stewards = need("stewarding", latitude=33.89, longitude=35.5, locality_key="locality 3")
    for hour in (0, 1, 2):
        Shift.objects.create(
            organization=organization,
            need=stewards,
            starts_at=start + dt.timedelta(hours=hour),
            ends_at=start + dt.timedelta(hours=hour + 2),
            capacity=10,
        )
    campaign = Campaign.objects.create(
        organization=organization, slug=f"c-{int(time.time())}", titles={"en": "Campaign"}
    )
    return [
        ("stewards, coordinates, 3 shifts", stewards),
        (
            "vans, at least 8 seats",
            need("driver", wanted=3, min_quantity=8, latitude=33.9, longitude=35.48),
        ),
        ("first aid, locality only", need("first-aid", locality_key="locality 7")),
        (
            "stewards, campaign need over 60 days",
            need(
                "stewarding",
                event=None,
                campaign=campaign,
                ends_at=start + dt.timedelta(days=60),
                locality_key="locality 11",
            ),
        ),
    ]


def ceiling_sql() -> str:
    from saha.volunteers.models import Offer, OfferedCapability

    # Table names from the models, values as parameters.
    return (
        f"SELECT count(*) FROM {OfferedCapability._meta.db_table} oc "  # noqa: S608
        f"JOIN {Offer._meta.db_table} o ON o.id = oc.offer_id "
        "WHERE oc.organization_id = %s AND oc.capability_id = %s AND o.status = 'active'"
    )


def timed(run, runs: int) -> tuple[float, float]:
    for _warm in range(2):
        run()
    times = []
    for _n in range(runs):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(label: str, need: object, runs: int, explain: bool) -> bool:
    from django.db import connection

    from saha.volunteers import matching

    pool = []

    def ceiling():
        with connection.cursor() as cursor:
            cursor.execute(ceiling_sql(), [need.organization_id, need.capability_id])
            pool[:] = [cursor.fetchone()[0]]

    def match():
        return matching.candidates(need, limit=50)

    bare, bare_p95 = timed(ceiling, runs)
    median, p95 = timed(match, runs)
    found = match()
    print(
        f"  {label}: {pool[0]:,} offers of the capability, {len(found)} shown; "
        f"candidates median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
        f"ceiling (bare count) median {bare * 1000:.1f} ms, p95 {bare_p95 * 1000:.1f} ms; "
        f"ratio {median / bare:.1f}"
    )
    if explain and connection.vendor == "postgresql":
        when = matching.NeedTime.of(need)
        sql, params = matching.ranking_sql(need, when, matching.need_region(need), 50)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
            print("\n".join(row[0] for row in cursor.fetchall()))
    return p95 < 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse an earlier run's offers")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    args = parser.parse_args()
    setup(tempfile.mkdtemp(prefix="saha-bench-"))
    from django.db import connection

    organization = build(args.offers, args.keep)
    measured = needs(organization)
    server = connection.vendor
    if server == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server += " " + cursor.fetchone()[0]
    print(f"database: {server}; {args.offers:,} offers; {args.runs} warm runs each")
    fast = [measure(label, need, args.runs, args.explain) for label, need in measured]
    parents = {
        id(parent): parent for _l, n in measured for parent in (n.event, n.campaign) if parent
    }
    for parent in parents.values():  # so that --keep starts from the same data
        parent.delete()
    if not all(fast):
        print("SLOWER THAN HALF A SECOND (p95)", file=sys.stderr)
        return 1 if connection.vendor == "postgresql" else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
