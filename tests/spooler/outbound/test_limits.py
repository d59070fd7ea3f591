"""Per-relay limits (messages per minute, parallel connections), enforced through Redis across processes."""
import pytest
from django.utils import timezone

from spooler.models import OutboxMessage, RelayLimit
from spooler.services.outbound import limits
from spooler.services.outbound import delivery
from tests.spooler.outbound.conftest import enqueue, point_relay

pytestmark = pytest.mark.django_db


def test_messages_per_minute_keeps_the_rest_queued(sender, smtp_sink):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    RelayLimit.objects.create(host="127.0.0.1", port=sink.port, messages_per_minute=2)
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(5)]
    delivery.outbox_deliver_due()
    assert sink.wait_for_count(2) == 2
    statuses = sorted(OutboxMessage.objects.filter(id__in=[r.id for r in rows]).values_list("status", flat=True))
    assert statuses == ["queued", "queued", "queued", "sent", "sent"]
    waiting = OutboxMessage.objects.filter(status="queued")
    assert all(r.attempts == 0 and r.next_attempt_at > timezone.now() for r in waiting)  # not failed: later
    assert not waiting.first().delivery_attempts.exists()


def test_max_connections_is_shared_across_processes(sender, smtp_sink, settings):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    RelayLimit.objects.create(host="127.0.0.1", port=sink.port, max_connections=1)
    key = limits.relay_key("127.0.0.1", sink.port)
    other = limits.acquire_connection(key=key, max_connections=1, ttl=60)  # another worker holds the only slot
    assert other
    row = enqueue(sender, ["x@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "queued" and row.attempts == 0 and sink.count() == 0
    limits.release_connection(key=key, holder=other)
    OutboxMessage.objects.filter(id=row.id).update(next_attempt_at=timezone.now())
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "sent" and sink.wait_for_count(1) == 1
    # The slot was given back: another process can take it again.
    assert limits.acquire_connection(key=key, max_connections=1, ttl=60)


def test_a_dead_holder_frees_its_slot_when_its_ttl_runs_out():
    key = "test-relay:25"
    assert limits.acquire_connection(key=key, max_connections=1, ttl=0.2)
    assert limits.acquire_connection(key=key, max_connections=1, ttl=0.2) is None
    import time

    time.sleep(0.3)
    assert limits.acquire_connection(key=key, max_connections=1, ttl=0.2)


class RecordingRedis:
    """Stands in for the limits' Redis client: every method records its call and answers as if allowed.
    (Pointing at a dead Redis would prove nothing: limits.py logs a RedisError and delivers anyway.)"""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        def method(*args, **kwargs):
            self.calls.append(name)
            if name == "mget":
                return [None] * len(args)  # (no mark: the relay is not known to be silent)
            return self if name == "pipeline" else [1, True] if name == "execute" else 1
        return method


def test_without_a_limit_redis_is_asked_only_before_connecting(sender, smtp_sink, monkeypatch):
    sink = smtp_sink()
    point_relay(sender, sink.port)
    fake = RecordingRedis()
    monkeypatch.setattr(limits, "redis_client", lambda: fake)
    RelayLimit.objects.create(host="other.example", port=25, messages_per_minute=1)  # another relay's limit
    enqueue(sender, ["x@example.test"])
    delivery.outbox_deliver_due()
    assert sink.wait_for_count(1) == 1
    assert fake.calls == ["mget"]  # is the relay known to be silent? (services/relay_health.py)
    for i in range(3):
        enqueue(sender, [f"y{i}@example.test"])
        delivery.outbox_deliver_due()
    assert sink.wait_for_count(4) == 4
    assert fake.calls == ["mget"]  # the open connection needs no one's word


def test_the_recording_redis_sees_a_limit_being_asked(sender, smtp_sink, monkeypatch):
    """The control: with a limit on this relay, the same fake records the calls."""
    sink = smtp_sink()
    point_relay(sender, sink.port)
    fake = RecordingRedis()
    monkeypatch.setattr(limits, "redis_client", lambda: fake)
    RelayLimit.objects.create(host="127.0.0.1", port=sink.port, messages_per_minute=10, max_connections=2)
    enqueue(sender, ["x@example.test"])
    delivery.outbox_deliver_due()
    assert sink.wait_for_count(1) == 1
    assert "incr" in fake.calls and "eval" in fake.calls
