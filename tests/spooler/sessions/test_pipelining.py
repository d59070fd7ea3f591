"""SMTP PIPELINING in the spool's session: same results and errors as SMTPSession.send_raw."""
import asyncio
import re
import smtplib
import time
from dataclasses import dataclass, field

import pytest

from spooler.sessions import (MessageTooLarge, PermanentError, PipeliningSession, RecipientsDeferred,
                              RecipientsRefused, SessionError, TransientError)
from tests.fixtures.smtp_servers import RecordingHandler, SMTPServer

from .conftest import smtp_script


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


# --- one round trip per message: the next envelope goes out with this content (`then=`) ------------------------

def message(name, rcpt="b@example.test", sender="a@example.test"):
    return sender, [rcpt], b"Subject: %s\r\n\r\nbody of %s\r\n" % (name.encode(), name.encode())


def subjects(server):
    return [re.search(rb"^Subject: (.*)\r$", m.data, re.M).group(1).decode() for m in server.handler.messages]


def send_chain(s, messages, **kwargs):
    """Send each message with the next one as `then`; returns each result or the exception it raised."""
    outcomes = []
    for i, msg in enumerate(messages):
        try:
            outcomes.append(s.send_raw(*msg, then=messages[i + 1] if i + 1 < len(messages) else None, **kwargs))
        except SessionError as exc:
            outcomes.append(exc)
    return outcomes


@pytest.fixture
def writes(monkeypatch):
    """Every write of every SMTP connection (smtplib's send is one sendall), in order."""
    sent = []
    send = smtplib.SMTP.send

    def recording(self, s):
        sent.append(s if isinstance(s, bytes) else s.encode())
        return send(self, s)

    monkeypatch.setattr(smtplib.SMTP, "send", recording)
    return sent


@dataclass
class EventHandler(RecordingHandler):
    """Logs when the server took each MAIL and each message's content; refuses content by subject."""

    events: list = field(default_factory=list)
    refuse: dict = field(default_factory=dict)  # subject -> the reply to its content
    close_on_mail: int | None = None  # this MAIL FROM (1-based, all connections) gets 421 and a hang-up

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.events.append(("mail", address))
        if self.close_on_mail == self.mails + 1:
            self.mails += 1
            asyncio.get_running_loop().call_soon(server.transport.close)  # after the reply is written
            return "421 4.3.2 closing"
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_DATA(self, server, session, envelope):
        subject = re.search(rb"^Subject: (.*)\r$", envelope.original_content, re.M)
        subject = subject.group(1).decode() if subject else ""
        self.events.append(("content", subject))
        if subject in self.refuse:
            return self.refuse[subject]
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def event_server():
    servers = []

    def make(**options):
        server = SMTPServer(EventHandler(**options)).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def test_chained_messages_take_one_write_each_instead_of_two(smtp_server, writes):
    server = smtp_server()
    chain = [message(f"m{i}") for i in range(20)]
    with session(server.port) as s:
        del writes[:]
        assert all(r.code == 250 for r in send_chain(s, chain))
        with_lookahead = list(writes)
    with session(server.port) as s:
        del writes[:]
        for msg in chain:
            s.send_raw(*msg)
        without = list(writes)
    assert len(without) == 2 * len(chain)
    assert len(with_lookahead) == len(chain) + 1
    # After the first envelope, each write is one message's content and the next envelope, the last content alone.
    assert with_lookahead[0].startswith(b"MAIL FROM:") and with_lookahead[0].endswith(b"DATA\r\n")
    for i, write in enumerate(with_lookahead[1:-1]):
        assert write.startswith(b"Subject: m%d\r\n" % i) and b"\r\n.\r\nMAIL FROM:" in write
    assert with_lookahead[-1].endswith(b"body of m19\r\n.\r\n")
    expected = [f"m{i}" for i in range(20)]
    assert subjects(server) == expected + expected and server.handler.hellos == 2


