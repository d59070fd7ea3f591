""""Test connection" against real servers: the sandbox's Dovecot (POP3, IMAP, their TLS ports with a CA nobody here
trusts) and aiosmtpd (AUTH, STARTTLS), a silent server, a refused port, an SMTP server without STARTTLS; and the
administrator's host rule, checked right before connecting."""
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from mailsite.mailboxes.models import ConnectionTest, MailAccount
from spooler.services import connection_test as service
from spooler.services import mail_hosts
from spooler.services.inbound import errors
from tests.fixtures.net import free_port
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.MAIL_TIMEOUT = 2
    settings.SPOOL_CONNECT_TIMEOUT = 2


@pytest.fixture
def owner(db):
    return make_user("owner")


def tried(sandbox, user, **changes):
    c = sandbox.config
    values = dict(incoming_protocol="pop3", incoming_host=c.host, incoming_port=c.pop3_port, incoming_security="none",
                  incoming_username=user.address, imap_folders=["INBOX"], smtp_host=c.host, smtp_port=c.smtp_port,
                  smtp_security="none", smtp_username=user.address)
    values.update(changes)
    return values


def run(owner, settings_tried, *, password="", smtp_password=None, account=None) -> ConnectionTest:
    test = service.connection_test_start(user=owner, settings_tried=settings_tried, incoming_password=password,
                                         smtp_password=password if smtp_password is None else smtp_password,
                                         account=account)
    return service.connection_test_run(test_id=test.id)


def test_pop3_and_smtp_with_auth_pass_and_the_passwords_are_cleared(owner, mail_sandbox, sandbox_user):
    test = run(owner, tried(mail_sandbox, sandbox_user), password=sandbox_user.password)
    assert (test.status, test.incoming_ok, test.smtp_ok) == ("done", True, True)
    assert (test.incoming_result, test.smtp_result) == ("", "")
    assert (test.incoming_password, test.smtp_password) == ("", "")
    assert test.settings["smtp_host"] == mail_sandbox.config.host and "password" not in str(test.settings)


def test_imap_with_its_folders_and_smtp_without_authentication(owner, mail_sandbox, sandbox_user):
    c = mail_sandbox.config
    test = run(owner, tried(mail_sandbox, sandbox_user, incoming_protocol="imap", incoming_port=c.imap_port,
                            smtp_username=""), password=sandbox_user.password, smtp_password="")
    assert (test.incoming_ok, test.smtp_ok) == (True, True)
    missing = run(owner, tried(mail_sandbox, sandbox_user, incoming_protocol="imap", incoming_port=c.imap_port,
                               imap_folders=["INBOX", "No such folder"]), password=sandbox_user.password)
    assert (missing.incoming_ok, missing.incoming_result) == (False, errors.FOLDER)


def test_a_wrong_password_says_so_on_both_sides(owner, mail_sandbox, sandbox_user):
    test = run(owner, tried(mail_sandbox, sandbox_user), password="not the password")
    assert (test.incoming_ok, test.incoming_result) == (False, errors.WRONG_PASSWORD)
    assert (test.smtp_ok, test.smtp_result) == (False, errors.WRONG_PASSWORD)


def test_a_silent_server_and_a_refused_port_read_the_same(owner, mail_sandbox, sandbox_user, silent_server):
    closed = free_port()
    test = run(owner, tried(mail_sandbox, sandbox_user, incoming_port=silent_server.port, smtp_port=closed),
               password=sandbox_user.password)
    assert test.status == "done" and silent_server.accepted  # it did connect, and the server never answered
    assert (test.incoming_ok, test.incoming_result) == (False, errors.UNREACHABLE)
    assert (test.smtp_ok, test.smtp_result) == (False, errors.UNREACHABLE)
    swapped = run(owner, tried(mail_sandbox, sandbox_user, incoming_port=closed, smtp_port=silent_server.port),
                  password=sandbox_user.password)
    assert (swapped.incoming_result, swapped.smtp_result) == (errors.UNREACHABLE, errors.UNREACHABLE)


def test_a_name_that_is_not_found_reads_as_not_reachable(owner, mail_sandbox, sandbox_user, settings):
    settings.MAIL_ALLOWED_HOSTS = ["*"]
    test = run(owner, tried(mail_sandbox, sandbox_user, incoming_host="no-such-host.invalid",
                            smtp_host="no-such-host.invalid"), password=sandbox_user.password)
    assert (test.incoming_result, test.smtp_result) == (errors.UNREACHABLE, errors.UNREACHABLE)


def test_a_certificate_from_an_unknown_ca_is_not_trusted(owner, mail_sandbox, sandbox_user):
    c = mail_sandbox.config
    test = run(owner, tried(mail_sandbox, sandbox_user, incoming_port=c.pop3s_port, incoming_security="tls",
                            smtp_security="starttls"), password=sandbox_user.password)
    assert (test.incoming_ok, test.incoming_result) == (False, errors.CERTIFICATE)
    assert (test.smtp_ok, test.smtp_result) == (False, errors.CERTIFICATE)
    imaps = run(owner, tried(mail_sandbox, sandbox_user, incoming_protocol="imap", incoming_port=c.imaps_port,
                             incoming_security="tls"), password=sandbox_user.password)
    assert imaps.incoming_result == errors.CERTIFICATE


