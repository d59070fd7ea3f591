"""POP3Session against the Dovecot sandbox (POP3, STLS, POP3S) and scripted faulty servers."""

import pytest

from spooler.sessions import pop3 as pop3_module
from spooler.sessions import (AuthenticationError, Email, MessageTooLarge, PermanentError, POP3Session, TLSError,
                              TransientError)


def note(subject, body="hello\n"):
    return Email(sender="Bob <bob@example.test>", to=["someone@example.test"], subject=subject, text=body).to_bytes()


def pop3(sandbox, user, security="tls", **kwargs):
    c = sandbox.config
    port = c.pop3s_port if security == "tls" else c.pop3_port
    kwargs.setdefault("cafile", sandbox.ca_file)
    return POP3Session(c.host, port, user.address, user.password, security=security, timeout=10, **kwargs)


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_get_all_over_each_security(mail_sandbox, sandbox_user, security):
    for n in range(2):
        mail_sandbox.deliver(sandbox_user.address, note(f"message {n}"))
    with pop3(mail_sandbox, sandbox_user, security) as session:
        messages = session.get_all()
        assert session.has_uidl
    assert [m.subject for m in messages] == ["message 0", "message 1"]
    assert all(m.uid and m.size == len(m.raw) for m in messages)


def test_wrong_password_is_an_authentication_error_naming_the_server(mail_sandbox, sandbox_user):
    session = POP3Session(mail_sandbox.config.host, mail_sandbox.config.pop3s_port, sandbox_user.address, "wrong",
                          cafile=mail_sandbox.ca_file)
    with pytest.raises(AuthenticationError) as info:
        session.connect()
    assert f"{mail_sandbox.config.host}:{mail_sandbox.config.pop3s_port}" in str(info.value)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_sandbox_certificate_refused_without_its_ca(mail_sandbox, sandbox_user, security):
    with pytest.raises(TLSError) as info:
        pop3(mail_sandbox, sandbox_user, security, cafile=None).connect()
    assert "certificate" in str(info.value)


def test_read_first_read_next_and_out(mail_sandbox, sandbox_user):
    for n in range(3):
        mail_sandbox.deliver(sandbox_user.address, note(f"m{n}"))
    with pop3(mail_sandbox, sandbox_user) as session:
        first = session.read_first()
        assert first.subject == "m0" and session.out is False
        assert session.read_next().subject == "m1"
        assert session.read_next().subject == "m2" and session.out is False
        assert session.read_next() is None and session.out is True
        assert session.read_next() is None and session.out is True
        assert session.read_first().subject == "m0" and session.out is False  # starts over


def test_read_first_on_an_empty_mailbox(mail_sandbox, sandbox_user):
    with pop3(mail_sandbox, sandbox_user) as session:
        assert session.read_first() is None and session.out is True
        assert session.get_all() == [] and list(session) == []


def test_for_each_follows_uidl_order(mail_sandbox, sandbox_user):
    for n in range(4):
        mail_sandbox.deliver(sandbox_user.address, note(f"loop {n}"))
    with pop3(mail_sandbox, sandbox_user) as session:
        seen = [(message.uid, message.subject) for message in session]
        assert [uid for uid, _ in seen] == [uid for uid, _ in session.uidl()]
    assert [subject for _, subject in seen] == [f"loop {n}" for n in range(4)]


def test_retrieve_is_byte_exact_with_dots_and_long_lines(mail_sandbox, sandbox_user):
    raw = (b"Subject: exact\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n \r\n"
           + b"x" * 100_000 + b"\r\nbare\rCR inside\r\nlast line\r\n")
    mail_sandbox.deliver(sandbox_user.address, raw)
    with pop3(mail_sandbox, sandbox_user) as session:
        [(uid, size)] = session.uidl()
        assert session.retrieve(uid) == raw and size == len(raw)
    assert pop3_module.poplib._MAXLINE == 2048  # lifted per connection, not module-wide


