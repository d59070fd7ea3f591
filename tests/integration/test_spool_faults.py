"""Fault tests of the outbound spool with real parts: Celery worker processes (with beat running the sweeper
every second), each test's own Redis on a free port, Postfix's smtp-sink and aiosmtpd servers as relays.

Nothing here waits a fixed long time: every wait is on a condition with a bounded timeout.
"""
import collections

import pytest
from django.test import Client
from django.urls import reverse

from mailsite.mailboxes.models import Message
from spooler.models import OutboxMessage
from spooler.services import broker
from tests.fixtures.net import connect_attempts
from tests.fixtures.waiting import wait_for
from tests.fixtures.smtp_sink import SmtpSink
from tests.fixtures.spool import all_sent, counting, enqueue_many, explain, kill, sender_on, statuses

pytestmark = pytest.mark.django_db(transaction=True)


# --- killed workers ---------------------------------------------------------------------------------------


def test_worker_killed_before_data_sends_everything_once(mail_sandbox, workers, smtp_server):
    server = smtp_server(sleep_on_first_mail=60)  # the first MAIL FROM hangs: no byte of a message was sent
    _user, account = sender_on(mail_sandbox, server.port)
    first = workers()
    rows = enqueue_many(account, 3)
    assert server.handler.holding.wait(20), explain(rows, first)
    kill(first)
    second = workers()
    assert wait_for(all_sent(rows), timeout=45), explain(rows, second)
    counts = collections.Counter(server.handler.message_ids())
    assert counts == {r.message_id: 1 for r in rows}  # every message once: no duplicate at all


def test_worker_killed_after_250_before_recording_duplicates_at_most_one(mail_sandbox, workers, smtp_server):
    # The server records the 3rd message, then sleeps before its 250: the worker dies in that window, after
    # messages 1 and 2 were accepted (and receipted) but before the batch was recorded.
    server = smtp_server(sleep_after_data=60, sleep_after_data_on=3)
    _user, account = sender_on(mail_sandbox, server.port)
    first = workers()
    rows = enqueue_many(account, 5)
    assert server.handler.holding.wait(20), explain(rows, first)
    kill(first)
    server.handler.sleep_after_data = 0
    second = workers()
    assert wait_for(all_sent(rows), timeout=45), explain(rows, second)
    counts = collections.Counter(server.handler.message_ids())
    assert set(counts) == {r.message_id for r in rows}
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    assert duplicates == {rows[2].message_id: 2}  # only the one in flight (RFC 1047), never the receipted ones
    recovered = OutboxMessage.objects.get(id=rows[0].id)
    assert "receipt" in recovered.delivery_attempts.get().text


# --- Redis lost -----------------------------------------------------------------------------------------


def test_redis_killed_and_restarted_empty_while_rows_are_queued(mail_sandbox, workers, redis, settings, monkeypatch):
    sink = SmtpSink(dump=True).start()
    try:
        _user, account = sender_on(mail_sandbox, sink.port)
        worker = workers()
        redis.stop()  # every wake-up published from here on is lost
        publishes = counting(monkeypatch, broker, "publish_wake")
        with connect_attempts(redis.port) as attempts:
            rows = enqueue_many(account, 100)
        # Publishing failed fast, on any machine: at most one connection attempt per publish, each with the
        # short connect timeout (no retries, no backoff).
        assert publishes and len(attempts) <= len(publishes)
        assert set(attempts) <= {settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]}
        assert statuses(rows) == {"queued": 100}
        redis.start()  # same port, empty: no message of ours survived
        assert wait_for(all_sent(rows), timeout=60), explain(rows, worker)
        assert sink.wait_for_count(100, timeout=10) == 100
        assert collections.Counter(sink.message_ids()) == {r.message_id: 1 for r in rows}
    finally:
        sink.cleanup()


def test_compose_with_redis_unreachable_answers_at_once_and_sends_later(mail_sandbox, workers, redis, settings):
    sink = SmtpSink(dump=True).start()
    try:
        user, account = sender_on(mail_sandbox, sink.port)
        worker = workers()
        redis.stop()
        client = Client()
        client.force_login(user)
        with connect_attempts(redis.port) as attempts:
            response = client.post(reverse("webmail:compose"),
                                   {"account": account.id, "to": "bob@example.test", "subject": "While Redis sleeps",
                                    "text": "Hello"})
        assert response.status_code == 302
        # The page waited on Redis for at most one connection attempt with the short connect timeout.
        assert len(attempts) <= 1
        assert set(attempts) <= {settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]}
        row = OutboxMessage.objects.get(subject="While Redis sleeps")
        assert row.status == "queued"
        redis.start()
        assert wait_for(all_sent([row]), timeout=60), explain([row], worker)
        assert sink.wait_for_count(1) == 1 and sink.message_ids() == [row.message_id]
    finally:
        sink.cleanup()


