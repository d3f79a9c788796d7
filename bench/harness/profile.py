"""py-spy, attached to a running process for a while (BENCH_PROFILE=1), and what it saw.

`start` samples a process (and with `subprocesses`, gunicorn's workers under
their master) for `seconds` into collapsed stacks: one line per distinct stack,
`frame;frame;... count`. `top` turns that file into the share of samples in
which each of Saha's own functions (and Django's, DRF's, psycopg's) appears
anywhere on the stack, so a function that waits on the database shows with
everything it waits for under it. The file stays in var/bench/ for a flame graph
(`py-spy` can render one from it, or speedscope.app).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

WANTED = ("saha/", "django/", "rest_framework/", "psycopg/", "allauth/", "smtplib")


def wanted() -> bool:
    return os.environ.get("BENCH_PROFILE", "").lower() not in ("", "0", "false", "no")


def start(
    pid: int, output: Path, *, seconds: float, subprocesses: bool = False
) -> subprocess.Popen[bytes]:
    argv = [
        str(Path(sys.executable).with_name("py-spy")),
        *("record", "--pid", str(pid), "--duration", str(int(seconds))),
        *(
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
            "--nolineno",
        ),
    ]
    if subprocesses:
        argv.append("--subprocesses")
    return subprocess.Popen(  # noqa: S603
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def finish(profiler: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    if profiler is None:
        return
    try:
        profiler.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        profiler.kill()


def top(output: Path, limit: int = 25) -> list[tuple[str, float]]:
    """(function (file:line), share of all samples) for the `limit` most seen."""
    if not output.exists():
        return []
    seen: Counter[str] = Counter()
    total = 0
    for line in output.read_text(errors="replace").splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = {frame for frame in stack.split(";") if any(w in frame for w in WANTED)}
        for frame in frames:
            seen[_short(frame)] += samples
    if not total:
        return []
    return [(frame, round(n / total, 3)) for frame, n in seen.most_common(limit)]


def _short(frame: str) -> str:
    """`handle (saha/api/views/base.py:120)` from py-spy's longer frame text."""
    for marker in WANTED:
        at = frame.find(marker)
        if at >= 0:
            name = frame.split(" (", 1)[0]
            return f"{name} ({frame[at:].rstrip(')')})"
    return frame
