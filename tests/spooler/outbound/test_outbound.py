"""The outbound spool against real SMTP servers (the sandbox's aiosmtpd, Postfix's smtp-sink), without Celery."""
import hashlib
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from mailsite.mailboxes.models import Message
from spooler.models import DeliveryAttempt, OutboxBlob, OutboxMessage
from spooler.services.outbound import queue_ops, receipts, smtp_connections
from spooler.services import broker
from spooler.services.outbound import claims
from spooler.services.outbound import delivery
from spooler.services.outbound.enqueue import outbox_enqueue, outbox_raw
from spooler.services.storage import outbox_blobs_collect
from spooler.services import rules
from spooler.sessions import Attachment, Email
from tests.fixtures.celery_worker import point_at
from tests.fixtures.net import connect_attempts, free_port
from tests.fixtures.users import make_user
from tests.spooler.outbound.conftest import enqueue, point_relay

pytestmark = pytest.mark.django_db


def test_enqueue_only_writes_and_publishes_after_commit(sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        row = enqueue(sender, ["someone@example.test"])
    assert row.status == "queued" and len(callbacks) == 1
    assert callbacks[0] == broker.outbox_wake
    assert row.expires_at - row.created_at == timedelta(days=5)


def test_wake_with_redis_down_returns_fast_and_raises_nothing(celery_broker, settings, monkeypatch):
    port = free_port()
    point_at(celery_broker, f"redis://127.0.0.1:{port}/0")
    monkeypatch.setattr(broker, "_wake_last", float("-inf"))  # the wake-up publishes now, not from a timer
    monkeypatch.setattr(broker, "_wake_timer", None)
    try:
        with connect_attempts(port) as attempts:
            broker.outbox_wake()
            assert broker.publish_wake() is False
    finally:
        point_at(celery_broker)
    # Fast whatever the machine's load: one connection attempt per publish (no retries, no backoff), each
    # with the short connect timeout.
    assert attempts == [settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]] * 2


def test_wake_ups_are_coalesced_but_never_dropped(settings, monkeypatch):
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0.3
    published = []
    monkeypatch.setattr(broker, "publish_wake", lambda: published.append(time.monotonic()) or True)
    monkeypatch.setattr(broker, "_wake_last", float("-inf"))
    started = time.monotonic()
    for _ in range(500):
        broker.outbox_wake()
    assert len(published) == 1  # the first at once, the other 499 wait for one trailing publish
    deadline = time.monotonic() + 3
    while len(published) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(published) == 2 and published[1] - started >= 0.29
    time.sleep(0.4)
    assert len(published) == 2


def test_deliver_due_sends_to_the_mailbox(sender, mail_sandbox):
    rcpt = make_user("rcpt", sandbox=mail_sandbox).mail_accounts.get().address
    row = enqueue(sender, [rcpt], subject="Spooled ✓")
    assert delivery.outbox_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 1 and row.last_code == 250 and row.sent_at and row.finished_at
    assert row.outcomes[rcpt]["status"] == "sent"
    attempt = row.delivery_attempts.get()
    assert attempt.code == 250 and attempt.outcome == "sent"
    files = list((mail_sandbox.maildir(rcpt) / "new").iterdir())
    assert len(files) == 1 and row.message_id.encode() in files[0].read_bytes()
    assert delivery.outbox_deliver_due() == 0  # nothing is sent twice
    assert receipts.kept_receipts() == []  # the batch's receipts go once it is recorded


def test_one_connection_is_reused_across_batches(sender, smtp_server, settings):
    server = smtp_server()
    point_relay(sender, server.port)
    settings.SPOOL_BATCH_SIZE = 3
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(7)]
    assert delivery.outbox_deliver_due() == 7
    assert sorted(server.handler.message_ids()) == sorted(r.message_id for r in rows)
    assert server.handler.hellos == 1  # one connection for the 3 batches
    assert delivery.outbox_deliver_due() == 0


