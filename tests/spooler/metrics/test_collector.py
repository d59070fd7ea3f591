"""The /metrics collector on rows made here: queue depth, the oldest due message, the counters per relay, the
latency buckets computed in SQL, and the poll counters kept in Redis."""
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from spooler.models import DeliveryAttempt, OutboxMessage
from spooler.services.metrics import poll_counters, spool_counts
from spooler.services.metrics.collector import registry
from spooler.services.outbound import limits
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_redis(settings, redis_server):
    settings.REDIS_URL = redis_server.url
    settings.EMAIL_HOST, settings.EMAIL_PORT = "relay.example.test", 2525
    redis.Redis.from_url(redis_server.url).delete(poll_counters.KEY)
    poll_counters.forget_pause()
    limits.clear_cache()
    yield
    poll_counters.forget_pause()  # (after the test of an unreachable Redis)


def row(*, status="queued", relay=None, created=None, not_before=None, sent_after=None, due_in=0.0,
        bounced=False, attempts=()):
    now = timezone.now()
    created = created or now
    message = OutboxMessage.objects.create(
        relay=relay, envelope_from="a@example.test", recipients=["b@example.test"], message_id="<m@example.test>",
        status=status, created_at=created, not_before=not_before, next_attempt_at=now + timedelta(seconds=due_in),
        sent_at=(not_before or created) + sent_after if sent_after is not None else None,
        finished_at=now if status in ("sent", "failed", "expired") else None,
        bounced_at=now if bounced else None)
    for outcome in attempts:
        DeliveryAttempt.objects.create(message=message, outcome=outcome, code=250 if outcome == "sent" else 451)
    return message


