"""Rate limits counted in Redis (fixed windows), shared by every web process, that never hold a request.

A limit is "<count>/<period>": "5/h", "200/h", "20/10m" (s, m, h, d). Each hit increments the counter of its
current window; the counter expires with the window. Redis is asked with short timeouts and no retries; when it
does not answer, the process counts in its own memory (the limit then holds per process, nothing is let through
unlimited, no message is refused because Redis is down), logs a warning, and tries Redis again after
RATE_LIMIT_REDIS_RETRY_SECONDS.
"""
import logging
import re
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

KEY_PREFIX = "formmail:rate:"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_parse(text: str) -> Rate:
    """"5/h" → Rate(5, 3600); "20/10m" → Rate(20, 600). ValueError for anything else."""
    match = _RATE.match(text or "")
    if not match or (match.group(2) and int(match.group(2)) == 0):
        raise ValueError(f"a rate is '<count>/<period>' with the period s, m, h or d (e.g. '5/h'), not {text!r}")
    return Rate(int(match.group(1)), int(match.group(2) or 1) * _PERIODS[match.group(3)])


def rate_limit_hit(*, scope: str, ident: str, rate: Rate) -> bool:
    """Count one hit of `ident` (a client address, "all") in `scope` (a form's name); True when it is over `rate`."""
    window = int(time.time()) // rate.seconds
    key = f"{KEY_PREFIX}{scope}:{ident}:{window}"
    return _count(key, rate.seconds) > rate.count


def form_rate_limited(*, scope: str, client: str, per_client: str, overall: str | None = None) -> bool:
    """Count one submission of the form `scope` from `client`; True when it is over either limit (settings'
    "<count>/<period>" strings). The overall count is only taken for clients under their own limit, so one
    client hammering the form does not use up everyone's allowance."""
    if rate_limit_hit(scope=scope, ident=client, rate=rate_parse(per_client)):
        return True
    return overall is not None and rate_limit_hit(scope=scope, ident="*", rate=rate_parse(overall))


def rate_limits_reset() -> None:
    """Forget the in-memory counts and the Redis client (tests; a changed RATE_LIMIT_REDIS_URL)."""
    global _client, _client_url, _redis_down_until
    with _lock:
        _memory.clear()
        _client, _client_url, _redis_down_until = None, None, 0.0


# --- where the counts live -----------------------------------------------------------------------------------

_lock = threading.Lock()
_memory: dict[str, tuple[int, float]] = {}  # key -> (count, expires at, monotonic): the fallback's counters
_client: redis.Redis | None = None
_client_url: str | None = None
_redis_down_until = 0.0


def _count(key: str, seconds: int) -> int:
    global _redis_down_until
    if time.monotonic() >= _redis_down_until:
        try:
            with _redis().pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=seconds + 1, nx=True)  # (+1: a window's last second still counts)
                pipe.incr(key)
                return int(pipe.execute()[1])
        except redis.RedisError as exc:
            _redis_down_until = time.monotonic() + settings.RATE_LIMIT_REDIS_RETRY_SECONDS
            logger.warning("rate limits: Redis did not answer (%s); counting in this process for %ss",
                           exc, settings.RATE_LIMIT_REDIS_RETRY_SECONDS)
    return _memory_count(key, seconds)


def _memory_count(key: str, seconds: int) -> int:
    now = time.monotonic()
    with _lock:
        if len(_memory) > 10_000:  # (expired windows are dropped so the dict stays small)
            for old in [k for k, (_, expires) in _memory.items() if expires <= now]:
                del _memory[old]
        count, expires = _memory.get(key, (0, now + seconds))
        if expires <= now:
            count, expires = 0, now + seconds
        _memory[key] = (count + 1, expires)
        return count + 1


def _redis() -> redis.Redis:
    global _client, _client_url
    url = settings.RATE_LIMIT_REDIS_URL
    if _client is None or _client_url != url:
        timeout = settings.RATE_LIMIT_REDIS_TIMEOUT
        _client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                       retry=Retry(NoBackoff(), 0), health_check_interval=0)
        _client_url = url
    return _client
