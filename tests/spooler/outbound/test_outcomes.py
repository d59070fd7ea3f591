"""What an attempt makes of a row, tested on rows in memory: no SMTP, no database."""
from datetime import UTC, datetime, timedelta

import pytest

from spooler.models import OutboxMessage, OutboxStatus, RecipientStatus
from spooler.services.outbound import outcomes
from spooler.sessions import NoAnswer, PermanentError, RecipientsDeferred, RecipientsRefused, TransientError
from spooler.sessions.smtp import SendResult

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _retry_times(settings):
    settings.SPOOL_RETRY_BASE_SECONDS = 300
    settings.SPOOL_RETRY_MAX_SECONDS = 4000


def row(*recipients, outcomes_=None, attempts=0, expires_at=None) -> OutboxMessage:
    return OutboxMessage(id=7, recipients=list(recipients), outcomes=dict(outcomes_ or {}), attempts=attempts,
                         status=OutboxStatus.SENDING, claim_token="t", lease_until=NOW + timedelta(minutes=10),
                         expires_at=expires_at)


def status_of(message, rcpt):
    return message.outcomes[rcpt]["status"]


def test_outcome_cuts_long_text():
    entry = outcomes.outcome(RecipientStatus.SENT, 250, "x" * 5000)
    assert entry == {"status": "sent", "code": 250, "text": "x" * 1000}


def test_accepted_by_all_is_sent_and_final():
    message = row("a@x.test", "b@x.test")
    attempt = outcomes.accepted(message, SendResult(250, "ok queued", "<m@x>", ["a@x.test", "b@x.test"], {}),
                                now=NOW, duration_ms=12)
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1 and message.sent_at == NOW and message.finished_at == NOW
    assert (message.lease_until, message.claim_token) == (None, None)
    assert message.bounce_pending is False
    assert {status_of(message, r) for r in message.recipients} == {"sent"}
    assert (attempt.message_id, attempt.code, attempt.outcome, attempt.duration_ms) == (7, 250, "sent", 12)
    assert attempt.refused == {}


def test_accepted_with_a_deferred_recipient_waits_for_it():
    message = row("a@x.test", "b@x.test")
    result = SendResult(250, "ok", None, ["a@x.test"], {"b@x.test": (451, "greylisted")})
    attempt = outcomes.accepted(message, result, now=NOW, duration_ms=5)
    assert message.status == OutboxStatus.DEFERRED
    assert message.next_attempt_at == NOW + timedelta(seconds=300)
    assert message.pending_recipients == ["b@x.test"]
    assert message.sent_at == NOW and message.finished_at is None
    assert attempt.refused == {"b@x.test": [451, "greylisted"]}


def test_accepted_with_a_refused_recipient_is_sent_and_bounces():
    message = row("a@x.test", "b@x.test")
    outcomes.accepted(message, SendResult(250, "ok", None, ["a@x.test"], {"b@x.test": (550, "no such user")}),
                      now=NOW, duration_ms=5)
    assert message.status == OutboxStatus.SENT
    assert status_of(message, "b@x.test") == "failed"
    assert message.bounce_pending is True


def test_accepted_keeps_the_first_sent_at():
    earlier = NOW - timedelta(hours=1)
    message = row("a@x.test", "b@x.test", outcomes_={"a@x.test": outcomes.outcome(RecipientStatus.SENT, 250, "ok")},
                  attempts=1)
    message.sent_at = earlier
    outcomes.accepted(message, SendResult(250, "ok", None, ["b@x.test"], {}), now=NOW, duration_ms=1)
    assert message.sent_at == earlier and message.attempts == 2 and message.status == OutboxStatus.SENT


def test_failed_transient_defers_every_pending_recipient():
    message = row("a@x.test", "b@x.test")
    attempt = outcomes.failed(message, NoAnswer("no answer within the timeout"), now=NOW, duration_ms=30000)
    assert message.status == OutboxStatus.DEFERRED
    assert {status_of(message, r) for r in message.recipients} == {"deferred"}
    assert message.last_code is None and "no answer" in message.last_text
    assert attempt.outcome == OutboxStatus.DEFERRED and attempt.refused == {}


def test_failed_permanent_fails_and_bounces():
    message = row("a@x.test")
    outcomes.failed(message, PermanentError("message refused", code=554), now=NOW, duration_ms=3)
    assert message.status == OutboxStatus.FAILED and message.bounce_pending is True
    assert message.outcomes["a@x.test"]["code"] == 554 and message.finished_at == NOW


