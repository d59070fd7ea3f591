"""A delivery through an SMTP server its user typed in checks the administrator's rule right before connecting and
connects to the address checked; refused: the message fails (the sender is told), nothing is connected to."""
import pytest

from spooler.services.mail_hosts import account_servers_mark
from spooler.services.outbound import delivery
from tests.fixtures.net import dns_for_the_host_check
from tests.spooler.outbound.conftest import enqueue, point_relay

pytestmark = pytest.mark.django_db

TYPED_NAME = "smtp.typed-by-the-user.test"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.MAIL_ALLOWED_HOSTS = []
    settings.MAIL_TIMEOUT = 2
    settings.SPOOL_CONNECT_TIMEOUT = 2


def fake_dns(monkeypatch, address):
    dns_for_the_host_check(monkeypatch, TYPED_NAME, address)


def test_a_typed_relay_is_connected_to_at_the_address_checked(sender, smtp_server, settings, monkeypatch):
    server = smtp_server()
    settings.MAIL_ALLOWED_HOSTS = [f"{TYPED_NAME}:{server.port}"]
    fake_dns(monkeypatch, "127.0.0.1")
    account = point_relay(sender, server.port, host=TYPED_NAME)
    account_servers_mark(account=account, sides=["smtp"])
    row = enqueue(sender, ["bob@example.test"])
    assert delivery.outbox_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == "sent" and len(server.handler.messages) == 1


def test_a_typed_relay_now_refused_fails_the_message_without_connecting(sender, silent_server, settings,
                                                                          monkeypatch):
    settings.MAIL_PUBLIC_PORTS = [silent_server.port]
    fake_dns(monkeypatch, "127.0.0.1")  # the name now points inside
    account = point_relay(sender, silent_server.port, host=TYPED_NAME)
    account_servers_mark(account=account, sides=["smtp"])
    row = enqueue(sender, ["bob@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "failed" and "not allowed by the administrator" in row.last_text
    assert row.outcomes["bob@example.test"]["status"] == "failed"
    assert not silent_server.accepted


def test_a_typed_relay_whose_name_is_not_found_waits(sender, settings, monkeypatch):
    fake_dns(monkeypatch, None)
    settings.MAIL_PUBLIC_PORTS = [587]
    account = point_relay(sender, 587, host=TYPED_NAME)
    account_servers_mark(account=account, sides=["smtp"])
    row = enqueue(sender, ["bob@example.test"])
    delivery.outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == "deferred" and "not resolved" in row.last_text


def test_the_administrators_relay_is_used_as_it_is(sender, smtp_server):
    server = smtp_server()
    point_relay(sender, server.port)  # 127.0.0.1 on any port: not allowed to users, but not typed by one
    enqueue(sender, ["bob@example.test"])
    assert delivery.outbox_deliver_due() == 1 and len(server.handler.messages) == 1
