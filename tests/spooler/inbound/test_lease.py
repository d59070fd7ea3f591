"""The poll lease: short, kept alive by a heartbeat while its poll runs, free soon after its poller dies."""
from datetime import timedelta

import pytest
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.services.inbound.lease import LeaseLost, PollLease
from tests.fixtures.waiting import wait_for

# The heartbeat is a thread with its own database connection: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_lease(settings):
    settings.POLL_LEASE_SECONDS = 0.6  # a beat every 0.2 s


def lease_of(account):
    return MailAccount.objects.get(id=account.id).poll_lease_until


def test_the_heartbeat_keeps_a_long_poll_s_lease(account, short_lease):
    lease = PollLease.take(account.id, due_only=False)
    first = lease.until
    lease.start_heartbeat()
    try:
        # Renewed again and again while "the poll" waits: well past the lease's first end, it is still held.
        assert wait_for(lambda: (lease_of(account) - first).total_seconds() > 1.5, timeout=20)
        assert PollLease.take(account.id, due_only=False) is None
    finally:
        lease.release(last_poll_error="")
    assert lease_of(account) is None
    assert PollLease.take(account.id, due_only=False) is not None  # released: free at once


def test_a_dead_poller_s_lease_runs_out_by_itself(account, short_lease):
    dead = PollLease.take(account.id, due_only=False)
    assert PollLease.take(account.id, due_only=False) is None
    # Its process died: no heartbeat, no release. The next poll gets the account once the short lease ran out.
    assert wait_for(lambda: PollLease.take(account.id, due_only=False), timeout=20)
    with pytest.raises(LeaseLost):
        dead.renew()


def test_a_heartbeat_that_finds_the_lease_taken_stops_and_the_poll_stops_too(account, short_lease):
    lease = PollLease.take(account.id, due_only=False)
    lease.start_heartbeat()
    thief = timezone.now() + timedelta(minutes=5)
    MailAccount.objects.filter(id=account.id).update(poll_lease_until=thief)
    assert wait_for(lambda: lease.lost, timeout=20)
    with pytest.raises(LeaseLost):
        lease.renew(sync_done=1)
    lease.release(last_poll_error="")  # (not ours any more: left as the thief set it)
    assert lease_of(account) == thief
