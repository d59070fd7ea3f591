"""spooler.sessions.reading: the MailReader protocol the poller relies on, and the two sessions offering it."""

import inspect

import pytest

from spooler.sessions import Email, IMAPSession, MailReader, POP3Session
from spooler.sessions.reading import ReadingIMAPSession, ReadingPOP3Session

READERS = [ReadingPOP3Session, ReadingIMAPSession]
# Declared types of the protocol's data members (key_prefix is a read-only property there).
DATA = {"content_keyed": bool, "fetches_many": bool, "key_prefix": str}


def note(subject):
    return Email(sender="Bob <bob@example.test>", to=["someone@example.test"], subject=subject, text="hi\n").to_bytes()


def unconnected(cls):
    return cls("127.0.0.1", 9, "user", "password", security="none", timeout=1)  # port 9: nothing is ever sent


def protocol_members():
    methods = {name for name, value in vars(MailReader).items()
               if callable(value) and not name.startswith("_")}
    return methods, set(MailReader.__annotations__) | {"key_prefix"}


def test_the_protocol_declares_what_the_poller_uses():
    methods, data = protocol_members()
    assert methods == {"connect", "close", "noop", "uidl", "retrieve", "retrieve_many", "prefetch", "delete"}
    assert data == set(DATA)


@pytest.mark.parametrize("cls", READERS)
def test_both_reading_sessions_are_mail_readers_with_the_declared_members(cls):
    session = unconnected(cls)
    assert isinstance(session, MailReader)
    methods, data = protocol_members()
    for name in data:
        assert type(getattr(session, name)) is DATA[name], name
    for name in methods:
        declared = list(inspect.signature(getattr(MailReader, name)).parameters)[1:]  # without self
        assert list(inspect.signature(getattr(session, name)).parameters) == declared, name


def test_a_reader_missing_any_one_member_is_not_a_mail_reader():
    methods, data = protocol_members()
    everything = {name: (lambda self, *args: None) for name in methods} | {name: DATA[name]() for name in data}
    assert isinstance(type("Complete", (), everything)(), MailReader)
    for name in everything:
        partial = type("Partial", (), {k: v for k, v in everything.items() if k != name})()
        assert not isinstance(partial, MailReader), name
    # The plain sessions are the classic API, not the poller's: they declare no fetches_many.
    assert not isinstance(unconnected(POP3Session), MailReader)
    assert not isinstance(unconnected(IMAPSession), MailReader)


def test_pop3_declares_it_fetches_one_at_a_time_and_imap_that_it_fetches_many():
    pop3, imap = unconnected(ReadingPOP3Session), unconnected(ReadingIMAPSession)
    assert (pop3.fetches_many, imap.fetches_many) == (False, True)
    assert pop3.retrieve_many(["1", "2"]) == {}  # and no connection attempted (port 9 would refuse it)
    assert imap.retrieve_many([]) == {}
    assert not pop3.content_keyed and not imap.content_keyed
    assert pop3.key_prefix == ""
    imap.uidvalidity = 1234
    assert imap.key_prefix == "1234:"


def _read_all(session: MailReader, limit=10):
    """The poller's pattern, through the protocol only: list, fetch (many at once, or with requests ahead), delete."""
    bodies = {}
    with session:
        listing = session.uidl()
        fetched = session.retrieve_many([uid for uid, _ in listing]) if session.fetches_many else {}
        for index, (uid, _size) in enumerate(listing):
            raw = fetched.pop(uid, None)
            bodies[session.key_prefix + uid] = raw if raw is not None else session.retrieve(uid)
            if not session.fetches_many:
                session.prefetch(listing[index + 1:index + 1 + limit])
            session.delete(uid)
        assert session.noop()
    return bodies


@pytest.mark.parametrize("cls", READERS)
def test_a_mailbox_read_and_emptied_through_the_protocol_alone(mail_sandbox, sandbox_user, cls):
    for n in range(6):
        mail_sandbox.deliver(sandbox_user.address, note(f"protocol {n}"))
    c = mail_sandbox.config
    port = c.pop3s_port if cls is ReadingPOP3Session else c.imaps_port
    session = cls(c.host, port, sandbox_user.address, sandbox_user.password, cafile=mail_sandbox.ca_file, timeout=10)
    bodies = _read_all(session)
    assert sorted(Email.parse(raw).subject for raw in bodies.values()) == [f"protocol {n}" for n in range(6)]
    prefix = "" if cls is ReadingPOP3Session else f"{session.uidvalidity}:"
    assert all(key.startswith(prefix) and key[len(prefix):] for key in bodies)
    with session:
        assert session.uidl() == []  # close() committed the deletions


def test_prefetch_sends_the_retrieves_ahead_and_an_empty_list_sends_none(mail_sandbox, sandbox_user):
    for n in range(3):
        mail_sandbox.deliver(sandbox_user.address, note(f"ahead {n}"))
    c = mail_sandbox.config
    with ReadingPOP3Session(c.host, c.pop3s_port, sandbox_user.address, sandbox_user.password,
                            cafile=mail_sandbox.ca_file, timeout=10) as session:
        listing = session.uidl()
        session.prefetch([])
        assert not session._inflight
        session.prefetch(listing)
        assert list(session._inflight) == [uid for uid, _ in listing]
        assert [Email.parse(session.retrieve(uid)).subject for uid, _ in listing] == ["ahead 0", "ahead 1", "ahead 2"]
