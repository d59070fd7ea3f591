"""Shared helpers of the outbound spool tests: a sender on the sandbox, enqueue, and no stray wake-ups."""
import pytest
import redis

from spooler.services.outbound import limits, relay_health, smtp_connections
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.sessions import Email
from tests.fixtures.users import make_user


@pytest.fixture(autouse=True)
def _fresh_spool_state(settings, redis_server):
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0  # publish at once: no timer thread outlives a test
    settings.REDIS_URL = redis_server.url  # relay limits and relay health: the session's Redis, never the shared one
    redis.Redis.from_url(redis_server.url).flushdb()
    limits.clear_cache()
    relay_health.forget_all()
    yield
    smtp_connections.close_sessions()
    relay_health.forget_all()
    limits.clear_cache()


@pytest.fixture
def sender(db, mail_sandbox):
    return make_user("sender", sandbox=mail_sandbox)


def enqueue(user, to, subject="Hello", text="Grüße aus Köln ✓", **kwargs):
    account = user.mail_accounts.get()
    email = Email(sender=account.from_header, to=to, subject=subject, text=text, **kwargs)
    return outbox_enqueue(email=email, relay=account, user=user)


def point_relay(user, port, host="127.0.0.1"):
    account = user.mail_accounts.get()
    account.smtp_host, account.smtp_port = host, port
    account.save()
    return account