class CountingFile:
    def __init__(self, inner):
        self.inner, self.count = inner, 0

    def readline(self, *args):
        line = self.inner.readline(*args)
        self.count += len(line)
        return line

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_message_above_the_maximum_is_not_downloaded(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("small"))
    mail_sandbox.deliver(sandbox_user.address, note("big", "y" * 50_000))
    with pop3(mail_sandbox, sandbox_user, max_message_bytes=10_000) as session:
        (small_uid, _), (big_uid, big_size) = session.uidl()
        session._conn.file = counter = CountingFile(session._conn.file)
        with pytest.raises(MessageTooLarge) as info:
            session.retrieve(big_uid)
        assert counter.count == 0  # refused from the LIST size: not one byte of it was read
        assert info.value.size == big_size and info.value.limit == 10_000
        assert [m.subject for m in session.get_all()] == ["small"]
        assert session.skipped == [(big_uid, big_size)]


def test_deletions_commit_only_at_quit(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("keep"))
    mail_sandbox.deliver(sandbox_user.address, note("drop"))
    session = pop3(mail_sandbox, sandbox_user).connect()
    (keep, _), (drop, _) = session.uidl()
    session.delete(drop)
    assert session.uidl() == [(keep, session.size(keep))]
    session._drop()  # connection lost without QUIT: the server must keep the message
    with pop3(mail_sandbox, sandbox_user) as again:
        assert [uid for uid, _ in again.uidl()] == [keep, drop]
        again.delete(drop)
    with pop3(mail_sandbox, sandbox_user) as last:
        assert [uid for uid, _ in last.uidl()] == [keep]


def test_unknown_uid_is_refused(mail_sandbox, sandbox_user):
    with pop3(mail_sandbox, sandbox_user) as session:
        with pytest.raises(PermanentError) as info:
            session.retrieve("no-such-uid")
        assert "no-such-uid" in str(info.value)


def pop3_script(capa, messages=()):
    """A small POP3 server: ``messages`` are sent as given after RETR (already dot-stuffed, with terminator)."""
    def script(rfile, wfile):
        wfile.write(b"+OK scripted\r\n")
        while line := rfile.readline():
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"CAPA":
                wfile.write(b"+OK\r\n" + b"".join(c + b"\r\n" for c in capa) + b".\r\n")
            elif verb == b"UIDL":
                uids = b"".join(b"%d u%d\r\n" % (n, n) for n in range(1, len(messages) + 1))
                wfile.write(b"+OK\r\n" + uids + b".\r\n")
            elif verb == b"LIST":
                wfile.write(b"+OK\r\n" + b"".join(b"%d 100\r\n" % n for n in range(1, len(messages) + 1)) + b".\r\n")
            elif verb == b"RETR":
                wfile.write(b"+OK\r\n" + messages[int(line.split()[1]) - 1])
            elif verb == b"QUIT":
                wfile.write(b"+OK bye\r\n")
                return
            else:
                wfile.write(b"+OK\r\n")
    return script


def test_stls_not_offered_is_an_error_not_a_fallback(scripted):
    server = scripted(pop3_script([b"USER", b"UIDL"]))
    with pytest.raises(TLSError) as info:
        POP3Session("127.0.0.1", server.port, "u", "p", security="starttls").connect()
    assert "STLS" in str(info.value)


@pytest.mark.timeout(30)  # without the session's timeout this would wait forever
def test_pop3_server_that_never_greets_times_out(scripted):
    server = scripted(lambda rfile, wfile: rfile.read())  # silent until the client gives up and closes
    with pytest.raises(TransientError) as info:
        POP3Session("127.0.0.1", server.port, "u", "p", security="none", timeout=0.5).connect()
    assert "no answer within the timeout" in str(info.value)


