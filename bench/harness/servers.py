"""Servers the benchmarks start: gunicorn on a free loopback port, stopped for sure.

Saha and the ceiling app run under the same gunicorn settings as `saha serve`
(workers x 8 threads, graceful timeout 10 s, no control socket), each in a
session of its own so that `stop()` takes every child with it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.results import peak_rss_mb


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def start_process(
    argv: list[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            argv,
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the whole session: no worker left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # e.g. Saha's task worker
    last_peak_rss_mb: float = 0.0

    @property
    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes (the master only forks and watches them)."""
        return children_of(self.process.pid) if self.process.poll() is None else []

    @property
    def pids(self) -> list[int]:
        """Every process of this server: the master, its workers, and the helpers."""
        alive = [self.process.pid] if self.process.poll() is None else []
        return alive + self.worker_pids + [p.pid for p in self.helpers if p.poll() is None]

    def peak_rss_mb(self) -> float:
        """The peak resident memory of the web workers and helpers, summed (read before stop)."""
        pids = self.worker_pids + [p.pid for p in self.helpers if p.poll() is None]
        if pids:
            self.last_peak_rss_mb = max(self.last_peak_rss_mb, peak_rss_mb(pids))
        return self.last_peak_rss_mb

    def stop(self) -> None:
        self.peak_rss_mb()
        for helper in self.helpers:
            _stop_process(helper)
        _stop_process(self.process)


def _answers(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True  # any HTTP answer: /healthz says 503 while no task worker runs
    except OSError:
        return False
    finally:
        conn.close()


def start_gunicorn(
    name: str,
    app: str,
    *,
    workers: int,
    threads: int,
    env: Mapping[str, str],
    cwd: Path,
    log: Path,
    ready_path: str = "/",
    timeout: float = 90.0,
) -> Server:
    port = free_port()
    argv = [
        *(sys.executable, "-m", "gunicorn", app),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)),
        *("--graceful-timeout", "10", "--no-control-socket"),
    ]
    server = Server(name, port, start_process(argv, env=env, cwd=cwd, log=log), log)
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if server.process.poll() is not None:
            break
        if _answers(port, ready_path):
            return server
        time.sleep(0.2)
    server.stop()
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{name} (gunicorn {app}) did not answer on :{port}; {log}:\n{tail}")
