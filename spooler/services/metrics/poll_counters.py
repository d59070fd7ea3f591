"""Counters of poll runs, kept in Redis (one hash) by whichever worker polled, read by /metrics.

Polls leave no history row in the database (an account keeps only its last poll), so their counts live where every
worker on every host can add to them atomically: HINCRBY on the broker's Redis, one pipeline per poll. A lost Redis
resets them, which Prometheus reads as a counter reset. Recording never raises and never holds a poll: a Redis that
does not answer is not asked again for a while.
"""
import logging
import time

import redis

from spooler.services.outbound import limits

logger = logging.getLogger(__name__)

KEY = "metrics:poll"
# Upper bounds (seconds) of the poll duration histogram's buckets; +Inf is implied.
BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
STATES = ("ok", "failing")
_PAUSE_SECONDS = 30.0
_paused_until = 0.0


def account_state(*, poll_failures: int) -> str:
    """The account's state when a poll starts: ok, or failing (its last poll failed)."""
    return "failing" if poll_failures else "ok"


def bucket_of(seconds: float) -> str:
    """The one bucket a duration is counted in (the reader makes them cumulative)."""
    return next((str(b) for b in BUCKETS if seconds <= b), "+Inf")


def poll_count(*, state: str, error: bool, stored: int, seconds: float) -> None:
    """Count one poll run of an account in `state`."""
    global _paused_until
    if time.monotonic() < _paused_until:
        return
    try:
        pipe = limits.redis_client().pipeline(transaction=False)
        pipe.hincrby(KEY, f"runs:{state}", 1)
        if error:
            pipe.hincrby(KEY, f"errors:{state}", 1)
        if stored:
            pipe.hincrby(KEY, "stored", stored)
        pipe.hincrbyfloat(KEY, f"seconds_sum:{state}", round(seconds, 6))
        pipe.hincrby(KEY, f"seconds_bucket:{state}:{bucket_of(seconds)}", 1)
        pipe.execute()
    except redis.RedisError:
        _paused_until = time.monotonic() + _PAUSE_SECONDS
        logger.warning("poll counters not kept for %s s: Redis unreachable", _PAUSE_SECONDS, exc_info=True)


def forget_pause() -> None:
    """Ask Redis again at the next poll, even if it did not answer a moment ago (tests)."""
    global _paused_until
    _paused_until = 0.0


def poll_counts() -> dict[str, float] | None:
    """Every counter, {"runs:ok": 3.0, ...}; None when Redis cannot be read."""
    try:
        raw = limits.redis_client().hgetall(KEY)
    except redis.RedisError:
        logger.warning("poll counters unreadable: Redis unreachable", exc_info=True)
        return None
    return {k.decode(): float(v) for k, v in raw.items()}


def histogram(counts: dict[str, float], state: str) -> tuple[list[tuple[str, float]], float]:
    """Cumulative buckets [(le, count)] ending with +Inf, and the sum, of one state's poll durations."""
    buckets, total = [], 0.0
    for le in [str(b) for b in BUCKETS] + ["+Inf"]:
        total += counts.get(f"seconds_bucket:{state}:{le}", 0.0)
        buckets.append((le, total))
    return buckets, counts.get(f"seconds_sum:{state}", 0.0)