def test_overlong_reply_line_is_refused(scripted):
    def script(rfile, wfile):
        wfile.write(b"+OK " + b"z" * 100_000 + b"\r\n")
        rfile.readline()

    server = scripted(script)
    with pytest.raises(TransientError) as info:
        POP3Session("127.0.0.1", server.port, "u", "p", security="none", timeout=2).connect()
    assert "longer than" in str(info.value)


def test_dot_stuffing_and_line_endings_from_a_sloppy_server(scripted):
    messages = [
        b"Subject: lf\n\n..dot\nbare lf\n.\n",          # bare LF lines and terminator
        b".\r\n",                                       # empty message
        b"..starts with a dot\r\n...\r\nx\r\n.\r\n",  # stuffed first line, stuffed ".." line
    ]
    server = scripted(pop3_script([b"UIDL"], messages))
    with POP3Session("127.0.0.1", server.port, "u", "p", security="none", timeout=5) as session:
        assert session.retrieve("u1") == b"Subject: lf\r\n\r\n.dot\r\nbare lf\r\n"
        assert session.retrieve("u2") == b""
        assert session.retrieve("u3") == b".starts with a dot\r\n..\r\nx\r\n"


def test_read_ahead_with_interleaved_deletes_keeps_every_message_in_place(mail_sandbox, sandbox_user):
    bodies = {}
    for n in range(40):
        mail_sandbox.deliver(sandbox_user.address, note(f"n{n}", f"body {n}\n" * (n + 1)))
    with pop3(mail_sandbox, sandbox_user) as session:
        assert "PIPELINING" in session.capabilities
        expected = {uid: session.retrieve(uid) for uid, _ in session.uidl()}
        for message in session:  # the poller's pattern: store, then delete, while RETRs are read ahead
            bodies[message.uid] = message.raw
            assert len(session._inflight) <= 16
            session.delete(message.uid)
    assert bodies == expected
    with pop3(mail_sandbox, sandbox_user) as session:
        assert session.uidl() == []


def test_stopping_early_leaves_the_session_usable(mail_sandbox, sandbox_user):
    for n in range(10):
        mail_sandbox.deliver(sandbox_user.address, note(f"early {n}"))
    with pop3(mail_sandbox, sandbox_user) as session:
        first = session.read_first()
        assert session._inflight  # later messages were requested ahead
        uids = [uid for uid, _ in session.uidl()]  # another command: the answers ahead are read first
        assert Email.parse(session.retrieve(uids[-1])).subject == "early 9"
        session.delete(first.uid)
        assert session.noop()
    with pop3(mail_sandbox, sandbox_user) as session:
        assert len(session.uidl()) == 9


def test_without_pipelining_only_one_command_is_outstanding(mail_sandbox, sandbox_user):
    for n in range(5):
        mail_sandbox.deliver(sandbox_user.address, note(f"one {n}"))
    with pop3(mail_sandbox, sandbox_user) as session:
        del session.capabilities["PIPELINING"]
        subjects = []
        for message in session:
            assert len(session._inflight) <= 1
            subjects.append(message.subject)
    assert subjects == [f"one {n}" for n in range(5)]


def test_lost_connection_is_reported_not_silently_replaced(mail_sandbox, sandbox_user):
    for n in range(3):
        mail_sandbox.deliver(sandbox_user.address, note(f"lost {n}"))
    session = pop3(mail_sandbox, sandbox_user).connect()
    (first, _), (second, _), (third, _) = session.uidl()
    session.delete(first)
    session._conn.sock.shutdown(2)  # the network goes away
    with pytest.raises(TransientError):
        session.retrieve(second)
    with pytest.raises(TransientError) as info:
        session.retrieve(third)  # no quiet reconnect: that would hide the lost deletion
    assert "lost" in str(info.value)
    with pytest.raises(TransientError) as info:
        session.close()
    assert "not committed" in str(info.value) or "deletions" in str(info.value)
    with pop3(mail_sandbox, sandbox_user) as again:
        assert len(again.uidl()) == 3