def test_chained_messages_to_smtp_sink_all_arrive_once(smtp_sink):
    sink = smtp_sink()
    chain = [message(f"m{i}") for i in range(200)]
    with session(sink.port) as s:
        assert s._conn.has_extn("pipelining")
        assert all(r.code == 250 for r in send_chain(s, chain))
    found = sorted(re.search(rb"^Subject: (m\d+)", raw, re.M).group(1).decode() for raw in sink.messages())
    assert found == sorted(f"m{i}" for i in range(200))


def test_content_never_goes_out_before_its_while_waiting_returned(event_server, writes):
    server = event_server()
    events = server.handler.events
    chain = [message(f"m{i}") for i in range(6)]

    def waiting(i):
        def hook():
            time.sleep(0.05)  # content sent too early would reach the server meanwhile
            events.append(("waited", f"m{i}"))
        return hook

    with session(server.port) as s:
        del writes[:]
        for i, msg in enumerate(chain):
            s.send_raw(*msg, while_waiting=waiting(i), then=chain[i + 1] if i + 1 < len(chain) else None)
    assert len(writes) == len(chain) + 2  # (+ QUIT): the envelopes did go ahead
    for i in range(len(chain)):
        assert events.index(("waited", f"m{i}")) < events.index(("content", f"m{i}"))
    assert subjects(server) == [f"m{i}" for i in range(len(chain))]


@pytest.mark.parametrize("reply, error", [("554 5.7.1 rejected as spam", PermanentError),
                                          ("451 4.3.0 try again later", TransientError)])
def test_refused_content_keeps_the_next_envelope_and_delivers_it(event_server, writes, reply, error):
    server = event_server(refuse={"m1": reply})
    chain = [message("m0"), message("m1"), message("m2"), message("m3")]
    with session(server.port) as s:
        del writes[:]
        outcomes = send_chain(s, chain)
        assert len(writes) == len(chain) + 1  # m2's envelope went ahead with m1's content and was not sent again
    assert isinstance(outcomes[1], error) and outcomes[1].code == int(reply[:3])
    assert [o.code for i, o in enumerate(outcomes) if i != 1] == [250, 250, 250]
    # Exactly as sent: no RSET (or anything else) slipped in after the looked-ahead DATA.
    assert [m.data for m in server.handler.messages] == [chain[i][2] for i in (0, 2, 3)]
    assert server.handler.hellos == 1


def test_sending_another_message_than_announced_drops_the_lookahead(event_server):
    server = event_server()
    with session(server.port) as s:
        s.send_raw(*message("m0"), then=message("x"))
        assert s.send_raw(*message("y", rcpt="other@example.test")).code == 250
    time.sleep(0.2)  # anything stray on the first connection would have arrived by now
    assert [m.data for m in server.handler.messages] == [message("m0")[2], message("y")[2]]
    assert server.handler.messages[1].rcpt_tos == ["other@example.test"]
    assert ("content", "x") not in server.handler.events and ("content", "") not in server.handler.events
    assert server.handler.hellos == 2


@pytest.mark.parametrize("stop", ["cancel_lookahead", "close", "noop"])
def test_stopping_early_never_delivers_the_announced_message(event_server, writes, stop):
    server = event_server()
    s = session(server.port)
    s.send_raw(*message("m0"), then=message("x"))
    sent = len(writes)
    if stop == "cancel_lookahead":
        s.cancel_lookahead()
        assert s._conn is None
    elif stop == "noop":
        assert s.noop() is False
    s.close()
    s.cancel_lookahead()  # nothing pending any more: a no-op
    assert len(writes) == sent  # not even QUIT (it would be content)
    time.sleep(0.2)
    assert subjects(server) == ["m0"] and [e for e in server.handler.events if e[0] == "content"] == [("content", "m0")]


