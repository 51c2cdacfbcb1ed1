"""Counters kept in the rate limiter's storage, that go on counting when the storage is away.

The rate limits use Flask-Limiter's own fallback (``in_memory_fallback_enabled``, set in
``extensions``): while the storage (Redis) cannot be reached, each worker applies the same
limits in its own memory. ``Counters`` does the same for counters of our own (the wait after
wrong receipt codes): the outage is logged once, counting goes on in this process's memory, and
the storage is tried again at most every ``RETRY_SECONDS``; once it answers, counting goes back
to it. What was counted in memory meanwhile stays there and lapses with its expiry.

``init_app`` sends both switches to the app's error stream: Flask-Limiter's logger has only a
null handler, so without it the outage would not be logged at all under gunicorn.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from flask.logging import default_handler
from limits.storage import MemoryStorage, Storage, storage_from_string

log = logging.getLogger(__name__)
RETRY_SECONDS = 30.0


class Counters:
    """Expiring counters: in the storage named by a limits URI, or in memory while it is away."""

    def __init__(self, uri: str, name: str, **options) -> None:
        self.name = name  # what is counted, for the log
        self.shared: Storage = storage_from_string(uri, **options)
        self.in_process = self.shared if isinstance(self.shared, MemoryStorage) else MemoryStorage()
        self._retry_at: float | None = None  # set while the shared storage is away
        self._lock = threading.Lock()

    def _use(self, operation: str, *args):
        if self.shared is self.in_process or (
            self._retry_at is not None and time.monotonic() < self._retry_at
        ):
            return getattr(self.in_process, operation)(*args)
        try:
            result = getattr(self.shared, operation)(*args)
        except self.shared.base_exceptions:
            with self._lock:
                first = self._retry_at is None
                self._retry_at = time.monotonic() + RETRY_SECONDS
            if first:
                log.warning(
                    "Rate-limit storage unreachable: counting %s in this process until it is back",
                    self.name,
                )
            return getattr(self.in_process, operation)(*args)
        if self._retry_at is not None:
            with self._lock:
                self._retry_at = None
            log.info("Rate-limit storage reachable again: counting %s there", self.name)
        return result

    def get(self, key: str) -> int:
        return int(self._use("get", key) or 0)

    def incr(self, key: str, expiry: int) -> int:
        """One more; a new key lives ``expiry`` whole seconds."""
        return int(self._use("incr", key, expiry))

    def get_expiry(self, key: str) -> float:
        """When the key lapses (epoch seconds)."""
        return float(self._use("get_expiry", key))

    def clear(self, key: str) -> None:
        self._use("clear", key)


def init_app(app: Flask) -> None:  # noqa: ARG001 - the loggers are process-wide: set up once
    for name in ("flask-limiter", __name__):
        logger = logging.getLogger(name)
        if default_handler not in logger.handlers:
            logger.addHandler(default_handler)
