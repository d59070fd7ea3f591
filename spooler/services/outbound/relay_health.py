"""Relays that do not answer, known to every worker process (Redis), so one dead relay holds no one else's mail.

A relay whose connect or greeting failed with no answer (timeout, refused, dropped) is:
- *down* for SPOOL_RELAY_DOWN_SECONDS: its rows are deferred as a group without connecting, by any worker;
- *suspect* until it answers again: then only one worker at a time may try to connect (one connection slot,
  the "probe"); the others put the relay's rows back in the queue for a few seconds instead of waiting too.
A relay that answers is neither. A relay that merely refuses (4xx/5xx) or fails TLS answered: it is not down.

Each process also remembers its own marks, which serve alone while Redis cannot be reached (then Redis is not
asked again for a few seconds, so an unreachable Redis costs one connect timeout, not one per relay group).
"""
import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.utils import timezone

from spooler.services.outbound import limits
from spooler.sessions import TLSError, TransientError

logger = logging.getLogger(__name__)

SUSPECT_SECONDS = 24 * 3600  # a suspect mark outlives any outage worth the name; an answer clears it
_REDIS_PAUSE_SECONDS = 5.0
_local: dict[str, "Health"] = {}  # this process's own marks: key -> Health, with `until` (monotonic)
_redis_paused_until = 0.0
UNREACHABLE = object()  # what _shared() gives when Redis did not answer (None is an answer: SET NX lost)


@dataclass(frozen=True)
class Health:
    down: str = ""  # why the relay is down ("" when it is not), with when it stopped answering
    suspect: bool = False
    until: float = 0.0  # (local marks only) when `down` ends


def failed_to_answer(error: Exception) -> bool:
    """Whether a connect failure means the relay is not answering (rather than answering no)."""
    return isinstance(error, TransientError) and not isinstance(error, TLSError) and error.code is None


def relay_health(key: str) -> Health:
    local = _local.get(key)
    if local is not None and local.until <= time.monotonic():
        local = _local[key] = Health(suspect=True)  # no longer down; suspect until it answers
    shared = _shared(lambda r: r.mget(f"spool:relay-down:{key}", f"spool:relay-suspect:{key}"))
    if shared is UNREACHABLE:
        return local or Health()
    down, suspect = shared  # (when Redis answers, it is the truth: another worker may have seen the relay answer)
    return Health(down=(down or b"").decode("utf-8", "replace"), suspect=bool(suspect))


def mark_down(key: str, error: Exception) -> None:
    seconds = settings.SPOOL_RELAY_DOWN_SECONDS
    # (shown after "mail server <key>: not tried: " in the rows it holds back: no need to name the server again)
    reason = f"did not answer at {timezone.now():%H:%M:%S} UTC ({getattr(error, 'text', error)})"
    _local[key] = Health(down=reason, suspect=True, until=time.monotonic() + seconds)
    logger.warning("relay %s is not answering; its mail waits %s s: %s", key, seconds, error)

    def share(r):
        pipe = r.pipeline()
        pipe.set(f"spool:relay-down:{key}", reason, px=max(int(seconds * 1000), 1))
        pipe.set(f"spool:relay-suspect:{key}", 1, ex=SUSPECT_SECONDS)
        pipe.delete(f"spool:relay-probe:{key}")
        pipe.execute()

    _shared(share)


def mark_up(key: str) -> None:
    """The relay answered: everyone may connect to it again."""
    _local.pop(key, None)
    _shared(lambda r: r.delete(f"spool:relay-down:{key}", f"spool:relay-suspect:{key}", f"spool:relay-probe:{key}"))


def take_probe(key: str, *, seconds: float) -> bool:
    """The one slot for connecting to a suspect relay, for `seconds` at most. False when another worker holds it."""
    won = _shared(lambda r: r.set(f"spool:relay-probe:{key}", 1, nx=True, px=max(int(seconds * 1000), 1)))
    return won is UNREACHABLE or bool(won)  # (no Redis: each process probes on its own)


def forget_all() -> None:
    """Drop this process's marks (tests)."""
    global _redis_paused_until
    _local.clear()
    _redis_paused_until = 0.0


def _shared(call):
    """call(redis client), or UNREACHABLE when Redis cannot be reached (then not asked again for a few seconds)."""
    global _redis_paused_until
    if time.monotonic() < _redis_paused_until:
        return UNREACHABLE
    try:
        return call(limits.redis_client())
    except redis.RedisError:
        _redis_paused_until = time.monotonic() + _REDIS_PAUSE_SECONDS
        logger.warning("relay health is kept per process for now: Redis unreachable", exc_info=True)
        return UNREACHABLE
