"""The rules the spool and the poller share: what a refusal makes of a recipient, how long a retry waits."""
from datetime import UTC, datetime, timedelta

import pytest

from spooler.models import RecipientStatus
from spooler.services import rules


@pytest.mark.parametrize(("code", "status"), [
    (421, RecipientStatus.DEFERRED), (450, RecipientStatus.DEFERRED), (499, RecipientStatus.DEFERRED),
    (500, RecipientStatus.FAILED), (550, RecipientStatus.FAILED), (554, RecipientStatus.FAILED),
    (399, RecipientStatus.FAILED),
])
def test_recipient_status(code, status):
    assert rules.recipient_status(code) == status


@pytest.mark.parametrize("failures", [0, -1])
def test_backoff_nothing_before_a_failure(failures):
    assert rules.backoff(failures, base=60, cap=3600) == timedelta(0)


def test_backoff_doubles_up_to_the_cap():
    delays = [rules.backoff(n, base=60, cap=1000).total_seconds() for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 960, 1000]


def test_backoff_survives_a_huge_failure_count():
    assert rules.backoff(10**6, base=60, cap=7200) == timedelta(seconds=7200)


def test_outbox_retry_delay_reads_the_spool_settings(settings):
    settings.SPOOL_RETRY_BASE_SECONDS, settings.SPOOL_RETRY_MAX_SECONDS = 10, 35
    assert [rules.outbox_retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 35, 35]


def test_poll_retry_delay_reads_the_poll_settings(settings):
    settings.POLL_RETRY_BASE_SECONDS, settings.POLL_RETRY_MAX_SECONDS = 30, 100
    assert rules.poll_retry_delay(0) == timedelta(0)
    assert [rules.poll_retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 100]


def test_poll_due_horizon_is_half_an_interval_ahead(settings):
    settings.POLL_INTERVAL_SECONDS = 120
    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert rules.poll_due_horizon(now) == now + timedelta(seconds=60)
