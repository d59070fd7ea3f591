"""SMTPSession against aiosmtpd (plain, STARTTLS, implicit TLS, AUTH) and scripted faulty servers."""

import time

import pytest

from spooler.sessions import (AuthenticationError, Email, InvalidAddress, MessageTooLarge, NoAnswer, PermanentError,
                              PipeliningSession, RecipientsDeferred, RecipientsRefused, SMTPSession, TLSError,
                              TransientError, limits)

from .conftest import SMTP_PASSWORD, SMTP_USER, smtp_script


def message(**overrides):
    fields = dict(sender="Sender <sender@example.test>", to=["rcpt@example.test"], subject="Grüße",
                  text="hello\n.\nend")
    fields.update(overrides)
    return Email(**fields)


@pytest.mark.parametrize("mode,security", [("plain", "none"), ("starttls", "starttls"), ("tls", "tls")])
def test_send_with_auth_over_each_security(smtpd, ca_file, mode, security):
    port, handler = smtpd(mode)
    msg = message()
    with SMTPSession("127.0.0.1", port, SMTP_USER, SMTP_PASSWORD, security=security, cafile=ca_file) as session:
        result = session.send(msg)
    assert result.code == 250 and result.text.startswith("2.0.0 queued")
    assert result.message_id == msg.message_id and result.accepted == ["rcpt@example.test"] and result.refused == {}
    mail_from, rcpts, content = handler.messages[-1]
    assert (mail_from, rcpts) == ("sender@example.test", ["rcpt@example.test"])
    assert content == msg.to_bytes()  # byte for byte, dot-stuffing undone by the server


def test_wrong_password_is_an_authentication_error_naming_the_server(smtpd, ca_file):
    port, _ = smtpd("starttls")
    session = SMTPSession("127.0.0.1", port, SMTP_USER, "wrong", security="starttls", cafile=ca_file)
    with pytest.raises(AuthenticationError) as info:
        session.connect()
    assert info.value.code == 535
    assert f"127.0.0.1:{port}" in str(info.value) and info.value.server == f"127.0.0.1:{port}"


def test_self_signed_certificate_is_refused_by_default(smtpd):
    port, _ = smtpd("tls")
    with pytest.raises(TLSError) as info:
        SMTPSession("127.0.0.1", port, security="tls").connect()
    assert "certificate" in str(info.value)


def test_self_signed_certificate_is_refused_on_starttls_too(smtpd):
    port, _ = smtpd("starttls")
    with pytest.raises(TLSError):
        SMTPSession("127.0.0.1", port, security="starttls").connect()


def test_insecure_option_skips_verification_explicitly(smtpd):
    port, _ = smtpd("tls")
    with SMTPSession("127.0.0.1", port, security="tls", insecure=True) as session:
        assert session.noop()


def test_starttls_not_offered_is_an_error_not_a_fallback(smtpd):
    port, handler = smtpd("notls")
    before = len(handler.messages)
    with pytest.raises(TLSError) as info:
        with SMTPSession("127.0.0.1", port, security="starttls") as session:
            session.send(message())
    assert "STARTTLS" in str(info.value) and len(handler.messages) == before


def test_one_of_two_recipients_refused_gives_a_partial_result(smtpd):
    port, handler = smtpd("plain")
    with SMTPSession("127.0.0.1", port, security="none") as session:
        result = session.send(message(to=["rcpt@example.test"], cc=["reject-me@example.test"]))
    assert result.accepted == ["rcpt@example.test"]
    assert result.refused == {"reject-me@example.test": (550, "5.1.1 no such user")}
    assert handler.messages[-1][1] == ["rcpt@example.test"]


def test_all_recipients_refused_is_permanent(smtpd):
    port, _ = smtpd("plain")
    with SMTPSession("127.0.0.1", port, security="none") as session:
        with pytest.raises(RecipientsRefused) as info:
            session.send(message(to=["reject-a@example.test", "defer-b@example.test"]))
        assert isinstance(info.value, PermanentError)
        assert info.value.refused["defer-b@example.test"][0] == 450
        assert session.send(message()).code == 250  # the connection is still usable after RSET


def test_all_recipients_deferred_is_transient(smtpd):
    port, _ = smtpd("plain")
    with SMTPSession("127.0.0.1", port, security="none") as session:
        with pytest.raises(RecipientsDeferred) as info:
            session.send(message(to=["defer-a@example.test"]))
    assert isinstance(info.value, TransientError) and info.value.code == 450


def test_one_connection_survives_many_sends(smtpd):
    port, handler = smtpd("plain")
    before = len(handler.messages)
    with SMTPSession("127.0.0.1", port, security="none") as session:
        for number in range(60):
            assert session.send(message(subject=f"n{number}")).code == 250
    assert len(handler.messages) - before == 60


