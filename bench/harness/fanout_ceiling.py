"""B3's ceiling: plain smtplib pushing prebuilt messages over persistent connections.

`push(port, count, size, connections)` starts one process per connection
(each builds its share of the messages, flattened to bytes, before the clock
starts), releases them together and returns messages per second over the
whole push: from the first process starting to the last one finishing.
"""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def message(n: int, size: int) -> bytes:
    """An email of about `size` bytes, the shape of a broadcast's text part."""
    head = (
        "From: Bench <bench@example.org>\r\n"
        f"To: c{n}@example.org\r\n"
        "Subject: Rally on Saturday\r\n"
        f"Message-ID: <ceiling.{n}@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n\r\n"
    ).encode()
    line = b"x" * 70 + b"\r\n"
    lines, rest = divmod(max(0, size - len(head)), len(line))
    return head + line * lines + b"x" * max(0, rest - 2) + b"\r\n"


def _child(port: int, first: int, count: int, size: int) -> None:
    messages = [(f"c{n}@example.org", message(n, size)) for n in range(first, first + count)]
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.ehlo()
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.monotonic()
        for recipient, data in messages:
            smtp.sendmail("bench@example.org", [recipient], data)
        ended = time.monotonic()
    print(json.dumps({"started": started, "ended": ended}), flush=True)


def push(port: int, count: int, size: int, connections: int) -> float:
    """Messages per second, `count` messages of `size` bytes over `connections` connections."""
    share = -(-count // connections)
    children = []
    for k in range(connections):
        first = k * share
        n = min(share, count - first)
        children.append(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "bench.harness.fanout_ceiling",
                    str(port),
                    str(first),
                    str(n),
                    str(size),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
        )
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("a ceiling sender could not start")
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    spans = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        spans.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(s["ended"] for s in spans) - min(s["started"] for s in spans)
    return count / elapsed


if __name__ == "__main__":
    _child(*(int(a) for a in sys.argv[1:5]))
