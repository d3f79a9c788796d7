"""Import a generated CSV of fictional people and count a segment over them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/saha_bench \
        .venv/bin/python bench/people_import.py --rows 1000000

Prints rows per second for the import and the time of a segment's count and
preview (one query) over everybody imported. The database is emptied of the
bench organization first. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

GIVEN = ["Rania", "Sami", "Élodie", "Karim", "Maya", "Omar", "Chloé", "Hadi", "Lina", "Youssef",
         "رانيا", "سامي", "أحمد", "ليلى", "يوسف", "مريم", "خالد", "نور", "Emma", "Lucas"]
FAMILY = ["Haddad", "Khoury", "Martin", "Nasr", "Dubois", "Saleh", "Smith", "Bernard",
          "الخطيب", "حداد", "نصر", "الخوري", "صالح", "Brown", "Moreau", "Aoun"]
REGIONS = ["Beirut", "Mount Lebanon", "North", "South", "Bekaa", "Akkar", "Nabatieh", "Baalbek"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("First name,Last name,Email,Mobile,Governorate,Language,Tags\n")
        for i in range(rows):
            prefix = rng.choice(["70", "71", "81", "3"])
            phone = f"+961{prefix}{i % 1_000_000:06d}" if i % 3 else ""
            out.write(
                f"{rng.choice(GIVEN)},{rng.choice(FAMILY)},person{i}@example.org,{phone},"
                f"{rng.choice(REGIONS)},{rng.choice(['ar', 'en', 'fr'])},"
                f"{'volunteers' if i % 10 == 0 else ''}\n"
            )


def empty_supporters(connection) -> None:
    """Start from no people: only on a database made for benchmarks."""
    name = connection.settings_dict["NAME"]
    if "bench" not in str(name):
        sys.exit(f"refusing to empty the people of database {name!r}: use one named *bench*")
    from django.apps import apps

    tables = [m._meta.db_table for m in apps.get_app_config("supporters").get_models()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            from django.db import transaction

            with transaction.atomic():
                # Checked at commit, when every table is empty.
                cursor.execute("PRAGMA defer_foreign_keys = ON")
                for table in tables:
                    cursor.execute(f"DELETE FROM {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the imported people")
    parser.add_argument(
        "--plain", action="store_true", help="no tag and no consent for everyone imported"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saha.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from saha.organizations.models import Organization
    from saha.supporters import importing, segments
    from saha.supporters.models import Tag

    call_command("migrate", verbosity=0)
    empty_supporters(connection)
    organization = Organization.objects.create(
        slug=f"bench-import-{int(time.time())}", names={"en": "Bench"}
    )
    work = Path("var/bench")
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"people-{args.rows}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows)
    size = csv_path.stat().st_size

    def chunks():
        with csv_path.open("rb") as f:
            while block := f.read(1 << 20):
                yield block

    batch = importing.receive_file(
        organization=organization, actor="bench", name=csv_path.name, chunks=chunks()
    )
    importing.start_import(
        batch=batch, actor="bench", mapping=batch.mapping,
        tags=[] if args.plain else ["bench"], language="ar",
        consent_email=not args.plain, consent_sms=False,
        consent_wording="" if args.plain else "I agree to receive news.",
        lawful_basis="consent", attested=True,
    )
    started = time.perf_counter()
    done = importing.run_import(batch.pk)
    elapsed = time.perf_counter() - started
    assert done is not None and done.status == "done", done and done.failure
    kind = "plain (no tag, no consent)" if args.plain else "with a tag and email consent for all"
    print(f"database: {connection.vendor}, rows: {done.rows_read:,}, file: {size / 1e6:.0f} MB, "
          f"{kind}")
    print(f"import: {elapsed:.1f} s, {done.rows_read / elapsed:,.0f} rows/s, "
          f"created {done.created_count:,}, problems {done.problem_count:,}")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE") if connection.vendor == "postgresql" else None
    volunteers = Tag.objects.get(organization=organization, name="volunteers")
    for label, definition in [
        ("everybody", {}),
        ("email consent", {"consent_email": "granted"}),
        ("tag volunteers + email consent + region North", {
            "tags_any": [volunteers.pk], "consent_email": "granted", "region": ["North"]}),
        ("language ar, not tagged volunteers", {"language": ["ar"], "tags_none": [volunteers.pk]}),
    ]:
        timings = []
        for _ in range(3):
            t = time.perf_counter()
            result = segments.evaluate(organization, definition)
            timings.append(time.perf_counter() - t)
        print(f"segment {label}: count {result.count:,} in {min(timings) * 1000:.0f} ms (best of 3)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}")
    if not args.keep:
        empty_supporters(connection)


if __name__ == "__main__":
    main()