def test_starttls_not_offered(owner, mail_sandbox, sandbox_user, smtp_server):
    plain = smtp_server()
    test = run(owner, tried(mail_sandbox, sandbox_user, smtp_port=plain.port, smtp_security="starttls",
                            smtp_username=""), password=sandbox_user.password)
    assert (test.smtp_ok, test.smtp_result) == (False, errors.NO_STARTTLS)
    assert test.incoming_ok is True


def test_a_host_the_administrator_does_not_allow_is_never_connected_to(owner, mail_sandbox, sandbox_user, settings,
                                                                        silent_server):
    settings.MAIL_ALLOWED_HOSTS = []
    settings.MAIL_PUBLIC_PORTS = [silent_server.port]  # the port would do; the loopback address does not
    test = run(owner, tried(mail_sandbox, sandbox_user, incoming_port=silent_server.port,
                            smtp_port=silent_server.port), password="x")
    assert (test.incoming_result, test.smtp_result) == (errors.NOT_ALLOWED, errors.NOT_ALLOWED)
    assert not silent_server.accepted


def test_an_accounts_stored_password_is_used_on_its_own_server_only(owner, mail_sandbox, sandbox_user, settings):
    c = mail_sandbox.config
    account = MailAccount.objects.create(
        user=owner, address=sandbox_user.address, incoming_host=c.host, incoming_port=c.pop3_port,
        incoming_username=sandbox_user.address, incoming_password=sandbox_user.password, incoming_security="none",
        smtp_host=c.host, smtp_port=c.smtp_port, smtp_username=sandbox_user.address,
        smtp_password=sandbox_user.password, smtp_security="none")
    settings.MAIL_ALLOWED_HOSTS = []  # the account's own servers are used as stored (as polls use them)
    test = run(owner, tried(mail_sandbox, sandbox_user), password="", account=account)
    assert (test.incoming_ok, test.smtp_ok) == (True, True)
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]
    elsewhere = run(owner, tried(mail_sandbox, sandbox_user, incoming_protocol="imap", incoming_port=c.imap_port,
                                 smtp_port=c.smtp_port), password="", smtp_password="", account=account)
    assert (elsewhere.incoming_ok, elsewhere.incoming_result) == (False, errors.WRONG_PASSWORD)


def test_a_test_runs_once_and_old_ones_are_deleted(owner, mail_sandbox, sandbox_user):
    test = run(owner, tried(mail_sandbox, sandbox_user), password=sandbox_user.password)
    assert service.connection_test_run(test_id=test.id) is None  # a second delivery of the task does nothing
    forgotten = ConnectionTest.objects.create(user=owner, incoming_password="secret",
                                              created_at=timezone.now() - timedelta(hours=2))
    assert service.connection_tests_purge() == 1
    assert not ConnectionTest.objects.filter(id=forgotten.id).exists()
    assert ConnectionTest.objects.filter(id=test.id).exists()


# --- the administrator's rule ----------------------------------------------------------------------------------


def fake_dns(monkeypatch, *addresses):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    monkeypatch.setattr(mail_hosts.socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1",
                                     "::ffff:10.0.0.1"])
def test_private_and_special_addresses_are_refused_by_default(settings, monkeypatch, address):
    settings.MAIL_ALLOWED_HOSTS = []
    fake_dns(monkeypatch, "93.184.216.34", address)  # one bad address among good ones is enough
    with pytest.raises(mail_hosts.HostRefused) as refused:
        mail_hosts.mail_host_check(host="mail.example.com", port=993)
    assert refused.value.words == errors.NOT_ALLOWED


def test_public_hosts_on_mail_ports_and_listed_hosts_are_allowed(settings, monkeypatch):
    settings.MAIL_ALLOWED_HOSTS = ["intranet.example:2110", "*.lan"]
    fake_dns(monkeypatch, "93.184.216.34")
    assert mail_hosts.mail_host_check(host="Mail.Example.com.", port=587) == "93.184.216.34"
    with pytest.raises(mail_hosts.HostRefused):
        mail_hosts.mail_host_check(host="mail.example.com", port=8080)  # not a mail port
    fake_dns(monkeypatch, "10.0.0.5")
    assert mail_hosts.mail_host_check(host="intranet.example", port=2110) == "10.0.0.5"
    assert mail_hosts.mail_host_check(host="mx.lan", port=25) == "10.0.0.5"
    with pytest.raises(mail_hosts.HostRefused):
        mail_hosts.mail_host_check(host="intranet.example", port=2111)
    settings.MAIL_ALLOWED_HOSTS = ["*"]
    assert mail_hosts.mail_host_check(host="anything", port=1) == "10.0.0.5"
