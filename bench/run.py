"""Run the benchmark suite: `make bench` (QUICK=1 for a tenth of every size, ONLY=B1,B7).

    .venv/bin/python bench/run.py [--quick] [--only B1,B7] [--repeat 2]
        [--database-url postgres://postgres@127.0.0.1:5432/saha_bench]

Each benchmark is a module `bench/b<N>_<name>.py` with `run(ctx) -> list[Result]`
(bench/harness/context.py says what `ctx` gives), and optionally `IDS` (the
records it returns, default from its name: b3_ -> B3) and `BUDGET` (seconds,
default 300). They run in order, each within its budget (past it, it is stopped
and recorded as failed); a benchmark that raises, or whose records show a lost,
duplicated or overfilled item, makes the run exit non-zero, after every other
one has run.

A full run writes bench/results/latest.json and the table of docs/performance.md;
with --only, the records of the benchmarks not run are carried over from the
previous latest.json (each keeps its own date). A QUICK run writes
bench/results/quick.json only. `--repeat 2` runs the suite twice and writes
each ratio's spread (the noise band) into the same files.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import docs  # noqa: E402
from bench.harness.context import (  # noqa: E402
    DEFAULT_URL,
    BudgetExceeded,
    Context,
    Deadline,
    create_database,
)
from bench.harness.results import Result, machine, write  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_BUDGET = 300.0
GRACE = 60.0  # past its budget, a benchmark gets this long to stop by itself


def discover() -> list[tuple[list[str], ModuleType | str]]:
    """The benchmark modules in order of number, each with the ids of its records
    (a module that does not import comes as the reason why, to be recorded as failed)."""
    numbered = [
        (int(re.findall(r"\d+", p.name)[0]), p) for p in (ROOT / "bench").glob("b[0-9]*_*.py")
    ]
    found: list[tuple[list[str], ModuleType | str]] = []
    for number, path in sorted(numbered):
        try:
            module = importlib.import_module(f"bench.{path.stem}")
        except Exception as error:
            found.append(([f"B{number}"], f"{path.name} does not import: {error!r}"))
            continue
        found.append((list(getattr(module, "IDS", [f"B{number}"])), module))
    return found


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BudgetExceeded("stopped: past its budget and its grace period")


def broken_invariants(result: Result) -> list[str]:
    broken = []
    if result.lost:
        broken.append(f"{result.lost} lost")
    if result.duplicates:
        broken.append(f"{result.duplicates} duplicated")
    if result.details.get("overfilled"):
        broken.append(f"{result.details['overfilled']} overfilled")
    return broken


def run_suite(
    selected: list[tuple[list[str], ModuleType | str]], ctx: Context
) -> tuple[list[Result], dict[str, str]]:
    results: list[Result] = []
    failed: dict[str, str] = {}
    signal.signal(signal.SIGALRM, _on_alarm)
    for ids, module in selected:
        label = "+".join(ids)
        if isinstance(module, str):
            ctx.benchmark = label
            ctx.log(f"FAILED {module}")
            failed.update(dict.fromkeys(ids, module))
            continue
        budget = float(getattr(module, "BUDGET", DEFAULT_BUDGET))
        ctx.benchmark, ctx.budget = label, Deadline(budget / 3 if ctx.quick else budget)
        ctx.log(f"start (budget {ctx.budget.seconds:g} s)")
        began = time.monotonic()
        signal.alarm(int(ctx.budget.seconds + GRACE))
        try:
            records = module.run(ctx)
        except (Exception, BudgetExceeded) as error:
            reason = f"{type(error).__name__}: {error}"
            ctx.log(f"FAILED {reason}")
            (ctx.var_dir / f"{label}-traceback.txt").write_text(traceback.format_exc())
            for one in ids:
                failed[one] = reason
            records = []
        finally:
            signal.alarm(0)
            for server in ctx.servers:
                server.peak_rss_mb()
            ctx.stop_servers()
        took = time.monotonic() - began
        for result in records:
            result.details.setdefault("benchmark_seconds", round(took, 1))
            if broken := broken_invariants(result):
                failed[result.id] = "invariant broken: " + ", ".join(broken)
                ctx.log(f"FAILED {result.id}: {failed[result.id]}")
            ctx.log(
                f"{result.id}: {result.value:g} {result.unit} against {result.ceiling:g} "
                f"(ratio {result.ratio}) in {took:.0f} s"
            )
        results += records
    ctx.benchmark, ctx.budget = "", None
    return results, failed


def noise(runs: list[list[Result]]) -> dict[str, dict[str, Any]]:
    """Each ratio over the runs, and its spread: (max - min) / mean."""
    band: dict[str, dict[str, Any]] = {}
    ids = {result.id for results in runs for result in results}
    for one in sorted(ids):
        ratios = [r.ratio for results in runs for r in results if r.id == one]
        if len(ratios) < 2 or not sum(ratios):
            continue
        mean = sum(ratios) / len(ratios)
        band[one] = {"ratios": ratios, "spread": round((max(ratios) - min(ratios)) / mean, 3)}
    return band


def carried_over(path: Path, run_ids: set[str]) -> dict[str, Any]:
    """The records of the benchmarks not run this time, from the previous file."""
    if not path.exists():
        return {}
    previous = json.loads(path.read_text())
    kept = {}
    for one, record in previous.get("benchmarks", {}).items():
        if one not in run_ids:
            kept[one] = {**record, "date": record.get("date") or previous.get("date")}
    return kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of every size")
    parser.add_argument("--only", default="", help="ids to run, e.g. B1,B7")
    parser.add_argument("--repeat", type=int, default=1, help="run the suite N times (noise)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    args = parser.parse_args()

    wanted = {one.strip().upper() for one in args.only.split(",") if one.strip()}
    selected = [(ids, m) for ids, m in discover() if not wanted or wanted & set(ids)]
    if not selected:
        print(f"no benchmark matches {args.only!r}", file=sys.stderr)
        return 2
    var_dir = ROOT / "var" / "bench" / "run"
    var_dir.mkdir(parents=True, exist_ok=True)
    create_database(args.database_url, drop=False)
    ctx = Context(database_url=args.database_url, var_dir=var_dir, quick=args.quick)
    ctx.log(f"benchmarks: {', '.join('+'.join(ids) for ids, _ in selected)}; quick={args.quick}")

    at_start = machine()  # the load average before the suite adds its own
    began = time.monotonic()
    runs, failed, each = [], {}, []
    for number in range(args.repeat):
        if args.repeat > 1:
            ctx.log(f"run {number + 1} of {args.repeat}")
        run_began = time.monotonic()
        results, failures = run_suite(selected, ctx)
        each.append(time.monotonic() - run_began)
        runs.append(results)
        failed.update(failures)
    took = max(each)  # one run of the suite: what the 20 min bound is about

    results = runs[-1]
    path = RESULTS / ("quick.json" if args.quick else "latest.json")
    run_ids = {one for ids, _ in selected for one in ids}
    extra: dict[str, Any] = {
        "machine": {**at_start, "load_average_at_end": os.getloadavg()},
        "quick": args.quick,
        "suite_seconds": round(took, 1),
        "runs": args.repeat,
        **({"run_seconds": [round(t, 1) for t in each]} if args.repeat > 1 else {}),
        "failed": failed,
    }
    if args.repeat > 1:
        extra["noise"] = noise(runs)
    previous = carried_over(path, run_ids) if wanted else {}
    write(results, path, extra)
    document = json.loads(path.read_text())
    if previous:
        document["benchmarks"] = dict(sorted({**previous, **document["benchmarks"]}.items()))
        document["carried_over"] = sorted(previous)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    ctx.log(f"wrote {path.relative_to(ROOT)} after {time.monotonic() - began:.0f} s")
    if not args.quick and not args.no_docs:
        docs.update(ROOT / "docs" / "performance.md", document)
        ctx.log("updated the table in docs/performance.md")
    for one, reason in failed.items():
        print(f"FAILED {one}: {reason}", file=sys.stderr)
    if took > 20 * 60:
        print(f"the suite took {took / 60:.1f} min, past its 20 min bound", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
