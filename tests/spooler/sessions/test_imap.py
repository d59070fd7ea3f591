"""IMAPSession against the Dovecot sandbox (IMAP, STARTTLS, IMAPS) and scripted faulty servers."""

import os

import pytest

from spooler.sessions import (AuthenticationError, Email, IMAPSession, MessageTooLarge, PermanentError, TLSError,
                              TransientError)
from spooler.sessions.imap import decode_folder, encode_folder


def note(subject, body="hello\n"):
    return Email(sender="Bob <bob@example.test>", to=["someone@example.test"], subject=subject, text=body).to_bytes()


def imap(sandbox, user, security="tls", **kwargs):
    c = sandbox.config
    port = c.imaps_port if security == "tls" else c.imap_port
    kwargs.setdefault("cafile", sandbox.ca_file)
    return IMAPSession(c.host, port, user.address, user.password, security=security, timeout=10, **kwargs)


def seen_flags(maildir):
    """Flags Dovecot wrote into the Maildir file names (``:2,S`` means \\Seen)."""
    names = os.listdir(maildir / "cur") + os.listdir(maildir / "new")
    return [name.partition(":2,")[2] for name in names]


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_get_all_over_each_security(mail_sandbox, sandbox_user, security):
    for n in range(2):
        mail_sandbox.deliver(sandbox_user.address, note(f"message {n}"))
    with imap(mail_sandbox, sandbox_user, security) as session:
        messages = session.get_all()
        assert session.uidvalidity > 0
    assert [m.subject for m in messages] == ["message 0", "message 1"]
    assert [m.uid for m in messages] == ["1", "2"] and all(m.size == len(m.raw) for m in messages)


def test_wrong_password_is_an_authentication_error_naming_the_server(mail_sandbox, sandbox_user):
    c = mail_sandbox.config
    with pytest.raises(AuthenticationError) as info:
        IMAPSession(c.host, c.imaps_port, sandbox_user.address, "wrong", cafile=mail_sandbox.ca_file).connect()
    assert f"{c.host}:{c.imaps_port}" in str(info.value)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_sandbox_certificate_refused_without_its_ca(mail_sandbox, sandbox_user, security):
    with pytest.raises(TLSError):
        imap(mail_sandbox, sandbox_user, security, cafile=None).connect()


def test_reading_leaves_messages_unseen(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("peek"))
    with imap(mail_sandbox, sandbox_user) as session:
        [message] = session.get_all()
        assert session.retrieve(message.uid) == message.raw
    assert message.subject == "peek"
    assert seen_flags(sandbox_user.maildir) and all("S" not in flags for flags in seen_flags(sandbox_user.maildir))


def test_read_first_read_next_out_and_for_each(mail_sandbox, sandbox_user):
    for n in range(3):
        mail_sandbox.deliver(sandbox_user.address, note(f"m{n}"))
    with imap(mail_sandbox, sandbox_user) as session:
        assert session.read_first().subject == "m0"
        assert session.read_next().subject == "m1"
        assert session.read_next().subject == "m2" and not session.out
        assert session.read_next() is None and session.out
        assert [m.subject for m in session] == ["m0", "m1", "m2"]


def test_new_mail_is_listed_during_the_session(mail_sandbox, sandbox_user):
    with imap(mail_sandbox, sandbox_user) as session:
        assert session.uidl() == []
        mail_sandbox.deliver(sandbox_user.address, note("late"))
        assert [m.subject for m in session] == ["late"]


def test_retrieve_is_byte_exact(mail_sandbox, sandbox_user):
    raw = b"Subject: exact\r\n\r\n.leading dot\r\n" + b"x" * 100_000 + b"\r\nend\r\n"
    mail_sandbox.deliver(sandbox_user.address, raw)
    with imap(mail_sandbox, sandbox_user) as session:
        [(uid, size)] = session.uidl()
        assert session.retrieve(uid) == raw and size == len(raw)


def test_message_above_the_maximum_is_not_downloaded(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("small"))
    mail_sandbox.deliver(sandbox_user.address, note("big", "y" * 50_000))
    with imap(mail_sandbox, sandbox_user, max_message_bytes=10_000) as session:
        (_, _), (big_uid, big_size) = session.uidl()
        # Every literal imaplib reads is recorded. (Refusing them would not do: a literal over the cap raises
        # MessageTooLarge too, so a retrieve that fetched the message anyway would still pass.)
        literals, read = [], session._conn.read
        session._conn.read = lambda size: literals.append(size) or read(size)
        with pytest.raises(MessageTooLarge) as info:
            session.retrieve(big_uid)
        assert literals == []  # refused from the announced size: not one byte of it was fetched
        assert info.value.size == big_size
        assert [m.subject for m in session.get_all()] == ["small"]
        assert session.skipped == [(big_uid, big_size)]


def test_lying_server_literal_is_cut_and_the_connection_dropped(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("bigger than it says", "z" * 20_000))
    with imap(mail_sandbox, sandbox_user) as session:
        [(uid, _size)] = session.uidl()
        session._conn.max_literal = 1000  # as if the server announced a small size and sent a big literal
        with pytest.raises(MessageTooLarge):
            session.retrieve(uid)
        assert session._conn is None


def test_delete_is_expunged_at_close(mail_sandbox, sandbox_user):
    mail_sandbox.deliver(sandbox_user.address, note("keep"))
    mail_sandbox.deliver(sandbox_user.address, note("drop"))
    with imap(mail_sandbox, sandbox_user) as session, imap(mail_sandbox, sandbox_user) as observer:
        (keep, _), (drop, _) = session.uidl()
        session.delete(drop)
        assert [uid for uid, _ in session.uidl()] == [keep]
        assert [uid for uid, _ in observer.uidl()] == [keep, drop]  # flagged, not yet expunged
        session.close()
        assert [uid for uid, _ in observer.uidl()] == [keep]


