"""The delivery loop's plain SQL: the same rows as the ORM, and waits for SQLite's write lock that end."""
import sqlite3
import threading
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from spooler.models import DUE_STATUSES, DeliveryAttempt, OutboxMessage, OutboxStatus
from spooler.services.sql import outbox as outbox_sql
from spooler.services.sql import rows as bulk_rows
from spooler.services.sql import transactions
from spooler.services.outbound import claims
from spooler.services.outbound import outcomes
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db


def test_claimed_rows_read_as_the_orm_reads_them(sender):
    rows = [enqueue(sender, [f"r{i}@example.test", "b@exämple.test"], subject=f"S{i}") for i in range(3)]
    OutboxMessage.objects.filter(id=rows[1].id).update(priority=5, outcomes={"r1@example.test": {"status": "deferred"}})
    claimed = claims.outbox_claim(limit=10)
    assert [r.id for r in claimed] == [rows[1].id, rows[0].id, rows[2].id]  # priority first, then age
    # What delivery never reads stays deferred (the ORM loads it when asked, as the loop below does).
    assert claimed[0].get_deferred_fields() == {"user_id", "message_id", "subject", "not_before", "created_at",
                                                "bounced_at"}
    for row in claimed:
        orm = OutboxMessage.objects.get(id=row.id)
        for field in OutboxMessage._meta.concrete_fields:
            if field.attname != "lease_until":  # (the database keeps microseconds; compared below)
                assert getattr(row, field.attname) == getattr(orm, field.attname), field.name
        assert abs((row.lease_until - orm.lease_until).total_seconds()) < 0.001
        assert row.status == OutboxStatus.SENDING and row.claimed_raw == bytes(orm.body.raw)


def test_rows_written_in_bulk_read_back_as_the_orm_reads_them(sender):
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(5)]
    now = timezone.now()
    for i, row in enumerate(rows):
        row.status = OutboxStatus.SENT if i % 2 else OutboxStatus.DEFERRED
        row.attempts, row.last_code, row.last_text = i + 1, None, f"it's \"quoted\" \\ ü; {i}"  # last_code: all NULL
        row.outcomes = {f"r{i}@example.test": {"status": "sent", "code": 250, "text": "O'K ü"}}
        row.next_attempt_at, row.lease_until, row.claim_token = now, None, None
        row.sent_at, row.finished_at, row.bounce_pending = (now if i % 2 else None), None, bool(i % 2)
    bulk_rows.update_rows(OutboxMessage, rows, outcomes.ROW_FIELDS)
    for row in rows:
        stored = OutboxMessage.objects.get(id=row.id)
        assert {f: getattr(stored, f) for f in outcomes.ROW_FIELDS} == {f: getattr(row, f) for f in outcomes.ROW_FIELDS}
    attempts = [SimpleNamespace(message_id=row.id, at=now, code=None if i == 0 else 250, text=f"t'{i}", duration_ms=i,
                                outcome=row.status, refused={"x@example.test": [550, "no 'way'"]} if i else {})
                for i, row in enumerate(rows)]
    bulk_rows.insert_rows(DeliveryAttempt, attempts, outcomes.ATTEMPT_FIELDS)
    assert list(DeliveryAttempt.objects.order_by("duration_ms").values_list(
        "message_id", "at", "code", "text", "duration_ms", "outcome", "refused")) == [
        (a.message_id, a.at, a.code, a.text, a.duration_ms, a.outcome, a.refused) for a in attempts]


@pytest.mark.timeout(60)  # a wait that never ends; how long the wait takes is not asserted
@pytest.mark.django_db(transaction=True)
def test_a_write_transaction_waits_for_another_process_holding_the_sqlite_lock(sender):
    enqueue(sender, ["x@example.test"])
    if connection.vendor != "sqlite":
        with transactions.write_transaction():  # PostgreSQL: a plain atomic block, rows locked one by one
            assert outbox_sql.claim_due(statuses=DUE_STATUSES, now=timezone.now(), limit=5, status=OutboxStatus.SENDING,
                                        token=uuid.uuid4(), lease_until=timezone.now())
        return
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another worker's batch holds the write lock for a while
    releasing = threading.Event()

    def release_the_lock():
        releasing.set()  # before COMMIT: once the lock is free this is set, whichever thread runs first
        other.execute("COMMIT")

    release = threading.Timer(0.3, release_the_lock)
    release.start()
    try:
        with transactions.write_transaction():
            assert releasing.is_set()  # it waited for the other process instead of failing or going ahead
            assert outbox_sql.claim_due(statuses=DUE_STATUSES, now=timezone.now(), limit=5, status=OutboxStatus.SENDING,
                                        token=uuid.uuid4(), lease_until=timezone.now())
    finally:
        release.join()
        other.close()
    assert OutboxMessage.objects.get().status == "sending"
    # SQLite's own busy handler is back in place for everything else.
    assert connection.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