def test_failed_only_touches_the_recipients_it_is_given():
    message = row("a@x.test", "b@x.test")
    outcomes.failed(message, TransientError("try later", code=421), now=NOW, duration_ms=1,
                    recipients=["a@x.test"])
    assert list(message.outcomes) == ["a@x.test"]
    assert message.status == OutboxStatus.DEFERRED


def test_failed_uses_each_recipient_s_own_refusal():
    message = row("a@x.test", "b@x.test")
    error = RecipientsRefused("all refused", refused={"a@x.test": (550, "unknown"), "b@x.test": (553, "bad")})
    attempt = outcomes.failed(message, error, now=NOW, duration_ms=1)
    assert message.outcomes["a@x.test"]["code"] == 550 and message.outcomes["b@x.test"]["code"] == 553
    assert message.status == OutboxStatus.FAILED
    assert attempt.refused == {"a@x.test": [550, "unknown"], "b@x.test": [553, "bad"]}


def test_failed_with_every_recipient_deferred_waits():
    message = row("a@x.test")
    error = RecipientsDeferred("all deferred", refused={"a@x.test": (450, "mailbox busy")})
    outcomes.failed(message, error, now=NOW, duration_ms=1)
    assert message.status == OutboxStatus.DEFERRED and status_of(message, "a@x.test") == "deferred"


def test_retry_delay_doubles_with_the_attempts():
    message = row("a@x.test", attempts=2)
    outcomes.failed(message, TransientError("later", code=451), now=NOW, duration_ms=1)
    assert message.attempts == 3
    assert message.next_attempt_at == NOW + timedelta(seconds=1200)


def test_settle_expires_what_still_waits_after_the_lifetime():
    message = row("a@x.test", "b@x.test", expires_at=NOW - timedelta(seconds=1),
                  outcomes_={"a@x.test": outcomes.outcome(RecipientStatus.DEFERRED, 451, "greylisted")})
    outcomes.settle(message, now=NOW)
    assert message.status == OutboxStatus.EXPIRED and message.bounce_pending is True
    assert status_of(message, "a@x.test") == "expired" and status_of(message, "b@x.test") == "expired"
    assert "last reply: greylisted" in message.outcomes["a@x.test"]["text"]
    assert message.outcomes["a@x.test"]["code"] == 451


def test_settle_partly_sent_then_expired_is_sent_with_a_bounce():
    message = row("a@x.test", "b@x.test", expires_at=NOW,
                  outcomes_={"a@x.test": outcomes.outcome(RecipientStatus.SENT, 250, "ok")})
    outcomes.settle(message, now=NOW)
    assert message.status == OutboxStatus.SENT and message.bounce_pending is True
    assert status_of(message, "b@x.test") == "expired"


def test_settle_before_the_lifetime_keeps_waiting():
    message = row("a@x.test", expires_at=NOW + timedelta(seconds=1), attempts=1)
    outcomes.settle(message, now=NOW)
    assert message.status == OutboxStatus.DEFERRED and message.outcomes == {}


def test_receipted_marks_pending_recipients_sent():
    message = row("a@x.test", "b@x.test", attempts=1,
                  outcomes_={"b@x.test": outcomes.outcome(RecipientStatus.FAILED, 550, "unknown")})
    at = NOW - timedelta(minutes=3)
    attempt = outcomes.receipted(message, at=at)
    assert status_of(message, "a@x.test") == "sent" and status_of(message, "b@x.test") == "failed"
    assert message.status == OutboxStatus.SENT and message.sent_at == at and message.finished_at == at
    assert message.attempts == 2 and message.last_text == outcomes.RECEIPTED_TEXT
    assert (attempt.code, attempt.at, attempt.duration_ms) == (250, at, 0)


def test_released_requeues_without_an_attempt():
    message = row("a@x.test", attempts=1)
    due = NOW + timedelta(seconds=60)
    outcomes.released(message, due=due)
    assert message.status == OutboxStatus.QUEUED and message.next_attempt_at == due
    assert (message.lease_until, message.claim_token, message.attempts) == (None, None, 1)


def test_attempt_carries_the_bulk_insert_fields():
    message = row("a@x.test")
    attempt = outcomes.accepted(message, SendResult(250, "ok", None, ["a@x.test"], {}), now=NOW, duration_ms=1)
    fields = {f if f != "message" else "message_id" for f in outcomes.ATTEMPT_FIELDS}
    assert fields <= set(vars(attempt))
    assert set(outcomes.ROW_FIELDS) <= {f.name for f in OutboxMessage._meta.get_fields()}
