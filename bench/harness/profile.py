"""py-spy, attached to a running process for a while (BENCH_PROFILE=1), and what it saw.

`start` samples a process (and with `subprocesses`, gunicorn's workers under
their master) for `seconds` into collapsed stacks: one line per distinct stack,
`frame;frame;... count`. `top` turns that file into shares of the busy
samples: each of Saha's functions anywhere on the stack, and the innermost
frames. The file stays in var/bench/ for a flame graph
(`py-spy` can render one from it, or speedscope.app).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


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


def top(output: Path, limit: int = 20) -> dict[str, Any]:
    """What the samples show, counted over the busy ones (a Saha frame on the stack;
    the others are idle threads waiting for a request):

    - `saha`: each of Saha's functions, with the share of busy samples in which it
      is anywhere on the stack (so with everything it waits for under it);
    - `leaves`: the innermost frame of each busy sample (what the CPU, or the wait,
      was actually in: psycopg's socket wait, Django's SQL compiler, ...).
    """
    if not output.exists():
        return {}
    saha: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = busy = 0
    for line in output.read_text(errors="replace").splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples, frames = int(count), stack.split(";")
        total += samples
        own = {_short(frame) for frame in frames if "saha/" in frame}
        if not own:
            continue
        busy += samples
        saha.update({frame: samples for frame in own})
        leaves[_short(frames[-1])] += samples
    if not busy:
        return {}
    return {
        "samples": total,
        "busy_samples": busy,
        "saha": [(frame, round(n / busy, 3)) for frame, n in saha.most_common(limit)],
        "leaves": [(frame, round(n / busy, 3)) for frame, n in leaves.most_common(limit)],
    }


def _short(frame: str) -> str:
    """`rsvp (saha/events/services.py)` from py-spy's frame with its full path."""
    name, _sep, where = frame.partition(" (")
    for marker in ("site-packages/", "/work/", "/lib/python"):
        if marker in where:
            where = where.split(marker, 1)[1]
    for marker in ("main/", "python3.11/"):
        if where.startswith(marker):
            where = where[len(marker) :]
    return f"{name} ({where.rstrip(')')})" if where else name
