"""One relay that does not answer holds nobody else's mail: it is tried with the short connect timeout, its rows
wait as a group, and no worker connects to it again while it is marked down. Without Celery: batches are
delivered in this process, against a silent TCP server and real SMTP servers."""
import pytest

from spooler.models import OutboxMessage
from spooler.services.outbound import relay_health
from spooler.services.outbound import delivery
from tests.fixtures.users import make_user
from tests.spooler.outbound.conftest import enqueue, point_relay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_connect(settings):
    settings.SPOOL_CONNECT_TIMEOUT = 0.3
    settings.MAIL_TIMEOUT = 30  # (the command timeout: a connect that waited this long would stop the test)
    settings.SPOOL_RELAY_DOWN_SECONDS = 60


@pytest.fixture
def two_senders(mail_sandbox, silent_server, smtp_server):
    """`silent` sends through a relay that accepts TCP and never greets; `healthy` through an aiosmtpd."""
    healthy_server = smtp_server()
    silent = make_user("silent", sandbox=mail_sandbox)
    healthy = make_user("healthy", sandbox=mail_sandbox)
    point_relay(silent, silent_server.port)
    point_relay(healthy, healthy_server.port)
    return silent, healthy, healthy_server


def by_status(rows):
    found = dict(OutboxMessage.objects.filter(id__in=[r.id for r in rows]).values_list("id", "status"))
    return [found[r.id] for r in rows]


@pytest.mark.timeout(60)
def test_a_silent_relay_is_tried_once_and_its_rows_wait_as_a_group(two_senders, silent_server):
    silent, healthy, healthy_server = two_senders
    stuck = [enqueue(silent, [f"s{i}@example.test"]) for i in range(5)]
    fine = [enqueue(healthy, [f"h{i}@example.test"]) for i in range(5)]
    assert delivery.outbox_deliver_due() == 10
    assert by_status(fine) == ["sent"] * 5
    assert sorted(healthy_server.handler.message_ids()) == sorted(r.message_id for r in fine)
    assert by_status(stuck) == ["deferred"] * 5
    assert len(silent_server.accepted) == 1  # one connection for the whole group
    row = OutboxMessage.objects.get(id=stuck[0].id)
    assert "no answer within the timeout while connecting" in row.last_text
    # New mail for the silent relay: deferred at once by any worker, without connecting again.
    later = enqueue(silent, ["s9@example.test"])
    assert delivery.outbox_deliver_due() == 1
    later.refresh_from_db()
    assert later.status == "deferred" and later.last_text.count("not tried") == 1 and later.attempts == 1
    assert len(silent_server.accepted) == 1
    assert relay_health.relay_health(f"127.0.0.1:{silent_server.port}").down


@pytest.mark.timeout(60)
def test_a_relay_connected_to_goes_first(two_senders, silent_server, monkeypatch):
    silent, healthy, healthy_server = two_senders
    enqueue(healthy, ["warm@example.test"])
    delivery.outbox_deliver_due()  # this process now holds a connection to the healthy relay
    order = []
    real = delivery._deliver_group
    monkeypatch.setattr(delivery, "_deliver_group", lambda batch, group: order.append(group[0].relay_id) or real(batch, group))
    stuck = enqueue(silent, ["s@example.test"])  # (the silent account's rows sort first by relay id)
    fine = enqueue(healthy, ["h@example.test"])
    assert stuck.relay_id < fine.relay_id
    delivery.outbox_deliver_due()
    assert order == [fine.relay_id, stuck.relay_id]
    assert by_status([fine, stuck]) == ["sent", "deferred"]


@pytest.mark.timeout(60)
def test_a_relay_that_goes_silent_mid_group_is_not_connected_to_again(mail_sandbox, smtp_server, settings):
    settings.MAIL_TIMEOUT = 0.5
    # It takes the first message, then holds the second one's reply past the command timeout.
    server = smtp_server(sleep_after_data=30, sleep_after_data_on=2)
    sender = make_user("sender2", sandbox=mail_sandbox)
    point_relay(sender, server.port)
    rows = [enqueue(sender, [f"r{i}@example.test"]) for i in range(6)]
    delivery.outbox_deliver_due()
    assert by_status(rows) == ["sent"] + ["deferred"] * 5
    assert server.handler.hellos == 1  # no reconnect after the timeout
    assert relay_health.relay_health(f"127.0.0.1:{server.port}").down


@pytest.mark.timeout(60)
def test_a_suspect_relay_gets_one_connection_attempt_at_a_time(two_senders, silent_server, settings):
    silent, _healthy, _server = two_senders
    key = f"127.0.0.1:{silent_server.port}"
    settings.SPOOL_RELAY_DOWN_SECONDS = 0.001
    relay_health.mark_down(key, RuntimeError("earlier"))  # down for a moment, suspect after
    assert relay_health.take_probe(key, seconds=30)  # another worker is trying it right now
    row = enqueue(silent, ["s@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "queued" and row.attempts == 0 and row.next_attempt_at > row.created_at  # put back
    assert silent_server.accepted == []  # and no connection of ours


@pytest.mark.timeout(60)
def test_a_relay_that_answers_again_is_no_longer_suspect(mail_sandbox, smtp_server, settings):
    server = smtp_server()
    sender = make_user("sender3", sandbox=mail_sandbox)
    point_relay(sender, server.port)
    key = f"127.0.0.1:{server.port}"
    settings.SPOOL_RELAY_DOWN_SECONDS = 0.001
    relay_health.mark_down(key, RuntimeError("earlier"))
    row = enqueue(sender, ["r@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "sent"
    assert relay_health.relay_health(key) == relay_health.Health()


def test_what_counts_as_not_answering():
    from spooler.sessions import NoAnswer, PermanentError, TLSError, TransientError

    assert relay_health.failed_to_answer(NoAnswer("silent"))
    assert relay_health.failed_to_answer(TransientError("connection refused while connecting"))
    assert not relay_health.failed_to_answer(TransientError("too busy", code=421))  # it answered
    assert not relay_health.failed_to_answer(TLSError("certificate refused"))
    assert not relay_health.failed_to_answer(PermanentError("go away", code=554))
