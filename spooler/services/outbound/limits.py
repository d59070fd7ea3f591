"""Per-relay limits (spooler.RelayLimit), enforced across worker processes and hosts with Redis (REDIS_URL).

- messages per minute: a counter per relay and minute (INCR with a TTL); over the limit, a row waits.
- parallel connections: a semaphore per relay, a sorted set of holders scored by their expiry, so a worker
  killed while holding a slot frees it when the TTL runs out.
If Redis cannot be reached the limits are not enforced (logged): a relay over its limit answers 4xx, and a
4xx is only a deferral.
"""
import logging
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

from spooler.models import RelayLimit

logger = logging.getLogger(__name__)

# Cached for a few seconds per process: a batch asks once per relay.
_CACHE_SECONDS = 10.0
_cache: dict = {"at": -1e9, "limits": {}}
_client = None
_client_url = None

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Limit:
    messages_per_minute: int | None
    max_connections: int | None


def relay_key(host: str, port: int) -> str:
    return f"{host.lower()}:{port}"


def limit_for(*, host: str, port: int) -> Limit | None:
    now = time.monotonic()
    if now - _cache["at"] > _CACHE_SECONDS:
        _cache["limits"] = {
            relay_key(r.host, r.port): Limit(r.messages_per_minute or None, r.max_connections or None)
            for r in RelayLimit.objects.all()
        }
        _cache["at"] = now
    limit = _cache["limits"].get(relay_key(host, port))
    if limit and (limit.messages_per_minute or limit.max_connections):
        return limit
    return None


def clear_cache() -> None:
    _cache["at"] = -1e9


def redis_client():
    """This process's Redis client for the spool's shared state (short timeouts: it must never hold a batch)."""
    global _client, _client_url
    if _client is None or _client_url != settings.REDIS_URL:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1.0, socket_timeout=2.0)
        _client_url = settings.REDIS_URL
    return _client


def take_message(*, key: str, per_minute: int) -> float:
    """Count one message against the relay's per-minute limit. Returns 0 when allowed, else seconds to wait."""
    minute = int(time.time() // 60)
    name = f"spool:rate:{key}:{minute}"
    try:
        pipe = redis_client().pipeline()
        pipe.incr(name)
        pipe.expire(name, 120)
        count = pipe.execute()[0]
    except redis.RedisError:
        logger.warning("relay limits not enforced: Redis unreachable", exc_info=True)
        return 0.0
    if count <= per_minute:
        return 0.0
    return (minute + 1) * 60 - time.time()


def acquire_connection(*, key: str, max_connections: int, ttl: float) -> str | None:
    """Take one of the relay's connection slots for `ttl` seconds. Returns a holder id, or None if all are taken."""
    holder = uuid.uuid4().hex
    now = time.time()
    try:
        won = redis_client().eval(_ACQUIRE, 1, f"spool:conn:{key}", now, now + ttl, max_connections, holder, int(ttl) + 60)
    except redis.RedisError:
        logger.warning("relay limits not enforced: Redis unreachable", exc_info=True)
        return "no-redis"
    return holder if won else None


def renew_connection(*, key: str, holder: str, ttl: float) -> None:
    if holder == "no-redis":
        return
    try:
        redis_client().zadd(f"spool:conn:{key}", {holder: time.time() + ttl}, xx=True)
    except redis.RedisError:
        pass


def release_connection(*, key: str, holder: str) -> None:
    if holder == "no-redis":
        return
    try:
        redis_client().zrem(f"spool:conn:{key}", holder)
    except redis.RedisError:
        pass  # the slot's TTL frees it
