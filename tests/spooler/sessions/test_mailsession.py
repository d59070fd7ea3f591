"""MailSession: starts a reading session and an SMTP session together and closes both."""

import pytest

from spooler.sessions import Email, IMAPSession, MailSession, POP3Session, SMTPSession, TransientError


def sessions(sandbox, user, protocol):
    c = sandbox.config
    smtp = SMTPSession(c.host, c.smtp_port, security="starttls", cafile=sandbox.ca_file, timeout=10)
    if protocol == "pop3":
        return dict(pop3=POP3Session(c.host, c.pop3s_port, user.address, user.password, cafile=sandbox.ca_file)), smtp
    return dict(imap=IMAPSession(c.host, c.imaps_port, user.address, user.password, cafile=sandbox.ca_file)), smtp


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_send_then_read_back(mail_sandbox, sandbox_user, protocol):
    reader, smtp = sessions(mail_sandbox, sandbox_user, protocol)
    sent = Email(sender="Zoë <zoe@example.test>", to=[sandbox_user.address], subject="über alles", text="Grüße")
    with MailSession(smtp=smtp) as outgoing:
        result = outgoing.send(sent)
    assert result.accepted == [sandbox_user.address]
    with MailSession(smtp=smtp, **reader) as session:
        assert session.smtp.noop() is True
        first = session.read_first()
        assert session.read_next() is None and session.out
    assert (first.subject, first.text.strip(), first.message_id) == ("über alles", "Grüße", sent.message_id)
    assert session.reader._conn is None and session.smtp._conn is None  # both closed


def test_reader_is_closed_when_smtp_cannot_start(mail_sandbox, sandbox_user):
    from tests.fixtures.net import free_port

    reader, _ = sessions(mail_sandbox, sandbox_user, "pop3")
    dead_smtp = SMTPSession("127.0.0.1", free_port(), security="none", timeout=2)
    with pytest.raises(TransientError):
        with MailSession(smtp=dead_smtp, **reader):
            pass
    assert reader["pop3"]._conn is None


def test_exactly_one_reader():
    pop3 = POP3Session("127.0.0.1", 1, "u", "p")
    imap = IMAPSession("127.0.0.1", 1, "u", "p")
    with pytest.raises(ValueError):
        MailSession(pop3=pop3, imap=imap)
    with pytest.raises(ValueError):
        MailSession()
    assert MailSession(imap=imap).imap is imap and MailSession(pop3=pop3).pop3 is pop3