# --- two workers, one spool ------------------------------------------------------------------------------


def test_two_workers_in_separate_processes_send_each_message_exactly_once(mail_sandbox, workers):
    sink = SmtpSink(dump=True).start()
    try:
        _user, account = sender_on(mail_sandbox, sink.port)
        rows = enqueue_many(account, 400)  # queued before any worker runs
        one = workers(beat=False, SPOOL_BATCH_SIZE="20")
        two = workers(beat=True, SPOOL_BATCH_SIZE="20")
        for _ in range(4):
            broker.publish_wake()  # wake-ups for both workers' processes
        assert wait_for(all_sent(rows), timeout=90), explain(rows, one, two)
        assert sink.wait_for_count(400, timeout=10) == 400
        counts = collections.Counter(sink.message_ids())
        assert counts == {r.message_id: 1 for r in rows}
        assert "deliver_due" in one.log_text() and "deliver_due" in two.log_text()  # both took part
    finally:
        sink.cleanup()


# --- what the relay says ----------------------------------------------------------------------------------


def test_temporary_failures_defer_then_send(mail_sandbox, workers, silent_server, untrusted_tls):
    sinks = {
        421: SmtpSink("-Q", "MAIL", dump=True).start(),
        451: SmtpSink("-r", "MAIL", "-b", "451 4.3.0 Try again later", dump=True).start(),
        452: SmtpSink("-r", "RCPT", "-b", "452 4.2.2 Mailbox full", dump=True).start(),
    }
    try:
        rows = {}
        for code, sink in sinks.items():
            _user, account = sender_on(mail_sandbox, sink.port, name=f"s{code}")
            rows[code] = enqueue_many(account, 1, prefix=f"c{code}-")[0]
        _user, account = sender_on(mail_sandbox, silent_server.port, name="silent")
        rows["timeout"] = enqueue_many(account, 1, prefix="silent")[0]
        _user, account = sender_on(mail_sandbox, untrusted_tls.port, name="tls")
        account.smtp_security = "starttls"
        account.save()
        rows["tls"] = enqueue_many(account, 1, prefix="tls")[0]
        worker = workers()

        def deferred(key):
            return lambda: OutboxMessage.objects.get(id=rows[key].id).status == "deferred"

        for key in rows:
            assert wait_for(deferred(key), timeout=30), explain(list(rows.values()), worker)
        got = {key: OutboxMessage.objects.get(id=row.id) for key, row in rows.items()}
        assert "421" in got[421].last_text or "connection lost" in got[421].last_text
        assert got[451].last_code == 451 and "Try again later" in got[451].last_text
        assert got[452].last_code == 452 and got[452].outcomes["c452-0@example.test"]["code"] == 452
        assert "timed out" in got["timeout"].last_text or "timeout" in got["timeout"].last_text
        assert "certificate" in got["tls"].last_text
        assert all(sink.count() == 0 for sink in sinks.values())
        # The relays recover: the same ports now accept mail; the rows go out on their next try.
        for code, sink in list(sinks.items()):
            sink.cleanup()
            sinks[code] = SmtpSink(dump=True, port=sink.port).start()
        assert wait_for(all_sent([rows[421], rows[451], rows[452]]), timeout=45), explain(list(rows.values()), worker)
        for code, sink in sinks.items():
            assert sink.wait_for_count(1) == 1 and sink.message_ids() == [rows[code].message_id]
        # A bad certificate is never "fixed" by going plain: still deferred, never sent.
        tls_row = OutboxMessage.objects.get(id=rows["tls"].id)
        assert tls_row.status in ("deferred", "sending") and tls_row.attempts >= 1  # retried, never given up early
        assert "certificate" in tls_row.last_text and untrusted_tls.handler.messages == []
    finally:
        for sink in sinks.values():
            sink.cleanup()


def test_permanent_failure_fails_at_once_with_a_bounce_in_the_senders_inbox(mail_sandbox, workers):
    sink = SmtpSink("-f", "RCPT", "-B", "550 5.1.1 No such user here", dump=True).start()
    try:
        _user, account = sender_on(mail_sandbox, sink.port)
        row = enqueue_many(account, 1, prefix="nobody")[0]
        worker = workers()
        assert wait_for(lambda: OutboxMessage.objects.get(id=row.id).status == "failed", timeout=30), explain([row], worker)
        row.refresh_from_db()
        assert row.attempts == 1 and row.last_code == 550
        bounce = wait_for(lambda: Message.objects.filter(account=account, uid=f"bounce-{row.id}").first(), timeout=10)
        assert bounce and "No such user here" in bounce.text and "nobody0@example.test" in bounce.text
        assert sink.count() == 0
    finally:
        sink.cleanup()
