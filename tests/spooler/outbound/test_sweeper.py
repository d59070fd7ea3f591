"""The sweeper: receipted rows recorded as sent, the rest of a dead worker's batch re-queued, with one cutoff,
every receipt read (paged), and no receipt dropped before it is recorded. Without Celery: the sweep is called."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from mailsite.mailboxes.models import Message
from spooler.models import OutboxMessage, OutboxReceipt
from spooler.services.outbound import receipts, sweeper
from spooler.services.outbound import claims
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db

STORES = ["file", "table"]


@pytest.fixture(params=STORES)
def store(request, monkeypatch, tmp_path):
    """Files as on SQLite, rows as on PostgreSQL: both stores, whichever database runs the test."""
    monkeypatch.setattr(receipts, "receipt_dir", lambda: tmp_path / "receipts" if request.param == "file" else None)
    return request.param


def dead_batch(sender, n, *, receipted, lease_until=None):
    """A batch of n rows claimed by a worker that died after the relay accepted the first `receipted` of them."""
    rows = [enqueue(sender, [f"x{i}@example.test"]) for i in range(n)]
    claimed = claims.outbox_claim(limit=n)
    assert len(claimed) == n
    kept = receipts.batch_receipts(claimed[0].claim_token)
    for row in claimed[:receipted]:
        kept.write(row.id, timezone.now())
    OutboxMessage.objects.filter(id__in=[r.id for r in rows]).update(
        lease_until=lease_until or timezone.now() - timedelta(seconds=1))
    return claimed


def status_of(rows) -> list[str]:
    found = dict(OutboxMessage.objects.filter(id__in=[r.id for r in rows]).values_list("id", "status"))
    return [found[r.id] for r in rows]


def test_sweeper_requeues_rows_whose_lease_ran_out(sender):
    row = enqueue(sender, ["x@example.test"])
    assert claims.outbox_claim(limit=1)
    OutboxMessage.objects.filter(id=row.id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweeper.outbox_sweep() == 1
    row.refresh_from_db()
    assert row.status == "queued" and row.claim_token is None


def test_sweeper_records_a_receipted_row_as_sent_instead_of_sending_it_again(sender, store):
    rows = dead_batch(sender, 3, receipted=2)  # the third one was never accepted
    assert isinstance(receipts.batch_receipts(uuid.uuid4()), receipts.FileReceipts if store == "file" else receipts.TableReceipts)
    assert len(receipts.kept_receipts()) == 2
    assert sweeper.outbox_sweep() == 1  # the third is due again; the two receipted ones are sent
    for row in rows:
        row.refresh_from_db()
    assert [r.status for r in rows] == ["sent", "sent", "queued"]
    assert rows[0].attempts == 1 and rows[0].outcomes["x0@example.test"]["status"] == "sent"
    assert "receipt" in rows[0].delivery_attempts.get().text
    assert receipts.kept_receipts() == [] and not OutboxReceipt.objects.exists()


def test_every_receipt_is_read_however_many_pages_they_fill(sender, store, settings):
    settings.SPOOL_RECEIPT_PAGE = 3  # 10 receipts: four pages
    rows = dead_batch(sender, 12, receipted=10)
    assert sweeper.outbox_sweep() == 2
    assert status_of(rows) == ["sent"] * 10 + ["queued"] * 2
    assert all(r.delivery_attempts.count() == 1 for r in rows[:10])
    assert receipts.kept_receipts() == []


def test_a_batch_whose_lease_runs_out_during_the_sweep_is_neither_requeued_nor_forgotten(sender, store, settings):
    settings.SPOOL_RECEIPT_PAGE = 1
    settings.SPOOL_TEST_RECOVERY_DELAY_SECONDS = 0.2  # every page takes 0.2 s: the sweep outlives the lease below
    first = dead_batch(sender, 2, receipted=2)
    second = dead_batch(sender, 3, receipted=2, lease_until=timezone.now() + timedelta(seconds=0.3))
    sweeper.outbox_sweep()
    assert status_of(first) == ["sent", "sent"]
    # The second batch's lease ran out after the sweep's cutoff: left as it was, receipts and all ...
    assert status_of(second) == ["sending"] * 3
    assert {row_id for _t, row_id, _at in receipts.kept_receipts()} == {second[0].id, second[1].id}
    # ... so the next sweep records its receipted rows and re-queues only the one never accepted.
    settings.SPOOL_TEST_RECOVERY_DELAY_SECONDS = 0
    sweeper.outbox_sweep()
    assert status_of(second) == ["sent", "sent", "queued"]
    assert receipts.kept_receipts() == []


def test_requeue_leaves_a_row_with_a_receipt_of_its_claim(sender, store):
    rows = dead_batch(sender, 2, receipted=1)
    token = OutboxMessage.objects.get(id=rows[0].id).claim_token
    # A receipt the recovery did not read (written after it read its page): the re-queue still leaves the row.
    receipted = {(token, rows[0].id)} if store == "file" else set()
    assert sweeper.outbox_requeue_expired(cutoff=timezone.now(), receipted=receipted) == 1
    assert status_of(rows) == ["sending", "queued"]


def test_receipts_of_a_batch_still_at_work_are_kept(sender, store):
    live = dead_batch(sender, 2, receipted=1, lease_until=timezone.now() + timedelta(minutes=5))
    sweeper.outbox_sweep()
    assert status_of(live) == ["sending", "sending"]
    assert [row_id for _t, row_id, _at in receipts.kept_receipts()] == [live[0].id]


def test_an_obsolete_receipt_is_dropped_and_changes_nothing(sender, store):
    """A receipt of an earlier claim of a row that was since re-queued and claimed again (now running)."""
    (row,) = dead_batch(sender, 1, receipted=1)
    stale = OutboxMessage.objects.get(id=row.id).claim_token
    OutboxMessage.objects.filter(id=row.id).update(claim_token=uuid.uuid4(),
                                                   lease_until=timezone.now() + timedelta(minutes=5))
    sweeper.outbox_sweep()
    assert status_of([row]) == ["sending"]
    assert stale not in {t for t, _r, _at in receipts.kept_receipts()}


def test_sweeper_stores_an_owed_bounce(sender):
    row = enqueue(sender, ["x@example.test"])
    OutboxMessage.objects.filter(id=row.id).update(
        status="failed", bounce_pending=True, outcomes={"x@example.test": {"status": "failed", "code": 554, "text": "no"}})
    sweeper.outbox_sweep()
    row.refresh_from_db()
    assert not row.bounce_pending and Message.objects.filter(uid=f"bounce-{row.id}").count() == 1
    sweeper.outbox_sweep()
    assert Message.objects.filter(uid=f"bounce-{row.id}").count() == 1
