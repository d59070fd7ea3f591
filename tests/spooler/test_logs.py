"""The delivery and poll log lines as LOG_FORMAT=json writes them (settings.LOGGING's JSON formatter), captured
in this process: one JSON object per attempt and per poll, with their fields, never a password or a body."""
import io
import json
import logging
from logging.config import DictConfigurator

import pytest
import redis
from django.conf import settings as django_settings

from spooler.services.inbound.poll import account_poll
from spooler.services.metrics import poll_counters
from spooler.services.outbound import limits, smtp_connections
from spooler.services.outbound.delivery import outbox_deliver_due
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.sessions import Email
from tests.fixtures.net import free_port
from tests.fixtures.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SECRET = "Imap-Pass-Never-In-Logs-93b1"
BODY = "Meet me by the old oak at midnight; bring the blue folder."


@pytest.fixture
def json_log(settings, redis_server):
    """The JSON formatter of settings.LOGGING, on a handler of the spooler's loggers writing to a buffer."""
    settings.REDIS_URL = redis_server.url
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    redis.Redis.from_url(redis_server.url).delete(poll_counters.KEY)
    poll_counters.forget_pause()
    limits.clear_cache()
    handler = logging.StreamHandler(io.StringIO())
    # (a copy: the configurator pops the factory key out of the dict it is given)
    handler.setFormatter(DictConfigurator({}).configure_formatter(dict(django_settings.LOGGING["formatters"]["json"])))
    spooler_logger = logging.getLogger("spooler")
    level = spooler_logger.level
    spooler_logger.addHandler(handler)
    spooler_logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    spooler_logger.removeHandler(handler)
    spooler_logger.setLevel(level)
    smtp_connections.close_sessions()


def test_a_deferred_attempt_is_one_json_line(json_log, mail_sandbox):
    alice = make_user("alice", sandbox=mail_sandbox, mailbox_password=SECRET)
    account = alice.mail_accounts.get()
    account.smtp_port, account.smtp_password = free_port(), SECRET  # nothing listens there
    account.save()
    row = outbox_enqueue(email=Email(sender=account.from_header, to=["x@example.test", "y@example.test"],
                                     subject="Oak", text=BODY), relay=account, user=alice)
    assert outbox_deliver_due() == 1
    [line] = [x for x in json_log() if x.get("event") == "delivery_attempt"]
    assert line["outbox_id"] == row.id and line["relay"] == f"127.0.0.1:{account.smtp_port}"
    assert line["recipients"] == 2 and line["code"] is None and line["outcome"] == "deferred"
    assert isinstance(line["duration_ms"], int) and line["level"] == "INFO" and line["logger"] == "spooler.delivery"
    text = json.dumps(json_log())
    assert SECRET not in text and BODY not in text and PASSWORD not in text


def test_a_failed_poll_then_a_poll_of_a_failing_account(json_log, mail_sandbox):
    bob = make_user("bob", sandbox=mail_sandbox, mailbox_password="the-right-one")
    account = bob.mail_accounts.get()
    account.incoming_password = SECRET  # the server will refuse it
    account.save()
    account_poll(account_id=account.id)
    account_poll(account_id=account.id)
    polls = [x for x in json_log() if x.get("event") == "poll"]
    assert [(p["account_id"], p["state"], p["outcome"], p["stored"]) for p in polls] == [
        (account.id, "ok", "error", 0), (account.id, "failing", "error", 0)]
    assert polls[0]["error"] and isinstance(polls[0]["duration_ms"], int)
    assert SECRET not in json.dumps(json_log())
    counts = poll_counters.poll_counts()
    assert counts["runs:ok"] == 1 and counts["errors:ok"] == 1 and counts["errors:failing"] == 1


def test_a_poll_that_stores_mail(json_log, mail_sandbox):
    carol = make_user("carol", sandbox=mail_sandbox, mailbox_password=SECRET)
    account = carol.mail_accounts.get()
    mail_sandbox.deliver(account.address, f"From: a@example.test\r\nTo: {account.address}\r\nSubject: Oak\r\n\r\n"
                         f"{BODY}\r\n".encode())
    account_poll(account_id=account.id)
    [poll] = [x for x in json_log() if x.get("event") == "poll"]
    assert poll["stored"] == 1 and poll["outcome"] == "ok" and poll["error"] == ""
    text = json.dumps(json_log())
    assert SECRET not in text and BODY not in text
