"""Session settings: defaults from limits, validation before any I/O, TLS contexts."""

import ssl

import pytest

from spooler.sessions import IMAPSession, POP3Session, SMTPSession, limits, make_context


@pytest.mark.parametrize("cls", [POP3Session, IMAPSession])
def test_reader_defaults(cls):
    session = cls("127.0.0.1", None, "u", "p")
    assert session.timeout == limits.TIMEOUT and session.max_message_bytes == limits.MAX_MESSAGE_BYTES
    assert session.security == "tls" and session.port in (995, 993)
    assert session.ssl_context.verify_mode == ssl.CERT_REQUIRED and session.ssl_context.check_hostname


def test_smtp_defaults():
    session = SMTPSession("127.0.0.1", None)
    assert (session.security, session.port, session.timeout) == ("starttls", 587, limits.TIMEOUT)


@pytest.mark.parametrize("make", [
    lambda: POP3Session("127.0.0.1", 110, "user\r\nDELE 1", "p"),
    lambda: POP3Session("127.0.0.1", 110, "u", "p\nQUIT"),
    lambda: IMAPSession("127.0.0.1", 143, "u", "p", folder="INBOX\r\na1 DELETE INBOX"),
    lambda: SMTPSession("127.0.0.1", 25, local_hostname="me\r\nMAIL FROM:<x@y>"),
    lambda: SMTPSession("smtp.example.test\n", 25),
    lambda: SMTPSession("127.0.0.1", 25, security="ssl"),
    lambda: POP3Session("127.0.0.1", 110, "u", "p", security="STARTTLS"),
])
def test_unsafe_or_unknown_settings_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_insecure_is_explicit_and_cafile_replaces_the_system_store(ca_file):
    insecure = make_context(insecure=True)
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname
    custom = make_context(cafile=ca_file)
    assert custom.verify_mode == ssl.CERT_REQUIRED and len(custom.get_ca_certs()) == 1
    given = ssl.create_default_context()
    assert make_context(ssl_context=given, insecure=True) is given