def test_an_idle_connection_is_checked_with_noop_and_replaced_when_dead(sender, smtp_server, settings):
    server = smtp_server()
    point_relay(sender, server.port)
    settings.SPOOL_SMTP_NOOP_AFTER_SECONDS = 0
    enqueue(sender, ["a@example.test"])
    delivery.outbox_deliver_due()
    [session] = [entry[0] for entry in smtp_connections._sessions.values()]
    session._conn.sock.shutdown(socket.SHUT_RDWR)  # the connection died while idle
    enqueue(sender, ["b@example.test"])
    delivery.outbox_deliver_due()
    assert len(server.handler.messages) == 2 and server.handler.hellos == 2
    assert OutboxMessage.objects.filter(status="sent").count() == 2


def test_claim_never_gives_a_row_twice(sender):
    rows = [enqueue(sender, ["x@example.test"]) for _ in range(5)]
    first = claims.outbox_claim(limit=3)
    second = claims.outbox_claim(limit=10)
    assert len(first) == 3 and len(second) == 2
    assert {r.id for r in first} | {r.id for r in second} == {r.id for r in rows}
    assert claims.outbox_claim(limit=10) == []


def test_scheduled_send_waits_for_not_before(sender):
    later = timezone.now() + timedelta(hours=2)
    row = enqueue(sender, ["x@example.test"])
    OutboxMessage.objects.filter(id=row.id).update(not_before=later)
    assert claims.outbox_claim(limit=10) == []
    OutboxMessage.objects.filter(id=row.id).update(not_before=timezone.now() - timedelta(seconds=1))
    assert [r.id for r in claims.outbox_claim(limit=10)] == [row.id]


def test_enqueue_with_not_before_sets_the_schedule(sender):
    account = sender.mail_accounts.get()
    later = timezone.now() + timedelta(minutes=30)
    row = outbox_enqueue(email=Email(sender=account.address, to=["x@example.test"], subject="later"),
                                  relay=account, not_before=later)
    assert row.next_attempt_at == later and claims.outbox_claim(limit=5) == []


def test_a_scheduled_row_wakes_the_worker_at_its_time(sender, django_capture_on_commit_callbacks, monkeypatch):
    woken = []
    monkeypatch.setattr(broker, "outbox_wake_at", woken.append)
    account = sender.mail_accounts.get()
    soon = timezone.now() + timedelta(seconds=10)  # undo send's window
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(email=Email(sender=account.address, to=["x@example.test"], subject="soon"),
                       relay=account, not_before=soon)
    assert woken == [soon]


