"""One record per benchmark, as bench/results/latest.json holds them.

Every record has `value`, `unit`, `ceiling` and `ratio` (value / ceiling,
measured in the same run), and `lost`, `duplicates` and `peak_rss_mb` where
they apply; `details` holds what explains the figure (latencies, counts,
versions).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Result:
    id: str
    what: str
    value: float
    unit: str
    ceiling: float
    ceiling_what: str
    higher_is_better: bool = True
    lost: int | None = None
    duplicates: int | None = None
    peak_rss_mb: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return round(self.value / self.ceiling, 3) if self.ceiling else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def write(results: list[Result], path: Path, extra: dict[str, Any] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **(extra or {}),
        "benchmarks": {result.id: result.as_json() for result in results},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def peak_rss_mb(pids: list[int]) -> float:
    """The peak resident memory (VmHWM) of these processes, summed, in MB; 0 for gone ones."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


def report(results: list[Result], broken: list[str]) -> None:
    """A benchmark run by hand: its records as JSON, and a failing exit for what broke."""
    for result in results:
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    if broken:
        sys.exit("; ".join(broken))