def test_close_expunges_only_what_this_session_deleted(mail_sandbox, sandbox_user):
    for subject in ("mine", "theirs", "untouched"):
        mail_sandbox.deliver(sandbox_user.address, note(subject))
    other = imap(mail_sandbox, sandbox_user).connect()
    (mine, _), (theirs, _), (untouched, _) = other.uidl()
    other.delete(theirs)  # flagged \Deleted by another client that never expunges
    other._drop()
    with imap(mail_sandbox, sandbox_user) as session:
        session.delete(mine)
    with imap(mail_sandbox, sandbox_user) as session:
        assert [uid for uid, _ in session.uidl()] == [theirs, untouched]


def test_folders_select_and_uidvalidity(mail_sandbox, sandbox_user):
    folder = sandbox_user.maildir / ".Archiv.Gr&APwA3w-e"  # Maildir++ name of "Archiv.Grüße"
    owner = sandbox_user.maildir.stat()
    for path in (folder, folder / "cur", folder / "new", folder / "tmp"):
        path.mkdir()
        os.chown(path, owner.st_uid, owner.st_gid)
    mail_sandbox.deliver(sandbox_user.address, note("in inbox"))
    archived = folder / "new" / "1.archived"
    archived.write_bytes(note("in archive"))
    os.chown(archived, owner.st_uid, owner.st_gid)
    with imap(mail_sandbox, sandbox_user) as session:
        assert {"INBOX", "Archiv.Grüße"} <= set(session.folders())
        inbox_validity = session.uidvalidity
        session.select("Archiv.Grüße")
        assert session.folder == "Archiv.Grüße" and session.uidvalidity != inbox_validity
        assert [m.subject for m in session] == ["in archive"]
        with pytest.raises(PermanentError):
            session.select("No such folder")


def test_special_use_folders_flags_and_moves_are_written_to_the_server(mail_sandbox, sandbox_user):
    for n in range(3):
        mail_sandbox.deliver(sandbox_user.address, note(f"message {n}"))
    with imap(mail_sandbox, sandbox_user) as session:
        special = session.special_folders()
        assert {special[use] for use in ("\\Trash", "\\Junk", "\\Archive")} == {"Trash", "Junk", "Archive"}
        session.store_flags(["1", "2"], "\\Seen")
        session.store_flags(["2"], "\\Flagged")
        session.store_flags(["1"], "\\Seen", add=False)
        with pytest.raises(ValueError):
            session.store_flags(["1"], "\\Deleted")  # deletion is delete()'s, with its expunge
        validity, moved = session.move(["2", "3"], "Trash")
        session.expunge()
        assert [uid for uid, _ in session.uidl()] == ["1"]
        session.select("Trash")
        assert validity == session.uidvalidity and sorted(moved) == ["2", "3"]
        assert sorted(moved.values()) == sorted(uid for uid, _ in session.uidl())
        assert b"Subject: message 1" in session.retrieve(moved["2"])
        assert b"Subject: message 2" in session.retrieve(moved["3"])
    trash = sandbox_user.maildir / ".Trash"
    flags = sorted(name.partition(":2,")[2] for name in os.listdir(trash / "cur") + os.listdir(trash / "new"))
    assert flags == ["", "FS"]  # UID 2 kept \\Seen and \\Flagged through the move; UID 3 had none
    assert seen_flags(sandbox_user.maildir) == [""]  # UID 1: \\Seen set, then cleared


def test_copyuid_ranges_are_read_in_the_server_s_order():
    from spooler.sessions.imap import _copyuid

    assert _copyuid(b"38505 304,319:320 3956:3958") == (38505, {"304": "3956", "319": "3957", "320": "3958"})
    assert _copyuid(b"1 1:2 5") is None  # the counts differ: not trusted


def test_uid_must_be_a_number_that_exists(mail_sandbox, sandbox_user):
    with imap(mail_sandbox, sandbox_user) as session:
        with pytest.raises(ValueError):
            session.retrieve("1 BODY[]")
        with pytest.raises(PermanentError) as info:
            session.retrieve("999")
        assert "999" in str(info.value)


@pytest.mark.parametrize("name,encoded", [
    ("INBOX", "INBOX"),
    ("Grüße", "Gr&APwA3w-e"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 example
    ("A&B", "A&-B"),
])
def test_modified_utf7(name, encoded):
    assert encode_folder(name) == encoded and decode_folder(encoded) == name


def test_starttls_not_offered_is_an_error_not_a_fallback(scripted):
    def script(rfile, wfile):
        wfile.write(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted\r\n")
        while line := rfile.readline():
            tag = line.split(b" ", 1)[0]
            if b"CAPABILITY" in line.upper():
                wfile.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
            wfile.write(tag + b" OK done\r\n")

    server = scripted(script)
    with pytest.raises(TLSError) as info:
        IMAPSession("127.0.0.1", server.port, "u", "p", security="starttls").connect()
    assert "STARTTLS" in str(info.value)


@pytest.mark.timeout(30)  # without the session's timeout this would wait forever
def test_imap_server_that_never_greets_times_out(scripted):
    server = scripted(lambda rfile, wfile: rfile.read())  # silent until the client gives up and closes
    with pytest.raises(TransientError) as info:
        IMAPSession("127.0.0.1", server.port, "u", "p", security="none", timeout=0.5).connect()
    assert "no answer within the timeout" in str(info.value)