def test_a_failing_hook_with_an_envelope_ahead_sends_nothing_more(event_server, writes):
    server = event_server()

    def hook():
        raise RuntimeError("database gone")

    with session(server.port) as s:
        s.send_raw(*message("m0"), then=message("m1"))
        sent = len(writes)
        with pytest.raises(RuntimeError):
            s.send_raw(*message("m1"), while_waiting=hook)
        assert s._conn is None and len(writes) == sent
    time.sleep(0.2)
    assert subjects(server) == ["m0"]


def test_recipients_refused_in_the_lookahead_then_the_connection_goes_on(smtp_server):
    server = smtp_server(replies={"RCPT": lambda a: "550 5.1.1 unknown" if a.startswith("bad") else None})
    partial = ("a@example.test", ["good@example.test", "bad2@example.test"], b"Subject: partial\r\n\r\np\r\n")
    chain = [message("m0"), message("x", rcpt="bad@example.test"), message("m2"), partial, message("m4")]
    with session(server.port) as s:
        outcomes = send_chain(s, chain)
    assert isinstance(outcomes[1], RecipientsRefused) and outcomes[1].refused["bad@example.test"][0] == 550
    assert outcomes[3].accepted == ["good@example.test"] and outcomes[3].refused["bad2@example.test"][0] == 550
    assert subjects(server) == ["m0", "m2", "partial", "m4"] and server.handler.hellos == 1


def test_421_on_the_looked_ahead_mail_sends_it_again_on_a_new_connection(event_server):
    server = event_server(close_on_mail=2)
    with session(server.port) as s:
        outcomes = send_chain(s, [message("m0"), message("m1"), message("m2")])
    assert [o.code for o in outcomes] == [250, 250, 250]
    assert subjects(server) == ["m0", "m1", "m2"] and server.handler.hellos == 2


def read_content(rfile):
    lines = []
    while (line := rfile.readline()) not in (b".\r\n", b""):
        lines.append(line)
    return b"".join(lines)


def hangs_up_after_the_first_message(received):
    """A scripted SMTP server that announces PIPELINING and records contents; on its first connection it
    reads the envelope sent ahead after the first content, answers only that content, and hangs up."""
    first = [True]

    def on_data(rfile, wfile):
        received.append(read_content(rfile))
        if first:
            first.clear()
            for _ in range(3):  # MAIL, RCPT, DATA: read (a close with unread bytes would be a reset)
                rfile.readline()
            wfile.write(b"250 queued\r\n")
            return False
        wfile.write(b"250 queued\r\n")
        return True

    return smtp_script(on_data, extension=b"PIPELINING")


def test_connection_lost_before_the_looked_ahead_replies_sends_it_again(scripted):
    received = []
    server = scripted(hangs_up_after_the_first_message(received))
    chain = [message("m0"), message("m1"), message("m2")]
    with session(server.port) as s:
        outcomes = send_chain(s, chain)
    assert [o.code for o in outcomes] == [250, 250, 250]
    assert received == [m[2] for m in chain] and server.connections == 2


def test_a_next_message_that_cannot_be_sent_is_not_looked_ahead(smtp_server, writes):
    server = smtp_server()
    big = ("a@example.test", ["b@example.test"], b"Subject: big\r\n\r\n" + b"x" * 2000 + b"\r\n")
    with PipeliningSession("127.0.0.1", server.port, security="none", timeout=5, max_message_bytes=1000) as s:
        del writes[:]
        outcomes = send_chain(s, [message("m0"), big, message("m2")])
        assert len(writes) == 4  # m0 in two writes, m2 in two: nothing went ahead
    assert isinstance(outcomes[1], MessageTooLarge) and outcomes[0].code == outcomes[2].code == 250
    assert subjects(server) == ["m0", "m2"]


def test_without_pipelining_then_is_ignored(smtp_server):
    server = smtp_server(pipelining=False)
    with session(server.port) as s:
        outcomes = send_chain(s, [message(f"m{i}") for i in range(3)])
    assert [o.code for o in outcomes] == [250, 250, 250] and subjects(server) == ["m0", "m1", "m2"]