def scrape() -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape."""
    text = generate_latest(registry()).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_queue_depth_and_the_oldest_due_message():
    now = timezone.now()
    row(status="queued", due_in=-90)  # due for 90 s
    row(status="queued", due_in=-5)
    row(status="queued", due_in=600)  # not due yet
    row(status="deferred", due_in=-30)
    row(status="deferred", due_in=-3600, not_before=now + timedelta(hours=1))  # scheduled later: not due
    row(status="sending")
    row(status="sent", sent_after=timedelta(seconds=1))
    assert spool_counts.queue_depth() == {"queued": 3, "deferred": 2, "sending": 1, "held": 0}
    assert 89 <= spool_counts.oldest_due_seconds(now=now) < 100
    metrics = scrape()
    assert metrics[("mailsite_outbox_messages", frozenset({("status", "queued")}))] == 3
    assert metrics[("mailsite_outbox_messages", frozenset({("status", "held")}))] == 0
    assert metrics[("mailsite_outbox_oldest_due_age_seconds", frozenset())] >= 89


def test_nothing_due_is_an_age_of_zero():
    row(status="queued", due_in=600)
    row(status="sent", sent_after=timedelta(seconds=1))
    assert spool_counts.oldest_due_seconds() == 0.0


def test_attempts_and_bounces_per_relay():
    alice = make_user("alice").mail_accounts.get()
    alice.smtp_host, alice.smtp_port = "SMTP.Example.test", 587
    alice.save()
    bob = make_user("bob").mail_accounts.get()
    bob.smtp_host, bob.smtp_port = "smtp.example.test", 587  # the same relay as alice's: one label
    bob.save()
    row(status="sent", relay=alice, sent_after=timedelta(seconds=2), attempts=["deferred", "deferred", "sent"])
    row(status="failed", relay=bob, attempts=["failed"], bounced=True)
    row(status="expired", relay=bob, attempts=["deferred", "expired"], bounced=True)
    row(status="sent", relay=None, sent_after=timedelta(seconds=1), attempts=["sent"])
    metrics = scrape()

    def attempts(relay, outcome):
        return metrics[("mailsite_outbox_attempts_total", frozenset({("relay", relay), ("outcome", outcome)}))]

    assert attempts("smtp.example.test:587", "sent") == 1
    assert attempts("smtp.example.test:587", "deferred") == 3
    assert attempts("smtp.example.test:587", "failed") == 1
    assert attempts("smtp.example.test:587", "expired") == 1
    assert attempts("relay.example.test:2525", "sent") == 1  # site mail: the default relay
    assert metrics[("mailsite_outbox_bounced_total", frozenset({("relay", "smtp.example.test:587")}))] == 2
    assert ("mailsite_outbox_bounced_total", frozenset({("relay", "relay.example.test:2525")})) not in metrics


def test_latency_buckets_are_counted_in_sql():
    now = timezone.now()
    row(status="sent", sent_after=timedelta(seconds=0.05))
    row(status="sent", sent_after=timedelta(seconds=3))
    row(status="sent", sent_after=timedelta(seconds=3))
    # Scheduled: counted from its scheduled time, not from when it was written.
    row(status="sent", created=now - timedelta(hours=2), not_before=now - timedelta(seconds=40),
        sent_after=timedelta(seconds=40))
    old = row(status="sent", sent_after=timedelta(seconds=1))
    OutboxMessage.objects.filter(id=old.id).update(finished_at=now - timedelta(hours=25))  # outside the window
    row(status="queued")
    buckets, total = spool_counts.delivery_latency(now=now)
    counts = dict(buckets)
    assert counts["0.1"] == 1 and counts["2.5"] == 1 and counts["5.0"] == 3 and counts["30.0"] == 3
    assert counts["60.0"] == 4 and counts["+Inf"] == 4
    assert total == pytest.approx(46.05, abs=0.01)
    metrics = scrape()
    le = "mailsite_outbox_delivery_latency_seconds_bucket"
    assert metrics[(le, frozenset({("le", "5.0")}))] == 3
    assert metrics[("mailsite_outbox_delivery_latency_seconds_gcount", frozenset())] == 4
    assert metrics[("mailsite_outbox_delivery_latency_seconds_gsum", frozenset())] == pytest.approx(46.05, abs=0.01)


def test_poll_counters_from_redis_and_accounts_per_state():
    make_user("alice")
    failing = make_user("bob").mail_accounts.get()
    failing.poll_failures = 2
    failing.save()
    poll_counters.poll_count(state="ok", error=False, stored=3, seconds=0.2)
    poll_counters.poll_count(state="ok", error=True, stored=0, seconds=7.0)
    poll_counters.poll_count(state="failing", error=True, stored=0, seconds=400.0)
    metrics = scrape()

    def value(name, **labels):
        return metrics[(name, frozenset(labels.items()))]

    assert value("mailsite_poll_accounts", state="ok") == 1
    assert value("mailsite_poll_accounts", state="failing") == 1
    assert value("mailsite_poll_runs_total", state="ok") == 2
    assert value("mailsite_poll_errors_total", state="ok") == 1
    assert value("mailsite_poll_runs_total", state="failing") == 1
    assert value("mailsite_poll_errors_total", state="failing") == 1
    assert value("mailsite_poll_messages_stored_total") == 3
    assert value("mailsite_poll_duration_seconds_bucket", state="ok", le="0.25") == 1
    assert value("mailsite_poll_duration_seconds_bucket", state="ok", le="10.0") == 2
    assert value("mailsite_poll_duration_seconds_bucket", state="failing", le="300.0") == 0
    assert value("mailsite_poll_duration_seconds_bucket", state="failing", le="+Inf") == 1
    assert value("mailsite_poll_duration_seconds_count", state="ok") == 2
    assert value("mailsite_poll_duration_seconds_sum", state="ok") == pytest.approx(7.2)


def test_an_unreachable_redis_leaves_the_poll_counters_out(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # (port 9: nothing listens)
    limits.clear_cache()
    poll_counters.poll_count(state="ok", error=False, stored=1, seconds=1.0)  # never raises
    metrics = scrape()
    assert ("mailsite_poll_accounts", frozenset({("state", "ok")})) in metrics
    assert not any(name.startswith("mailsite_poll_runs") for name, _labels in metrics)
