"""Messages per second per provider, shared by every worker through the cache.

With Redis configured the limit holds across all workers and hosts; with the
in-process cache (one machine, the embedded default) it holds per worker.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger("saha.messaging")


class Throttle:
    def __init__(self, name: str, rate: int) -> None:
        self.name = name
        self.rate = rate

    def wait(self) -> None:
        """Return once one more message may go this second."""
        if self.rate <= 0:
            return
        while True:
            second = int(time.time())
            key = f"saha:throttle:{self.name}:{second}"
            try:
                cache.add(key, 0, timeout=5)
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                continue
            except Exception:  # the cache is down: send rather than stop the outbox
                logger.warning("Throttle: the cache is unreachable; not limiting %s", self.name)
                return
            if count <= self.rate:
                return
            time.sleep(max(0.0, second + 1 - time.time()))
