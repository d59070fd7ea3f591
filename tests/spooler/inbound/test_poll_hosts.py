"""A poll of a server its user typed in checks the administrator's rule right before connecting, and connects to the
address checked; its errors do not tell a closed port from a silent one. The administrator's servers are used as
they are."""
import pytest

from mailsite.mailboxes.models import MailAccount
from spooler.services.inbound import errors
from spooler.services.inbound.poll import account_poll
from spooler.services.mail_hosts import account_servers_mark
from tests.fixtures.net import dns_for_the_host_check, free_port
from tests.spooler.inbound.conftest import simple

pytestmark = pytest.mark.django_db

TYPED_NAME = "pop.typed-by-the-user.test"  # no DNS knows it: only the address checked can be connected to


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.MAIL_TIMEOUT = 1
    settings.MAIL_ALLOWED_HOSTS = []


def fake_dns(monkeypatch, address):
    dns_for_the_host_check(monkeypatch, TYPED_NAME, address)


def poll(account):
    result = account_poll(account_id=account.id)
    account.refresh_from_db()
    return result


def typed(account, *, host=TYPED_NAME, port=None):
    MailAccount.objects.filter(id=account.id).update(incoming_host=host, incoming_port=port or account.incoming_port)
    account.refresh_from_db()
    account_servers_mark(account=account, sides=["incoming"])
    return account


def test_a_typed_server_is_connected_to_at_the_address_checked(account, mail_sandbox, settings, monkeypatch):
    settings.MAIL_ALLOWED_HOSTS = [f"{TYPED_NAME}:{account.incoming_port}"]
    fake_dns(monkeypatch, "127.0.0.1")
    mail_sandbox.deliver(account.address, simple(1))
    typed(account)
    assert poll(account).stored == 1 and account.last_poll_error == ""


def test_a_typed_server_that_now_resolves_to_an_internal_address_is_not_connected_to(
        account, mail_sandbox, settings, monkeypatch, silent_server):
    settings.MAIL_PUBLIC_PORTS = [silent_server.port]  # the port is allowed; the address it resolves to is not
    fake_dns(monkeypatch, "127.0.0.1")  # (DNS changed since the form checked the name)
    typed(account, port=silent_server.port)
    result = poll(account)
    assert result.error == f"{errors.NOT_ALLOWED}." == account.last_poll_error
    assert "MAIL_ALLOWED_HOSTS" in account.last_poll_error_detail
    assert account.poll_failures == 1
    assert not silent_server.accepted


def test_the_administrators_server_is_used_as_it_is(account, mail_sandbox):
    mail_sandbox.deliver(account.address, simple(1))  # 127.0.0.1 on a sandbox port: not allowed to users
    assert poll(account).stored == 1 and account.last_poll_error == ""


def test_a_typed_servers_errors_do_not_tell_closed_from_silent(account, settings, silent_server):
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]
    closed = free_port()
    seen = {}
    for name, port in (("silent", silent_server.port), ("closed", closed)):
        typed(account, host="127.0.0.1", port=port)
        seen[name] = poll(account).error
    words = {name: text.split(" (")[0] for name, text in seen.items()}  # (the server's name and port aside)
    assert words == {"silent": errors.UNREACHABLE, "closed": errors.UNREACHABLE}, seen
    # The administrator's server keeps the plain words (the user cannot point it anywhere).
    MailAccount.objects.filter(id=account.id).update(incoming_port=silent_server.port)
    account.user_servers.delete()
    assert poll(account).error.startswith(errors.TIMEOUT)
