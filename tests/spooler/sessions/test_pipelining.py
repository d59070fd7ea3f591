"""SMTP PIPELINING in the spool's session: same results and errors as SMTPSession.send_raw."""
import pytest

from spooler.sessions import PermanentError, PipeliningSession, RecipientsDeferred, RecipientsRefused, TransientError


def session(port):
    return PipeliningSession("127.0.0.1", port, security="none", timeout=5)


def test_sends_many_messages_over_one_connection(smtp_server):
    server = smtp_server()
    with session(server.port) as s:
        assert s._conn.has_extn("pipelining")
        for i in range(5):
            result = s.send_raw("a@example.test", ["b@example.test"], b"Subject: %d\r\n\r\nbody\r\n" % i)
            assert result.code == 250 and result.accepted == ["b@example.test"]
    assert len(server.handler.messages) == 5 and server.handler.hellos == 1


def test_dot_stuffing_and_line_endings_survive(smtp_server):
    server = smtp_server()
    data = b"Subject: dots\n\n.leading dot\n..two\r\n.\r\nlast line without end"
    with session(server.port) as s:
        s.send_raw("a@example.test", ["b@example.test"], data)
    got = server.handler.messages[0].data
    assert got == b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nlast line without end\r\n"


def test_partial_refusal_is_reported_per_recipient(smtp_server):
    server = smtp_server(replies={"RCPT": lambda a: "550 5.1.1 unknown" if a.startswith("bad") else None})
    with session(server.port) as s:
        result = s.send_raw("a@example.test", ["good@example.test", "bad@example.test"], b"Subject: x\r\n\r\nx\r\n")
        assert result.accepted == ["good@example.test"] and result.refused["bad@example.test"][0] == 550
        with pytest.raises(RecipientsRefused):
            s.send_raw("a@example.test", ["bad@example.test"], b"Subject: x\r\n\r\nx\r\n")
        # The session is still usable after a refused transaction.
        assert s.send_raw("a@example.test", ["good2@example.test"], b"Subject: y\r\n\r\ny\r\n").code == 250
    assert len(server.handler.messages) == 2


def test_all_recipients_deferred(smtp_server):
    server = smtp_server(replies={"RCPT": "452 4.2.2 mailbox full"})
    with session(server.port) as s, pytest.raises(RecipientsDeferred) as info:
        s.send_raw("a@example.test", ["b@example.test"], b"x\r\n")
    assert info.value.code == 452


def test_sender_refused_and_data_refused(smtp_server):
    server = smtp_server(replies={"MAIL": "553 5.7.1 sender rejected"})
    with session(server.port) as s, pytest.raises(PermanentError) as info:
        s.send_raw("a@example.test", ["b@example.test"], b"x\r\n")
    assert info.value.code == 553
    server = smtp_server(replies={"DATA": "451 4.3.0 disk full"})
    with session(server.port) as s, pytest.raises(TransientError) as info:
        s.send_raw("a@example.test", ["b@example.test"], b"x\r\n")
    assert info.value.code == 451


def test_without_pipelining_the_plain_path_gives_the_same_results(smtp_server):
    server = smtp_server(pipelining=False, replies={"RCPT": lambda a: "550 5.1.1 unknown" if a.startswith("bad") else None})
    calls = []
    with session(server.port) as s:
        assert not s._conn.has_extn("pipelining")
        result = s.send_raw("a@example.test", ["good@example.test", "bad@example.test"], b"Subject: x\r\n\r\n.x\r\n",
                            while_waiting=lambda: calls.append(1))
    assert result.accepted == ["good@example.test"] and result.refused["bad@example.test"][0] == 550 and calls == [1]
    assert server.handler.messages[0].data == b"Subject: x\r\n\r\n.x\r\n"


def test_a_failing_hook_drops_the_connection_and_sends_nothing(smtp_server):
    server = smtp_server()

    def hook():
        raise RuntimeError("database gone")

    with session(server.port) as s:
        with pytest.raises(RuntimeError):
            s.send_raw("a@example.test", ["b@example.test"], b"x\r\n", while_waiting=hook)
        assert s._conn is None
    assert server.handler.messages == []


def test_421_before_mail_reconnects_then_reports_the_server(smtp_sink):
    sink = smtp_sink("-Q", "MAIL")
    with session(sink.port) as s, pytest.raises(TransientError) as info:
        s.send_raw("a@example.test", ["b@example.test"], b"x\r\n")
    assert info.value.code == 421 or "connection lost" in str(info.value)
