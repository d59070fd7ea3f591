"""connect_to: a session connects to the address its caller resolved and checked, never to what the name resolves
to later, and TLS still checks the certificate against the name (the sandbox's is for localhost and 127.0.0.1)."""
import pytest

from spooler.sessions import IMAPSession, POP3Session, SMTPSession, TLSError


@pytest.mark.parametrize(("cls", "port_name"), [(POP3Session, "pop3s_port"), (IMAPSession, "imaps_port")])
def test_the_address_given_is_connected_to_and_the_name_is_checked_by_tls(mail_sandbox, sandbox_user, cls,
                                                                          port_name):
    port = getattr(mail_sandbox.config, port_name)
    args = (port, sandbox_user.address, sandbox_user.password)
    with cls("localhost", *args, security="tls", cafile=mail_sandbox.ca_file, connect_to="127.0.0.1",
             timeout=10) as session:
        assert session.uidl() == []
    # A name that resolves nowhere: only the address given can have been used; the certificate is not for it.
    with pytest.raises(TLSError, match="certificate"):
        cls("mail.invalid", *args, security="tls", cafile=mail_sandbox.ca_file, connect_to="127.0.0.1",
            timeout=10).connect()


def test_plain_pop3_and_imap_connect_to_the_address_given(mail_sandbox, sandbox_user):
    c = mail_sandbox.config
    for cls, port in ((POP3Session, c.pop3_port), (IMAPSession, c.imap_port)):
        with cls("mail.invalid", port, sandbox_user.address, sandbox_user.password, security="none",
                 connect_to="127.0.0.1", timeout=10) as session:
            assert session.uidl() == []


def test_smtp_connects_to_the_address_given(smtp_server):
    server = smtp_server()
    with SMTPSession("mail.invalid", server.port, security="none", timeout=5, connect_to="127.0.0.1") as session:
        assert session.noop()
    assert server.handler.hellos == 1


def test_smtp_starttls_checks_the_name_not_the_address(mail_sandbox):
    c = mail_sandbox.config
    with SMTPSession("localhost", c.smtp_port, security="starttls", cafile=mail_sandbox.ca_file, timeout=10,
                     connect_to="127.0.0.1") as session:
        assert session.noop()
    with pytest.raises(TLSError, match="certificate"):
        SMTPSession("mail.invalid", c.smtp_port, security="starttls", cafile=mail_sandbox.ca_file, timeout=10,
                    connect_to="127.0.0.1").connect()