def test_unreachable_relay_defers_with_backoff(sender):
    point_relay(sender, free_port())  # nothing listens there
    row = enqueue(sender, ["x@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "deferred" and row.attempts == 1 and row.last_code is None
    assert "connection refused" in row.last_text
    assert row.next_attempt_at > timezone.now() + timedelta(minutes=4)
    assert row.delivery_attempts.get().outcome == "deferred"
    assert claims.outbox_claim(limit=10) == []  # not due before the backoff ends


def test_refused_recipient_fails_with_a_bounce_in_the_senders_inbox(sender):
    row = enqueue(sender, ["nobody@elsewhere.invalid"], subject="Lost letter")
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "failed" and row.last_code == 550 and not row.bounce_pending and row.bounced_at
    bounce = Message.objects.get(account=row.relay, uid=f"bounce-{row.id}")
    assert "Undelivered" in bounce.subject and "Lost letter" in bounce.subject
    assert "nobody@elsewhere.invalid" in bounce.text and "550" in bounce.text and "relay access denied" in bounce.text
    assert row.message_id in bounce.text  # the original headers


def test_partial_refusal_records_each_recipient(sender, mail_sandbox):
    good = make_user("good", sandbox=mail_sandbox).mail_accounts.get().address
    row = enqueue(sender, [good, "nobody@elsewhere.invalid"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "sent"
    assert row.outcomes[good]["status"] == "sent"
    assert row.outcomes["nobody@elsewhere.invalid"]["status"] == "failed"
    assert row.outcomes["nobody@elsewhere.invalid"]["code"] == 550
    assert row.delivery_attempts.get().refused["nobody@elsewhere.invalid"][0] == 550
    assert Message.objects.filter(account=row.relay, uid=f"bounce-{row.id}").exists()


def test_partial_4xx_retries_only_the_deferred_recipient(sender, smtp_sink):
    sink = smtp_sink()
    account = point_relay(sender, sink.port)
    row = enqueue(sender, ["a@example.test", "b@example.test"])
    OutboxMessage.objects.filter(id=row.id).update(outcomes={"a@example.test": {"status": "sent", "code": 250, "text": "ok"}})
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "sent" and account.id == row.relay_id
    dumped = sink.messages()
    assert len(dumped) == 1 and b"X-Rcpt-Args: <b@example.test>" in dumped[0] and b"<a@example.test>" not in dumped[0].split(b"\r\n\r\n")[0].split(b"Received")[0]


def test_lifetime_ran_out_expires_with_a_bounce(sender):
    point_relay(sender, free_port())
    row = enqueue(sender, ["x@example.test"], subject="Too late")
    OutboxMessage.objects.filter(id=row.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "expired" and row.outcomes["x@example.test"]["status"] == "expired"
    bounce = Message.objects.get(account=row.relay, uid=f"bounce-{row.id}")
    assert "lifetime" in bounce.text and "connection refused" in bounce.text


def test_retry_delay_doubles_and_is_capped(settings):
    settings.SPOOL_RETRY_BASE_SECONDS = 300
    settings.SPOOL_RETRY_MAX_SECONDS = 4000
    assert [rules.outbox_retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 40)] == [
        300, 600, 1200, 2400, 4000, 4000, 4000]


def test_file_receipts_survive_a_line_cut_short_and_stray_files(monkeypatch, tmp_path):
    monkeypatch.setattr(receipts, "receipt_dir", lambda: tmp_path)
    token = uuid.uuid4()
    (tmp_path / "not-a-token").write_text("junk")
    at = datetime(2026, 11, 26, 16, tzinfo=UTC)
    (tmp_path / token.hex).write_text(f"12 {at.timestamp()!r}\n13 17")  # killed mid-line
    assert receipts.kept_receipts() == [(token, 12, at)]
    receipts.drop_receipts([token])
    assert receipts.kept_receipts() == [] and (tmp_path / "not-a-token").exists()


def test_file_receipts_live_beside_the_sqlite_database(settings):
    directory = receipts.receipt_dir()
    if connection.vendor == "sqlite":
        assert directory == Path(connection.settings_dict["NAME"] + ".receipts")
    else:
        assert directory is None  # PostgreSQL: workers may run on several hosts, so receipts are rows


def test_a_lost_lease_is_noticed_and_the_row_is_not_sent(sender, smtp_sink, settings):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(2)]
    claimed = claims.outbox_claim(limit=2)
    # Meanwhile the lease of the second ran out and another worker took it.
    OutboxMessage.objects.filter(id=rows[1].id).update(claim_token=None, status="queued")
    settings.SPOOL_LEASE_SECONDS = 0  # renew before every message
    delivery.outbox_deliver_rows(rows=claimed)
    assert sink.wait_for_count(1) == 1 and sink.message_ids() == [rows[0].message_id]
    rows[1].refresh_from_db()
    assert rows[1].status == "queued"


def test_attachments_are_stored_once_by_content_hash(sender, smtp_sink):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    pdf = bytes(range(256)) * 200  # 51 KB
    rows = [enqueue(sender, [f"r{i}@example.test"], subject=f"Report {i}",
                    attachments=[Attachment("report.pdf", "application/pdf", pdf)]) for i in range(3)]
    assert OutboxBlob.objects.count() == 1
    blob = OutboxBlob.objects.get()
    assert blob.sha256 == hashlib.sha256(bytes(blob.data)).hexdigest()
    assert all(len(bytes(r.body.raw)) < 2000 for r in OutboxMessage.objects.select_related("body"))
    originals = {r.message_id: r for r in rows}
    delivery.outbox_deliver_due()
    assert sink.wait_for_count(3) == 3
    for dumped in sink.messages():
        parsed = Email.parse(dumped.split(b"\r\n", 5)[-1] if False else dumped)
        assert parsed.attachments and parsed.attachments[0].data == pdf
        assert parsed.message_id in originals
    assert queue_ops.outbox_delete(ids=[r.id for r in rows]) == 3
    assert outbox_blobs_collect(cutoff=timezone.now() + timedelta(seconds=1)) == 1


def test_stored_message_is_rebuilt_byte_for_byte(sender, django_assert_num_queries):
    data = b"%PDF" + bytes(range(256)) * 40
    email = Email(sender="a@example.test", to=["b@example.test"], subject="x", text="body",
                  attachments=[Attachment("a.bin", "application/octet-stream", data),
                               Attachment("b.bin", "application/octet-stream", data[::-1])])
    raw = email.to_bytes()
    row = outbox_enqueue(email=email, relay=sender.mail_accounts.get())
    row = OutboxMessage.objects.get(id=row.id)
    assert row.parts.count() == 2 and outbox_raw(row) == raw
    # A claimed row comes with its body, parts and relay: rebuilding it costs no query.
    relay = sender.mail_accounts.get()
    [claimed] = claims.outbox_claim(limit=1)
    with django_assert_num_queries(0):
        assert outbox_raw(claimed) == raw and claimed.relay == relay


def test_site_mail_goes_through_the_spool(db, settings):
    from mailsite import settings as site_settings

    assert site_settings.EMAIL_BACKEND == "spooler.backend.EmailBackend"
    settings.EMAIL_BACKEND = site_settings.EMAIL_BACKEND  # pytest-django swaps in locmem for tests
    sent = mail.send_mail("Password reset", "Click here", "noreply@example.test", ["user@example.test"])
    assert sent == 1
    row = OutboxMessage.objects.get()
    assert row.relay is None and row.recipients == ["user@example.test"] and row.subject == "Password reset"
    assert b"Click here" in bytes(row.body.raw)


def test_site_mail_failure_is_logged_not_bounced(db, settings, smtp_sink, caplog):
    sink = smtp_sink("-f", "RCPT")
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    mail.send_mail("Welcome", "Hi", "noreply@example.test", ["user@example.test"])
    delivery.outbox_deliver_due()
    row = OutboxMessage.objects.get()
    assert row.status == "failed" and row.bounced_at and not Message.objects.exists()
    assert "no inbox to bounce to" in caplog.text


def test_header_injection_in_site_mail_is_refused(db, settings):
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"
    with pytest.raises(ValueError):
        mail.send_mail("Hi\r\nBcc: victim@example.test", "x", "noreply@example.test", ["user@example.test"])
    assert not OutboxMessage.objects.exists()
    assert not DeliveryAttempt.objects.exists()


def test_a_batch_stopped_early_records_what_was_sent_and_requeues_the_rest(sender, smtp_sink, monkeypatch):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(3)]
    real = delivery._deliver_one
    calls = []

    def deliver_one(batch, session, row, **kwargs):
        calls.append(row.id)
        if len(calls) == 2:  # the second row's envelope went out ahead with the first one's content
            raise RuntimeError("the task's soft time limit")
        return real(batch, session, row, **kwargs)

    monkeypatch.setattr(delivery, "_deliver_one", deliver_one)
    with pytest.raises(RuntimeError):
        delivery.outbox_deliver_due()
    got = {r.id: r.status for r in OutboxMessage.objects.all()}
    assert got == {rows[0].id: "sent", rows[1].id: "queued", rows[2].id: "queued"}
    assert sink.wait_for_count(1) == 1