def test_send_reconnects_when_the_server_dropped_the_idle_connection(smtpd):
    port, handler = smtpd("plain")
    session = SMTPSession("127.0.0.1", port, security="none")
    with session:
        session.send(message())
        session._conn.sock.close()  # what a server timeout looks like to us
        assert session.send(message(subject="after drop")).code == 250
    assert b"after drop" in handler.messages[-1][2]


def test_send_raw_normalises_line_endings_and_allows_null_sender(smtpd):
    port, handler = smtpd("plain")
    with SMTPSession("127.0.0.1", port, security="none") as session:
        result = session.send_raw("", ["rcpt@example.test"], b"Subject: bounce\nX: y\r\rbody\n")
    assert result.message_id is None and result.accepted == ["rcpt@example.test"]
    assert handler.messages[-1][0] == "<>" or handler.messages[-1][0] == ""
    assert handler.messages[-1][2] == b"Subject: bounce\r\nX: y\r\n\r\nbody\r\n"


@pytest.mark.parametrize("sender,rcpt", [
    ("a@example.test\r\nRCPT TO:<victim@example.test>", "b@example.test"),
    ("a@example.test", "b@example.test>\r\nDATA"),
    ("a@example.test", "not an address"),
    ("a@example.test", '"b\r\nDATA"@example.test'),  # a quoted local part holds no line break either
    ("a@example.test", "b@[127.0.0.1]>\r\nDATA"),
    ("a@example.test", "b@example.test\u2028"),
    ("a@example.test", "b@example.test> SIZE=1"),
])
def test_envelope_injection_is_rejected_before_connecting(sender, rcpt):
    session = SMTPSession("127.0.0.1", 9, security="none")  # nothing listens: must fail before any I/O
    with pytest.raises(InvalidAddress) as info:
        session.send_raw(sender, [rcpt], b"x")
    assert isinstance(info.value, PermanentError) and isinstance(info.value, ValueError)


TYPED = ['"john doe"@example.test', '"bob"@example.test', "bob@[127.0.0.1]", "carol@[::1]",
         '"a,b <c>"@example.test', "jo@exämple.test"]
ON_THE_WIRE = ['"john doe"@example.test', "bob@example.test", "bob@[127.0.0.1]", "carol@[IPv6:::1]",
               '"a,b <c>"@example.test', "jo@xn--exmple-cua.test"]


@pytest.mark.parametrize("session_class", [SMTPSession, PipeliningSession])
def test_quoted_local_parts_and_address_literals_reach_a_real_server(smtpd, session_class):
    port, handler = smtpd("plain")
    msg = message(sender='"Doe, John" <"john doe"@example.test>', to=TYPED[:3], cc=TYPED[3:])
    with session_class("127.0.0.1", port, security="none") as session:
        result = session.send(msg)
    assert result.accepted == ON_THE_WIRE and result.refused == {}
    mail_from, rcpts, content = handler.messages[-1]
    assert (mail_from, rcpts) == ('"john doe"@example.test', ON_THE_WIRE)  # as aiosmtpd parsed MAIL and RCPT
    assert content == msg.to_bytes()


