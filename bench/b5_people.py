"""B5 and B6: importing 1,000,000 people from CSV, then counting segments over them.

B5: the CSV of bench/people_import.py (fictional people: names in three
scripts, an email each, a phone for two in three, a governorate, a language,
a tag for one in ten; 100,000 rows with QUICK=1) is imported into a fresh
PostgreSQL database through the import page's code, in a process of its own
(bench/harness/people_work.py): rows/s, and that process's peak memory (it
must stay under about 300 MB: the importer streams). Ceiling, same run, same
database: `COPY` of the same file into one table with the same unique
indexes the people's addresses and numbers have (organization + email,
organization + phone).

B6: over those people, warm, the count and first page of four segments
(`segments.evaluate`, one query each), median of RUNS runs; ceiling: the
same SQL, taken from the ORM's query, run directly with psycopg, in turns
with the ORM's runs. The value
and ceiling are the sums of the four medians; each segment is in `details`.

    .venv/bin/python -m bench.b5_people [--quick] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness.context import standalone
from bench.harness.people_db import migrated_copy
from bench.harness.results import Result, report
from bench.people_import import generate

IDS = ["B5", "B6"]
BUDGET = 360  # seconds, for both (bench/run.py): the import of 1M rows is 210 s on a quiet machine
ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

COPY_TABLE = """
CREATE TABLE bench_copy_people (
    organization_id bigint NOT NULL DEFAULT 1,
    given_name varchar(100), family_name varchar(100), email varchar(254),
    phone varchar(20), region varchar(100), language varchar(8), tags text
);
CREATE UNIQUE INDEX bench_copy_email ON bench_copy_people (organization_id, email);
CREATE UNIQUE INDEX bench_copy_phone ON bench_copy_people (organization_id, phone);
"""


def csv_file(rows: int) -> Path:
    """The same file bench/people_import.py imports (generated once, then reused)."""
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"people-{rows}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        generate(partial, rows)
        partial.rename(path)
    return path


def copy_rate(url: str, path: Path) -> tuple[float, int]:
    """Rows per second of COPY into a table with the same unique indexes; (rate, rows)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_people")
        conn.execute(COPY_TABLE)
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_copy_people (given_name, family_name, email, phone, region, language,"
                " tags) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bench_copy_people").fetchone()[0]  # type: ignore[index]
        conn.execute("DROP TABLE bench_copy_people")
    return rows / seconds, rows


def run(ctx: Any, *, rows: int | None = None, budget_seconds: float = 300) -> list[Result]:
    n = rows or ctx.size(1_000_000)
    budget = ctx.deadline(budget_seconds)
    path = csv_file(n)
    url = migrated_copy(ctx, "h3_people")
    before, copied = copy_rate(url, path)
    ctx.log(f"B5 ceiling: COPY {copied:,} rows at {before:,.0f} rows/s")
    timeout = max(30.0, budget.remaining + 45)  # bench/run.py's grace is 60 s
    try:
        child = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bench.harness.people_work", str(path), str(RUNS)],
            cwd=ROOT,
            env=ctx.saha_env(url),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else error.stdout or ""
        raise RuntimeError(f"stopped after {timeout:.0f} s; so far: {out.strip()}") from None
    if child.returncode:
        raise RuntimeError(f"the import failed:\n{child.stdout[-2000:]}{child.stderr[-4000:]}")
    done = json.loads(child.stdout.strip().splitlines()[-1])
    imported, segments = done["imported"], done["segments"]
    rate = imported["rows"] / imported["seconds"]
    ctx.log(
        f"B5: {imported['rows']:,} rows in {imported['seconds']:.1f} s, {rate:,.0f} rows/s, "
        f"{imported['peak_rss_mb']} MB"
    )
    # The ceiling is the better of two COPYs, one before the import and one after:
    # a COPY lasts seconds, and one slow moment of the machine halved it once.
    after, _rows = copy_rate(url, path)
    ceiling = max(before, after)
    ctx.log(f"B5 ceiling: COPY again at {after:,.0f} rows/s; the better of the two counts")
    direct = {name: s["sql_median_ms"] for name, s in segments.items()}
    orm_total = sum(s["median_ms"] for s in segments.values())
    sql_total = sum(direct.values())
    ctx.log(f"B6: four segments {orm_total:.0f} ms through the ORM, {sql_total:.0f} ms as SQL")
    return [
        Result(
            id="B5",
            what=f"CSV import of {imported['rows']:,} people (tag and email consent for all)",
            value=round(rate, 1),
            unit="rows/s",
            ceiling=round(ceiling, 1),
            ceiling_what="COPY of the same file into one table with the same unique indexes",
            peak_rss_mb=imported["peak_rss_mb"],
            lost=imported["rows"] - imported["created"] - imported["problems"],
            details={
                "rows": imported["rows"],
                "created": imported["created"],
                "problems": imported["problems"],
                "seconds": round(imported["seconds"], 2),
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "ceiling_runs_per_s": [round(before), round(after)],
                "rss_limit_mb": 300,
            },
        ),
        Result(
            id="B6",
            what=f"count and first page of 4 segments over {imported['rows']:,} people, "
            f"warm, sum of medians of {RUNS}",
            value=round(orm_total, 2),
            unit="ms",
            ceiling=round(sql_total, 2),
            ceiling_what="the same SQL, taken from the ORM, run directly with psycopg",
            higher_is_better=False,
            details={
                name: {
                    "count": s["count"],
                    "first_page": s["first_page"],
                    "median_ms": s["median_ms"],
                    "sql_median_ms": direct[name],
                }
                for name, s in segments.items()
            },
        ),
    ]


def failures(results: list[Result]) -> list[str]:
    """Broken invariants: rows not imported, or the importer's memory past its limit."""
    found = []
    for result in results:
        if result.id == "B5":
            if result.lost:
                found.append(f"B5: {result.lost} rows neither imported nor reported as problems")
            if (result.peak_rss_mb or 0) > result.details["rss_limit_mb"]:
                found.append(f"B5: the importer peaked at {result.peak_rss_mb} MB")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--budget", type=float, default=300, help="seconds (a third with --quick)")
    args = parser.parse_args()
    ctx = standalone("B5", quick=args.quick)
    results = run(ctx, rows=args.rows, budget_seconds=args.budget)
    report(results, failures(results))


if __name__ == "__main__":
    main()
