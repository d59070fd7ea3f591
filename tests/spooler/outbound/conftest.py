"""Shared helpers of the outbound spool tests: a sender on the sandbox, enqueue, and no stray wake-ups."""
import pytest

from spooler.services import outbound, smtp_connections
from spooler.sessions import Email
from tests.fixtures.users import make_user


@pytest.fixture(autouse=True)
def _fresh_spool_state(settings):
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0  # publish at once: no timer thread outlives a test
    yield
    smtp_connections.close_sessions()


@pytest.fixture
def sender(db, mail_sandbox):
    return make_user("sender", sandbox=mail_sandbox)


def enqueue(user, to, subject="Hello", text="Grüße aus Köln ✓", **kwargs):
    account = user.mail_accounts.get()
    email = Email(sender=account.from_header, to=to, subject=subject, text=text, **kwargs)
    return outbound.outbox_enqueue(email=email, relay=account, user=user)


def point_relay(user, port, host="127.0.0.1"):
    account = user.mail_accounts.get()
    account.smtp_host, account.smtp_port = host, port
    account.save()
    return account
