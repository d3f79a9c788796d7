"""Tasks used by the worker tests; importable by a real worker process."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task


@task()
def stall_once(marker: str) -> str:
    """The first run records itself and stalls (to be killed); a later run finishes."""
    path = Path(marker)
    runs = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(runs))
    if runs == 1:
        time.sleep(120)
    return f"finished on run {runs}"
