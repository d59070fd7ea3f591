"""The delivery loop's short write transactions, and SQLite's write lock taken without its busy handler."""
import sqlite3
import time
from contextlib import ExitStack, contextmanager

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction


@contextmanager
def write_transaction():
    """transaction.atomic() for the delivery loop's short writes (claims, a batch's outcomes). On SQLite it
    waits for the write lock as below, not with SQLite's busy handler."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "sqlite" or db.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with ExitStack() as stack:
        # Entering atomic() is BEGIN IMMEDIATE: it takes the write lock, and a failed one leaves no state.
        _sqlite_when_unlocked(db, lambda: stack.enter_context(transaction.atomic()))
        yield


def _sqlite_when_unlocked(db, attempt, *, patience: float = 30.0):
    """Run `attempt` (something that takes SQLite's write lock) until it gets the lock. SQLite's own busy
    handler sleeps 1 ms, then 2, 5, 10... whenever another process holds the lock, even for microseconds,
    and worker processes take it for every claim and every batch's outcomes; retry after 50 µs instead,
    doubling up to 1 ms, for up to `patience` seconds."""
    db.ensure_connection()
    raw = db.connection
    busy_timeout = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline, delay = time.monotonic() + patience, 0.00005
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                return attempt()
            except (sqlite3.OperationalError, OperationalError) as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.001)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
