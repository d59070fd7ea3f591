"""SMTP connections to the relays, kept open per worker process and reused from batch to batch."""
import time
from collections import OrderedDict

from django.conf import settings

from spooler.sessions import PipeliningSession, SMTPSession

_MAX_SESSIONS = 32
_sessions: "OrderedDict[tuple, list]" = OrderedDict()  # key -> [SMTPSession, last used (monotonic)]


def _session_key(params: dict) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in params.items()))


def session_for(params: dict) -> SMTPSession:
    """This process's connection to the relay: reused while it lives; NOOP first after a long idle."""
    key = _session_key(params)
    entry = _sessions.get(key)
    if entry is None:
        entry = [PipeliningSession(**params), time.monotonic()]
        _sessions[key] = entry
        while len(_sessions) > _MAX_SESSIONS:
            _old_key, (old, _at) = _sessions.popitem(last=False)
            old.close()
    else:
        _sessions.move_to_end(key)
        if time.monotonic() - entry[1] > settings.SPOOL_SMTP_NOOP_AFTER_SECONDS:
            entry[0].noop()  # a dead connection is dropped; connect() makes a new one
    return entry[0]


def has_session(params: dict) -> bool:
    """Whether this process holds an open connection to the relay (no I/O: it may have died since)."""
    entry = _sessions.get(_session_key(params))
    return entry is not None and entry[0].connected


def touch_session(params: dict) -> None:
    entry = _sessions.get(_session_key(params))
    if entry:
        entry[1] = time.monotonic()


def forget_session(params: dict) -> None:
    entry = _sessions.pop(_session_key(params), None)
    if entry:
        entry[0].close()


def close_sessions() -> None:
    """Close every cached SMTP connection of this process (worker shutdown, tests)."""
    while _sessions:
        _key, (session, _at) = _sessions.popitem()
        session.close()