@pytest.mark.parametrize("session_class", [SMTPSession, PipeliningSession])
def test_quoted_local_parts_and_address_literals_on_the_wire(scripted, session_class):
    commands = []

    def script(rfile, wfile):
        wfile.write(b"220 scripted ESMTP\r\n")
        while line := rfile.readline():
            verb = line[:4].upper()
            if verb in (b"MAIL", b"RCPT"):
                commands.append(verb + line[4:])  # (smtplib writes the verbs in lower case)
            if verb == b"EHLO":
                wfile.write(b"250-scripted\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                wfile.write(b"354 go ahead\r\n")
                while rfile.readline() not in (b".\r\n", b""):
                    pass
                wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            else:
                wfile.write(b"250 OK\r\n")

    server = scripted(script)
    with session_class("127.0.0.1", server.port, security="none", timeout=5) as session:
        session.send(message(sender="bounce@[192.0.2.1]", to=TYPED))
    assert commands == [b"MAIL FROM:<bounce@[192.0.2.1]>\r\n"] + [
        b"RCPT TO:<" + rcpt.encode() + b">\r\n" for rcpt in ON_THE_WIRE]


def test_message_above_the_limit_is_not_sent(smtpd):
    port, handler = smtpd("plain")
    before = len(handler.messages)
    with SMTPSession("127.0.0.1", port, security="none", max_message_bytes=1000) as session:
        with pytest.raises(MessageTooLarge):
            session.send(message(text="x" * 2000))
    assert len(handler.messages) == before


@pytest.mark.timeout(30)  # without the session's timeout this would wait forever
def test_server_that_never_greets_times_out(scripted):
    server = scripted(lambda rfile, wfile: rfile.read())  # silent until the client gives up and closes
    with pytest.raises(NoAnswer) as info:  # (smtplib reports its timeout as a disconnection: still NoAnswer)
        SMTPSession("127.0.0.1", server.port, security="none", timeout=0.5).connect()
    assert "no answer within the timeout while connecting" in str(info.value)
    assert f"127.0.0.1:{server.port}" in str(info.value)


@pytest.mark.timeout(60)  # with the command timeout (an hour) at the greeting, this test would be stopped here
def test_the_greeting_gets_the_connect_timeout_and_commands_the_command_timeout(scripted):
    silent = scripted(lambda rfile, wfile: rfile.read())
    with pytest.raises(NoAnswer):
        SMTPSession("127.0.0.1", silent.port, security="none", timeout=3600, connect_timeout=0.3).connect()

    def slow_data_reply(rfile, wfile):
        while rfile.readline() not in (b".\r\n", b""):
            pass
        time.sleep(1.0)  # longer than the connect timeout: a relay scanning the message
        wfile.write(b"250 2.0.0 queued\r\n")
        return True

    slow = scripted(smtp_script(slow_data_reply))
    with SMTPSession("127.0.0.1", slow.port, security="none", timeout=10, connect_timeout=0.3) as session:
        assert session.send(message()).code == 250
        assert session._conn.sock.gettimeout() == 10


def test_connect_timeout_is_never_longer_than_the_timeout():
    assert SMTPSession("127.0.0.1", 25, security="none", timeout=2, connect_timeout=9).connect_timeout == 2
    assert SMTPSession("127.0.0.1", 25, security="none", timeout=60).connect_timeout == limits.CONNECT_TIMEOUT


def test_refused_connection_is_transient():
    from tests.fixtures.net import free_port

    with pytest.raises(TransientError) as info:
        SMTPSession("127.0.0.1", free_port(), security="none", timeout=2).connect()
    assert "refused" in str(info.value)


def test_server_closing_during_data_is_transient(scripted):
    def close_mid_data(rfile, wfile):
        rfile.readline()  # take one line of the message, then hang up

    server = scripted(smtp_script(close_mid_data))
    session = SMTPSession("127.0.0.1", server.port, security="none", timeout=5)
    with pytest.raises(TransientError) as info:
        session.send(message(text="line\n" * 50_000))
    assert not isinstance(info.value, PermanentError)
    assert session._conn is None  # dropped, so the next send starts a fresh connection


def test_421_greeting_is_transient_and_554_permanent(scripted):
    busy = scripted(lambda rfile, wfile: wfile.write(b"421 4.3.2 too busy\r\n"))
    with pytest.raises(TransientError) as info:
        SMTPSession("127.0.0.1", busy.port, security="none").connect()
    assert info.value.code == 421
    banned = scripted(lambda rfile, wfile: wfile.write(b"554 5.7.1 go away\r\n"))
    with pytest.raises(PermanentError) as info:
        SMTPSession("127.0.0.1", banned.port, security="none").connect()
    assert info.value.code == 554


def test_nul_in_a_reply_becomes_a_replacement_character(scripted):
    """A hostile relay's NUL would make the spool's outcome impossible to store on PostgreSQL."""
    def reply(final):
        def on_data(rfile, wfile):
            while rfile.readline() not in (b".\r\n", b""):
                pass
            wfile.write(final)
            return True
        return on_data

    accepting = scripted(smtp_script(reply(b"250 2.0.0 queued\x00 as \x00X\r\n")))
    with SMTPSession("127.0.0.1", accepting.port, security="none", timeout=5) as session:
        assert session.send(message()).text == "2.0.0 queued\ufffd as \ufffdX"
    refusing = scripted(smtp_script(reply(b"550 5.7.1 no\x00pe\r\n")))
    with SMTPSession("127.0.0.1", refusing.port, security="none", timeout=5) as session:
        with pytest.raises(PermanentError) as info:
            session.send(message())
    assert "\x00" not in str(info.value) and "no\ufffdpe" in str(info.value)


def test_final_reply_4xx_and_5xx_after_data(scripted):
    def reply(code):
        def on_data(rfile, wfile):
            while rfile.readline() not in (b".\r\n", b""):
                pass
            wfile.write(code + b" decided\r\n")
            rfile.readline()
        return on_data

    for code, error in ((b"451", TransientError), (b"554", PermanentError)):
        server = scripted(smtp_script(reply(code)))
        with pytest.raises(error) as info:
            SMTPSession("127.0.0.1", server.port, security="none").send(message())
        assert info.value.code == int(code)
