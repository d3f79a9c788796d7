"""`saha serve` as an operator runs it: real processes, real signals, a fresh var/.

The supervisor is started in a session of its own, so a signal to its process
group is what a dropped SSH session or Ctrl+C sends. Its children live in
sessions of their own, so every test ends by killing, by pid, whatever process
still carries the test's SAHA_VAR_DIR: nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from saha.cli import Supervisor

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG"),
]

# Settings read from the environment that could point a test at a shared service.
SHARED = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY_FALLBACKS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (an orphan may wait a while for init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN
        pgrep = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        found = pgrep.stdout.split()
    return [int(child) for child in found if is_alive(int(child))]


def descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [grandchild for child in found for grandchild in descendants(child)]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"After {timeout:g} s, still not: {what}")


def answers(url: str) -> int | None:
    """The HTTP status, or None if nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    port: int
    var_dir: Path
    out: Path
    err: Path

    @property
    def healthz(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    def child(self, role: str) -> int:
        """The pid of the supervisor's live child: "gunicorn" or "saha.cli worker"."""
        found = [pid for pid in children(self.process.pid) if role in cmdline(pid)]
        assert len(found) == 1, (role, found)
        return found[0]

    def ours(self) -> list[int]:
        """Every live process, however orphaned, started with this test's var/."""
        marker = f"SAHA_VAR_DIR={self.var_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and is_alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def errors(self) -> str:
        return self.err.read_text(errors="replace")


def start(tmp_path: Path, *options: str) -> Serve:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SAHA_", "DJANGO_"))}
    for name in SHARED:
        environment.pop(name, None)
    tmp_path.mkdir(parents=True, exist_ok=True)
    var_dir = tmp_path / "var"
    environment.update(SAHA_VAR_DIR=str(var_dir), SAHA_DEBUG="true")
    port = free_port()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "saha.cli", "serve", "--port", str(port), *options],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    return Serve(process, port, var_dir, out, err)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def run(*options: str) -> Serve:
        server = start(tmp_path / str(len(started)), *options)
        started.append(server)

        def healthy() -> bool:
            if server.process.poll() is not None:
                raise AssertionError(f"saha serve exited early:\n{server.errors()}")
            return answers(server.healthz) == 200

        wait_until(healthy, 60, f"{server.healthz} answers 200")
        return server

    try:
        yield run
    finally:
        for server in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
            # A second round catches what a dying process may have forked meanwhile.
            for _ in range(2):
                for pid in server.ours():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.1)


@pytest.mark.parametrize(
    "signum",
    [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT],
    ids=["hang-up (SSH dropped)", "Ctrl+C", "Ctrl+backslash"],
)
def test_a_signal_to_the_group_stops_the_supervisor_and_both_children(
    serve: Callable[..., Serve], signum: signal.Signals
) -> None:
    server = serve()
    web, worker = server.child("gunicorn"), server.child("saha.cli worker")
    everything = descendants(server.process.pid)
    assert {web, worker} <= set(everything)
    assert len(everything) >= 3  # gunicorn forks its own web worker

    # What a dropped SSH session or the terminal does: a signal to the foreground group.
    os.killpg(server.process.pid, signum)

    assert server.process.wait(timeout=20) == 0
    wait_until(lambda: not any(map(is_alive, everything)), 5, f"{everything} all gone")
    assert server.ours() == []
    assert answers(server.healthz) is None


def test_the_children_die_with_a_killed_supervisor(serve: Callable[..., Serve]) -> None:
    server = serve()
    everything = descendants(server.process.pid)
    assert len(everything) >= 3

    server.process.kill()
    server.process.wait(timeout=5)

    wait_until(lambda: not any(map(is_alive, everything)), 20, f"{everything} all gone")
    assert server.ours() == []
    assert answers(server.healthz) is None


def test_a_killed_worker_is_started_again_while_the_web_keeps_serving(
    serve: Callable[..., Serve],
) -> None:
    server = serve()
    web, worker = server.child("gunicorn"), server.child("saha.cli worker")

    os.kill(worker, signal.SIGKILL)

    def restarted() -> bool:
        assert answers(server.healthz) == 200
        return any(
            pid != worker and "saha.cli worker" in cmdline(pid)
            for pid in children(server.process.pid)
        )

    wait_until(restarted, 10, "a new worker")
    assert server.child("gunicorn") == web
    assert answers(server.healthz) == 200
    assert "The worker stopped (exit code -9, SIGKILL); starting it again in 1 s." in (
        server.errors()
    )


@pytest.mark.parametrize(("options", "logged"), [((), False), (("--access-log",), True)])
def test_the_access_log_is_off_unless_asked_for(
    serve: Callable[..., Serve], options: tuple[str, ...], logged: bool
) -> None:
    server = serve(*options)
    assert answers(server.healthz + "?probe") == 200
    server.process.terminate()
    assert server.process.wait(timeout=20) == 0
    output = server.output()
    assert "is running at" in output  # the banner: stdout was captured
    assert ('"GET /healthz?probe' in output) is logged


def test_a_worker_that_keeps_crashing_is_restarted_with_a_growing_delay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The loop itself, in this process: a worker that dies at once, a web that stops."""
    python = sys.executable
    supervisor = Supervisor(
        web=[python, "-c", "import time; time.sleep(5)"],
        worker=[python, "-c", "raise SystemExit(3)"],
    )
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    saved |= {signum: signal.getsignal(signum) for signum in (signal.SIGHUP, signal.SIGQUIT)}
    try:
        supervisor.start()
        started = time.monotonic()
        assert supervisor.run() == 1
        elapsed = time.monotonic() - started
    finally:
        supervisor.stop()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    errors = capsys.readouterr().err
    delays = re.findall(
        r"The worker stopped \(exit code 3\); starting it again in (\d+) s\.", errors
    )
    assert delays == ["1", "2", "4"], errors
    assert "The web server stopped (exit code 0); stopping Saha." in errors
    assert 4.5 < elapsed < 7
