"""Crash fault tests of the outbound spool: worker processes SIGKILLed in the middle of big batches, once late
and over and over, with real Celery workers (embedded beat runs the sweeper), this test's own Redis and an
in-process aiosmtpd relay that records every message.

The promise (spooler/services/outbound/sweeper.py): nothing is lost, and each killed pool process costs at most ONE
duplicate, the message whose 250 arrived before its receipt was written. Counted by Message-ID at the relay.

The sizes can be changed from the environment (CRASH_BIG_QUEUED, CRASH_BIG_KILL_AT, CRASH_LOOP_QUEUED,
CRASH_LOOP_KILLS), e.g. to show what a sweep that reads at most 1,000 receipts does: CRASH_BIG_QUEUED=1500
CRASH_BIG_KILL_AT=1300 (receipts as rows, i.e. on PostgreSQL). Every wait is on a condition with a bounded timeout.
"""
import os
import signal

import pytest

from tests.fixtures.procs import children, connection_owner
from tests.fixtures.waiting import wait_for
from tests.fixtures.spool import all_sent, enqueue_many, explain, kill, sender_on

pytestmark = pytest.mark.django_db(transaction=True)

# One batch holds every message; the worker dies while the relay holds the KILL_AT-th before its 250, so
# KILL_AT - 1 receipts are kept: six pages of 50.
BIG_QUEUED = int(os.environ.get("CRASH_BIG_QUEUED", "400"))
BIG_KILL_AT = int(os.environ.get("CRASH_BIG_KILL_AT", "300"))
BIG_SETTINGS = dict(SPOOL_BATCH_SIZE=str(BIG_QUEUED), SPOOL_RECEIPT_PAGE="50")

# Batches of 300 killed partway, a sweep that takes a tenth of a second per page of 50 receipts (every kept
# receipt is read, the running batches' too: a sweep takes a second or more) and a lease of 2 s: killed
# batches' leases run out in the middle of sweeps, again and again.
LOOP_QUEUED = int(os.environ.get("CRASH_LOOP_QUEUED", "2400"))  # (the kills take some 1,700 of them)
LOOP_KILLS = int(os.environ.get("CRASH_LOOP_KILLS", "16"))
LOOP_SETTINGS = dict(
    SPOOL_LEASE_SECONDS="2",  # (renewed every 2/3 s by a live batch)
    SPOOL_RECEIPT_PAGE="50",
    SPOOL_TEST_RECOVERY_DELAY_SECONDS="0.1",
    SWEEP_INTERVAL_SECONDS="1",
    SPOOL_BATCH_SIZE="300",
    SPOOL_DRAIN_SECONDS="2",  # a delivering process takes its next task (perhaps a sweep) every 2 s
)
LOOP_RELAY_DELAY = 0.003  # seconds before each 250: a batch of 300 takes a second or more, time to be killed in
LOOP_KILL_AFTER = 100  # messages the relay got since the last kill: a kill about every half second, mid-batch


def relay_counts(handler, rows, killed: int, name: str) -> tuple[set, int, str]:
    """(Message-IDs lost, duplicates, the line of counts) as the relay saw them."""
    received = handler.message_ids()
    distinct = set(received)
    duplicates = len(received) - len(distinct)
    line = (f"{name}: queued={len(rows)} received={len(received)} distinct={len(distinct)} "
            f"duplicates={duplicates} killed={killed} ({duplicates / max(killed, 1):.2f} per killed process)")
    return {r.message_id for r in rows} - distinct, duplicates, line


def sending_pool_process(worker, server) -> int | None:
    """The worker's pool process that sent the relay's latest message over a connection still open, if any."""
    latest = server.handler.messages[-1].peer if server.handler.messages else None
    if latest is None or worker.proc is None:
        return None
    return connection_owner(children(worker.proc.pid), local_port=latest[1], remote_port=server.port)


def test_batch_of_many_receipt_pages_killed_late_is_recovered_with_one_duplicate(mail_sandbox, workers, smtp_server,
                                                                                 fault_counts):
    server = smtp_server(sleep_after_data=60, sleep_after_data_on=BIG_KILL_AT)
    _user, account = sender_on(mail_sandbox, server.port)
    rows = enqueue_many(account, BIG_QUEUED)  # queued before the worker starts: its first claim takes them all
    first = workers(beat=False, **BIG_SETTINGS)  # (no sweep while it sends: only the second worker recovers)
    assert server.handler.holding.wait(60), explain(rows, first)
    kill(first)
    server.handler.sleep_after_data = 0
    second = workers(**BIG_SETTINGS)
    assert wait_for(all_sent(rows), timeout=60), explain(rows, second)
    lost, duplicates, line = relay_counts(server.handler, rows, killed=1, name="big-batch")
    fault_counts(line)
    assert not lost, line
    assert duplicates <= 1, line


def test_pool_process_killed_over_and_over_costs_at_most_one_duplicate_each(mail_sandbox, workers, smtp_server,
                                                                           fault_counts):
    server = smtp_server(delay_per_message=LOOP_RELAY_DELAY)
    _user, account = sender_on(mail_sandbox, server.port)
    worker = workers(concurrency=2, **LOOP_SETTINGS)
    rows = enqueue_many(account, LOOP_QUEUED)
    killed = 0
    while killed < LOOP_KILLS:
        count_then = len(server.handler.messages)

        def sending_again():
            # Mail went out since the last kill (Celery's parent respawned the process and re-ran its task): the
            # process that sent the latest message is mid-batch.
            return len(server.handler.messages) >= count_then + LOOP_KILL_AFTER and sending_pool_process(worker, server)

        pid = wait_for(sending_again, timeout=60)
        assert pid, f"no pool process sending after {killed} kills\n" + explain(rows, worker)
        os.kill(pid, signal.SIGKILL)
        killed += 1
    assert wait_for(all_sent(rows), timeout=90), explain(rows, worker)
    lost, duplicates, line = relay_counts(server.handler, rows, killed=killed, name="crash-loop")
    fault_counts(line)
    assert not lost, line
    assert duplicates <= killed, line
