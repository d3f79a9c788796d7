"""B5 and B6's Saha side, in a process of its own (Django pointed at the bench database).

    python -m bench.harness.people_work CSV RUNS   # DATABASE_URL etc. in the environment

Imports the CSV through the import page's code (`receive_file`,
`start_import`, `run_import`, the usual case: a tag and email consent for
everyone), then times each segment of SEGMENTS through `segments.evaluate`
(its count and first page, one query) warm, RUNS times, and the same SQL,
captured from that call, on a plain psycopg connection (the ceiling), in
turns. Prints one JSON document on its last line.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# name -> definition; "volunteers" stands for the tag's id, filled in here.
SEGMENTS: dict[str, dict[str, Any]] = {
    "everybody": {},
    "agreed to email": {"consent_email": "granted"},
    "volunteers, agreed to email, in the North": {
        "tags_any": ["volunteers"],
        "consent_email": "granted",
        "region": ["North"],
    },
    "Arabic speakers not tagged volunteers": {"language": ["ar"], "tags_none": ["volunteers"]},
}


def _import(csv_path: Path) -> dict[str, Any]:
    from saha.organizations.models import Organization
    from saha.supporters import importing

    organization = Organization.objects.create(slug="bench-import", names={"en": "Bench"})

    def chunks():
        with csv_path.open("rb") as f:
            while block := f.read(1 << 20):
                yield block

    batch = importing.receive_file(
        organization=organization, actor="bench", name=csv_path.name, chunks=chunks()
    )
    importing.start_import(
        batch=batch,
        actor="bench",
        mapping=batch.mapping,
        tags=["bench"],
        language="ar",
        consent_email=True,
        consent_sms=False,
        consent_wording="I agree to receive news.",
        lawful_basis="consent",
        attested=True,
        enqueue=False,
    )
    started = time.perf_counter()
    done = importing.run_import(batch.pk)
    seconds = time.perf_counter() - started
    if done is None or done.status != "done":
        raise SystemExit(f"the import did not finish: {done and done.failure}")
    return {
        "organization": organization.pk,
        "rows": done.rows_read,
        "created": done.created_count,
        "problems": done.problem_count,
        "seconds": seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _segments(organization_id: int, runs: int) -> dict[str, Any]:
    import psycopg
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from saha.organizations.models import Organization
    from saha.supporters import segments
    from saha.supporters.models import Tag

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    organization = Organization.objects.get(pk=organization_id)
    volunteers = Tag.objects.get(organization=organization, name="volunteers").pk
    # The ceiling: the same SQL on a plain psycopg connection (no params: sent as is).
    direct = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    found = {}
    for name, definition in SEGMENTS.items():
        definition = {
            key: [volunteers if v == "volunteers" else v for v in value]
            if isinstance(value, list)
            else value
            for key, value in definition.items()
        }
        with CaptureQueriesContext(connection) as captured:
            warm = segments.evaluate(organization, definition)  # and warm the cache
        statements = [query["sql"] for query in captured.captured_queries]
        for sql in statements:
            direct.execute(sql).fetchall()  # type: ignore[call-overload]
        # The ORM and its own SQL taken in turns, so that a neighbour's load on
        # the machine weighs on both alike.
        timings: list[float] = []
        sql_timings: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            result = segments.evaluate(organization, definition)
            timings.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            for sql in statements:
                direct.execute(sql).fetchall()  # type: ignore[call-overload]
            sql_timings.append((time.perf_counter() - started) * 1000)
        assert result.count == warm.count
        found[name] = {
            "count": result.count,
            "first_page": len(result.preview),
            "median_ms": round(statistics.median(timings), 2),
            "sql_median_ms": round(statistics.median(sql_timings), 2),
            "sql": statements,
        }
    direct.close()
    return found


def main() -> None:
    import django

    django.setup()
    csv_path, runs = Path(sys.argv[1]), int(sys.argv[2])
    imported = _import(csv_path)
    print(json.dumps({"phase": "imported", **imported}), flush=True)
    measured = _segments(imported["organization"], runs)
    print(json.dumps({"imported": imported, "segments": measured}), flush=True)


if __name__ == "__main__":
    main()
