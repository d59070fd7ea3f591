"""The user's changes written back to a real IMAP server (the sandbox's Dovecot) by the poll: flags, moves to the
special-use folders and back, deletions for good; nothing downloaded twice; POP3 rows never marked."""
import pytest

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import Box
from mailsite.webmail import organize, services
from spooler.services.inbound.poll import account_poll
from spooler.services.inbound.writeback import Pending, _settle
from spooler.sessions import IMAPSession
from tests.spooler.inbound.conftest import simple, use_imap

pytestmark = pytest.mark.django_db


def poll(account):
    result = account_poll(account_id=account.id)
    account.refresh_from_db()
    assert result.error == ""
    return result


def server(account, sandbox, folder="INBOX"):
    """{subject: set of flags} of one folder on the server, read with a fresh session."""
    session = IMAPSession("127.0.0.1", sandbox.config.imap_port, account.incoming_username,
                          account.incoming_password, security="none", folder=folder, timeout=10)
    with session:
        found = {}
        for uid, _ in session.uidl():
            data = session._command("reading flags", "uid", "FETCH", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            head = next(item for item in data if isinstance(item, tuple))
            subject = head[1].decode().split(":", 1)[1].strip()
            found[subject] = {f for f in ("\\Seen", "\\Flagged") if f.encode() in head[0]}
        return found


@pytest.fixture
def stored(account, mail_sandbox):
    """Three messages stored from the IMAP inbox: {subject: row}."""
    use_imap(account, mail_sandbox)
    for n in range(3):
        mail_sandbox.deliver(account.address, simple(n))
    assert poll(account).stored == 3
    return {m.subject: m for m in Message.objects.all()}


@pytest.fixture
def polls_asked(monkeypatch):
    asked = []
    monkeypatch.setattr(organize, "accounts_poll_request", lambda *, account_ids: asked.append(list(account_ids)))
    return asked


def act(user, rows, action, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return organize.messages_act(user=user, ids=[r.id for r in rows], action=action)


def test_flags_and_a_move_to_trash_reach_the_server(account, mail_sandbox, stored, polls_asked,
                                                     django_capture_on_commit_callbacks):
    user = account.user
    act(user, [stored["message 1"]], "star", django_capture_on_commit_callbacks)
    act(user, [stored["message 2"]], "trash", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_mark_seen(message=stored["message 0"])
    assert polls_asked == [[account.id]] * 3
    assert Message.objects.filter(server_pending=True).count() == 3

    assert poll(account).stored == 0
    assert server(account, mail_sandbox) == {"message 0": {"\\Seen"}, "message 1": {"\\Flagged"}}
    assert server(account, mail_sandbox, "Trash") == {"message 2": set()}
    trashed = Message.objects.get(id=stored["message 2"].id)
    assert (trashed.box, trashed.folder, trashed.on_server, trashed.server_pending) == (Box.TRASH, "Trash", True, False)
    assert not Message.objects.filter(server_pending=True).exists()
    assert account.imap_special_folders["\\Trash"] == "Trash"

    # The moved row has the key the server gave it there: syncing Trash too downloads nothing again.
    use_imap(account, mail_sandbox, imap_folders=["INBOX", "Trash"])
    assert poll(account).stored == 0 and Message.objects.count() == 3


def test_restore_moves_it_back_and_delete_for_good_expunges(account, mail_sandbox, stored, polls_asked,
                                                            django_capture_on_commit_callbacks):
    user, row = account.user, stored["message 2"]
    act(user, [row], "trash", django_capture_on_commit_callbacks)
    poll(account)
    act(user, [row], "restore", django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert row.box == Box.INBOX  # from the server's Trash back to the Inbox, not to a folder named "Trash"
    poll(account)
    assert set(server(account, mail_sandbox)) == {"message 0", "message 1", "message 2"}
    assert server(account, mail_sandbox, "Trash") == {}

    act(user, [stored["message 0"]], "delete", django_capture_on_commit_callbacks)  # to Trash
    act(user, [stored["message 0"]], "delete", django_capture_on_commit_callbacks)  # for good
    poll(account)
    assert set(server(account, mail_sandbox)) == {"message 1", "message 2"}
    assert server(account, mail_sandbox, "Trash") == {}
    gone = Message.objects.get(id=stored["message 0"].id)
    assert (gone.box, gone.on_server, gone.server_pending) == (Box.DELETED, False, False)
    assert poll(account).stored == 0


def test_archive_and_spam_go_to_their_special_use_folders(account, mail_sandbox, stored, polls_asked,
                                                           django_capture_on_commit_callbacks):
    act(account.user, [stored["message 0"]], "archive", django_capture_on_commit_callbacks)
    act(account.user, [stored["message 1"]], "spam", django_capture_on_commit_callbacks)
    poll(account)
    assert set(server(account, mail_sandbox, "Archive")) == {"message 0"}
    assert set(server(account, mail_sandbox, "Junk")) == {"message 1"}
    assert set(server(account, mail_sandbox)) == {"message 2"}


def test_pop3_rows_are_never_marked_and_ask_for_no_poll(account, mail_sandbox, polls_asked,
                                                        django_capture_on_commit_callbacks):
    mail_sandbox.deliver(account.address, simple(1))
    poll(account)  # a POP3 account (the fixture's default)
    row = Message.objects.get()
    act(account.user, [row], "star", django_capture_on_commit_callbacks)
    act(account.user, [row], "trash", django_capture_on_commit_callbacks)
    assert polls_asked == [] and not Message.objects.filter(server_pending=True).exists()


def test_a_change_made_while_writing_keeps_its_mark(stored):
    row = stored["message 0"]
    Message.objects.filter(id=row.id).update(server_pending=True, flagged=True)
    written = Pending(row.id, row.folder, row.uid, row.box, row.seen, False, True)  # written before the star
    _settle([written], {})
    assert Message.objects.get(id=row.id).server_pending  # the star is written at the next poll
    _settle([written._replace(flagged=True)], {})
    assert not Message.objects.get(id=row.id).server_pending
