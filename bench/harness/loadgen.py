"""An open-model HTTP load generator on asyncio, the same for Saha and for its peers.

Open model: requests are launched on a fixed schedule (`rate` per second),
whether or not earlier ones have answered, as visitors arriving from a shared
link do. Each latency is measured from the moment the request was *due*, not
from when a connection was free, so a server that falls behind shows it in
p99 instead of hiding it (no coordinated omission).

Requests go over a pool of keep-alive HTTP/1.1 connections. When every
connection is busy, a due request waits for one (its wait counts in its
latency); when more than `max_in_flight` are waiting, the request is counted
as `shed` and not sent, so a collapsing server cannot make the driver grow
without bound. The run stops after `duration` seconds or `max_requests`
requests, whichever comes first, then waits at most `drain` seconds for
answers.

    stats = asyncio.run(run_open(
        host="127.0.0.1", port=8000, make_request=lambda i: Request("POST", "/x", body=b"{}"),
        rate=200, duration=20, max_requests=5000, connections=32))
    stats.p50_ms, stats.p99_ms, stats.ok, stats.errors, stats.achieved_rate
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Stats:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    shed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, of answered requests
    elapsed: float = 0.0
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]

    @property
    def p50_ms(self) -> float:
        return self.percentile(0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99) * 1000

    @property
    def achieved_rate(self) -> float:
        """Successful answers per second over the whole run."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "shed": self.shed,
            "statuses": dict(sorted(self.statuses.items())),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "achieved_per_s": round(self.achieved_rate, 1),
            "elapsed_s": round(self.elapsed, 2),
        }


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a keep-alive connection the server closed: reopen once
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(request)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, request: Request) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Connection": "keep-alive",
            "Content-Length": str(len(request.body)),
            **request.headers,
        }
        head = f"{request.method} {request.path} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self.writer.write(head.encode("latin-1") + b"\r\n" + request.body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        body = await (self._chunked() if chunked else self.reader.readexactly(length))
        if close:
            self.close()
        return status, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()


async def run_open(
    *,
    host: str,
    port: int,
    make_request: Callable[[int], Request],
    rate: float,
    duration: float,
    max_requests: int,
    connections: int = 32,
    max_in_flight: int = 2000,
    drain: float = 30.0,
    ok_statuses: tuple[int, ...] = (200, 201, 202, 204, 303),
    keep_bodies: bool = False,
) -> Stats:
    """Launch request i at start + i / rate; see the module docstring."""
    stats = Stats()
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(_Connection(host, port))
    in_flight = 0
    tasks: list[asyncio.Task[None]] = []

    async def one(index: int, due: float) -> None:
        nonlocal in_flight
        connection = await pool.get()
        try:
            status, body = await connection.send(make_request(index))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            connection.close()
            stats.errors += 1
            return
        finally:
            pool.put_nowait(connection)
            in_flight -= 1
        stats.latencies.append(time.perf_counter() - due)
        stats.statuses[status] += 1
        if status in ok_statuses:
            stats.ok += 1
        else:
            stats.errors += 1
        if keep_bodies:
            stats.bodies.append(body)

    start = time.perf_counter()
    index = 0
    while index < max_requests:
        due = start + index / rate
        if due - start > duration:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= max_in_flight:
            stats.shed += 1
        else:
            in_flight += 1
            stats.sent += 1
            tasks.append(asyncio.create_task(one(index, due)))
        index += 1
    if tasks:
        await asyncio.wait(tasks, timeout=drain)
    stats.elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    while not pool.empty():
        pool.get_nowait().close()
    return stats
