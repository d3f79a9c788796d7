"""The table of docs/performance.md, rendered from bench/results/latest.json.

Only what lies between the two markers is rewritten; the rest of the page is
written by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def _number(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _latency(details: dict[str, Any]) -> str:
    p50, p99 = details.get("p50_ms"), details.get("p99_ms")
    if p50 is None and p99 is None:
        return "–"
    return f"{_number(p50)} / {_number(p99)}"


def _integrity(record: dict[str, Any]) -> str:
    parts = []
    for key in ("lost", "duplicates"):
        if record.get(key) is not None:
            parts.append(f"{key} {record[key]}")
    if record.get("details", {}).get("overfilled") is not None:
        parts.append(f"overfilled {record['details']['overfilled']}")
    return ", ".join(parts) or "–"


def machine_line(document: dict[str, Any]) -> str:
    m = document.get("machine", {})
    load = m.get("load_average_at_start")
    end = m.get("load_average_at_end")
    load_text = f", load average {load[0]:.1f} at start" if load else ""
    load_text += f" and {end[0]:.1f} at the end" if end else ""
    return (
        f"Measured {document.get('date', '?')} on {m.get('cpu', '?')}, {m.get('cores', '?')} "
        f"cores, {m.get('memory_gb', '?')} GB, Python {m.get('python', '?')}{load_text}; "
        + (
            f"the suite ran {document['runs']} times, taking "
            + " and ".join(f"{_number(t)} s" for t in document["run_seconds"])
            + " (the table is the last run's)."
            if document.get("run_seconds")
            else _one_run(document)
        )
    )


def _one_run(document: dict[str, Any]) -> str:
    took = _number(document.get("suite_seconds"))
    carried = set(document.get("carried_over", []))
    if not carried:
        return f"the suite took {took} s."
    ran = ", ".join(key for key in document.get("benchmarks", {}) if key not in carried)
    return f"{ran} ran, taking {took} s; the others' records are from earlier runs."


def render(document: dict[str, Any]) -> str:
    lines = [
        machine_line(document),
        "",
        "| id | what | value | ceiling (same run) | ratio | p50 / p99 ms "
        "| lost, duplicates | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, record in document.get("benchmarks", {}).items():
        value = f"{_number(record['value'])} {record['unit']}"
        ceiling = f"{_number(record['ceiling'])} ({record['ceiling_what']})"
        ratio = _number(record.get("ratio"))
        if record.get("date") and record.get("date") != document.get("date"):
            ratio += f" (run of {record['date'][:10]})"
        lines.append(
            f"| {key} | {record['what']} | {value} | {ceiling} | {ratio} "
            f"| {_latency(record.get('details', {}))} | {_integrity(record)} "
            f"| {_number(record.get('peak_rss_mb'))} |"
        )
    for key, reason in sorted(document.get("failed", {}).items()):
        lines.append(f"| {key} | failed: {reason.replace('|', '/')} | | | | | | |")
    noise = document.get("noise") or {}
    if noise:
        lines += [
            "",
            f"Noise: the suite run {document.get('runs', 2)} times in a row, each ratio in each "
            "run and its spread ((max - min) / mean):",
        ]
        lines.append(
            "; ".join(
                f"{key} {' and '.join(_number(r) for r in band['ratios'])} ({band['spread']:.0%})"
                for key, band in sorted(noise.items())
            )
            + "."
        )
    return "\n".join(lines)


def update(page: Path, document: dict[str, Any]) -> None:
    """Put the table between the markers (added at the end of the page if missing)."""
    text = page.read_text()
    block = f"{START}\n{render(document)}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    page.write_text(text)
