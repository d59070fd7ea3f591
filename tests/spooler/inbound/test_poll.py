"""Polling a real Dovecot (the sandbox) into the database, without Celery: identity, order, caps, modes."""
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount, Message
from spooler.services.inbound import folder_sync
from spooler.services.inbound import poll as poll_module
from spooler.services.inbound import schedule
from spooler.services.inbound.poll import account_poll
from tests.spooler.inbound.conftest import server_uids, simple, use_imap

pytestmark = pytest.mark.django_db


def poll(account, **kwargs):
    result = account_poll(account_id=account.id, **kwargs)
    account.refresh_from_db()
    return result


def deliver(sandbox, account, raw):
    sandbox.deliver(account.address, raw)


# --- leave on server (the default) ---------------------------------------------------------------------

def test_pop3_stores_new_mail_once_and_leaves_it_on_the_server(account, mail_sandbox):
    for n in range(3):
        deliver(mail_sandbox, account, simple(n))
    result = poll(account)
    assert result.stored == 3 and not result.more and account.last_poll_error == ""
    assert account.last_polled_at and account.last_success_at and account.last_poll_fetched == 3
    assert (account.sync_done, account.sync_total) == (3, 3)
    assert sorted(Message.objects.values_list("subject", flat=True)) == ["message 0", "message 1", "message 2"]
    assert Message.objects.filter(folder="INBOX", on_server=True).count() == 3
    assert poll(account).stored == 0  # left on the server, and not stored twice
    assert len(server_uids(account, mail_sandbox)) == 3
    deliver(mail_sandbox, account, simple(3))
    assert poll(account).stored == 1
    assert Message.objects.count() == 4


def test_imap_keys_are_uidvalidity_and_uid_and_reading_leaves_mail_unseen(account, mail_sandbox):
    use_imap(account, mail_sandbox)
    for n in range(2):
        deliver(mail_sandbox, account, simple(n))
    assert poll(account).stored == 2
    uids = sorted(Message.objects.values_list("uid", flat=True))
    validity = uids[0].split(":")[0]
    assert uids == [f"{validity}:1", f"{validity}:2"] and validity.isdigit()
    assert poll(account).stored == 0
    maildir = mail_sandbox.maildir(account.address)
    assert all(":2,S" not in p.name for p in (maildir / "cur").iterdir())  # BODY.PEEK: not marked seen


def test_imap_syncs_each_configured_folder(account, mail_sandbox):
    maildir = mail_sandbox.maildir(account.address)
    archive = maildir / ".Archive"
    for sub in ("cur", "new", "tmp"):
        (archive / sub).mkdir(parents=True)
    shutil.copystat(maildir, archive)
    shutil.chown(archive, *_owner(maildir))
    for sub in ("cur", "new", "tmp"):
        shutil.chown(archive / sub, *_owner(maildir))
    deliver(mail_sandbox, account, simple(1, "in the inbox"))
    path = mail_sandbox.deliver(account.address, simple(2, "in the archive"))
    moved = archive / "new" / path.name
    path.rename(moved)
    use_imap(account, mail_sandbox, imap_folders=["INBOX", "Archive"])
    assert poll(account).stored == 2
    assert dict(Message.objects.values_list("subject", "folder")) == {"in the inbox": "INBOX",
                                                                        "in the archive": "Archive"}
    assert poll(account).stored == 0


def _owner(path: Path):
    stat = path.stat()
    return stat.st_uid, stat.st_gid


def test_a_missing_folder_is_reported_in_plain_words(account, mail_sandbox):
    use_imap(account, mail_sandbox, imap_folders=["No Such Folder"])
    result = poll(account)
    assert result.stored == 0 and account.last_poll_error.startswith("A folder could not be opened")
    assert "No Such Folder" in account.last_poll_error_detail


# --- delete mode and the order of things --------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_delete_mode_deletes_only_after_storing(account, mail_sandbox, protocol):
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    account.delete_after_download = True
    account.save()
    for n in range(4):
        deliver(mail_sandbox, account, simple(n))
    assert poll(account).stored == 4
    assert server_uids(account, mail_sandbox) == []
    assert Message.objects.count() == 4 and not Message.objects.filter(on_server=True).exists()


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_crash_between_commit_and_delete_stores_nothing_twice(account, mail_sandbox, protocol, monkeypatch):
    """The session dies after some batches were committed and their DELEs sent, but before QUIT: the server
    keeps everything; the next poll deletes what is stored without storing it again, and stores the rest."""
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    account.delete_after_download = True
    account.save()
    for n in range(10):
        deliver(mail_sandbox, account, simple(n))
    monkeypatch.setattr(folder_sync, "BATCH_MESSAGES", 3)
    calls = []
    real_insert = folder_sync.messages_insert

    def insert_then_die(batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise ConnectionError("the worker died here")  # a crash in the middle of the session
        return real_insert(batch)

    monkeypatch.setattr(folder_sync, "messages_insert", insert_then_die)
    result = poll(account)
    assert result.error and result.stored == 6
    assert Message.objects.count() == 6
    assert account.poll_failures == 1
    monkeypatch.setattr(folder_sync, "messages_insert", real_insert)
    # QUIT/LOGOUT was sent after the failure: what was committed and deleted is gone, the rest is there.
    assert len(server_uids(account, mail_sandbox)) == 4
    result = poll(account, due_only=False)
    assert result.stored == 4 and not result.error
    assert Message.objects.count() == 10
    assert sorted(Message.objects.values_list("subject", flat=True)) == sorted(f"message {n}" for n in range(10))
    assert server_uids(account, mail_sandbox) == []


def test_stored_but_not_deleted_is_deleted_next_time_without_storing(account, mail_sandbox):
    for n in range(3):
        deliver(mail_sandbox, account, simple(n))
    assert poll(account).stored == 3  # as if a poll had died before QUIT: stored, still on the server
    ids = set(Message.objects.values_list("id", flat=True))
    account.delete_after_download = True
    account.save()
    assert poll(account).stored == 0
    assert server_uids(account, mail_sandbox) == []
    assert set(Message.objects.values_list("id", flat=True)) == ids
    assert not Message.objects.filter(on_server=True).exists()


def test_delete_after_n_days(account, mail_sandbox):
    for n in range(2):
        deliver(mail_sandbox, account, simple(n))
    poll(account)
    old = Message.objects.get(subject="message 0")
    Message.objects.filter(id=old.id).update(fetched_at=timezone.now() - timedelta(days=8))
    account.delete_after_days = 7
    account.save()
    assert poll(account).stored == 0
    assert len(server_uids(account, mail_sandbox)) == 1
    assert list(Message.objects.filter(on_server=False).values_list("id", flat=True)) == [old.id]
    assert Message.objects.count() == 2


# --- identity changes -------------------------------------------------------------------------------------

def test_uidvalidity_change_does_not_duplicate(account, mail_sandbox):
    use_imap(account, mail_sandbox)
    for n in range(3):
        deliver(mail_sandbox, account, simple(n))
    assert poll(account).stored == 3
    before = dict(Message.objects.values_list("id", "uid"))
    maildir = mail_sandbox.maildir(account.address)
    time.sleep(1.1)  # Dovecot picks the new UIDVALIDITY from the clock
    for path in maildir.iterdir():
        if path.name.startswith("dovecot"):
            path.unlink()
    deliver(mail_sandbox, account, simple(3, "after the change"))
    result = poll(account)
    assert result.stored == 1
    after = dict(Message.objects.values_list("id", "uid"))
    assert len(after) == 4
    old_validity = {uid.split(":")[0] for uid in before.values()}
    new_validity = {uid.split(":")[0] for uid in after.values()}
    assert len(new_validity) == 1 and new_validity != old_validity
    assert set(before) <= set(after)  # the same rows, re-keyed
    assert Message.objects.filter(on_server=True).count() == 4
    assert poll(account).stored == 0


def test_switching_from_pop3_to_imap_does_not_duplicate(account, mail_sandbox):
    for n in range(3):
        deliver(mail_sandbox, account, simple(n))
    assert poll(account).stored == 3
    ids = set(Message.objects.values_list("id", flat=True))
    use_imap(account, mail_sandbox)
    deliver(mail_sandbox, account, simple(3, "new under IMAP"))
    assert poll(account).stored == 1  # the three are matched by content and re-keyed, not stored again
    assert ids < set(Message.objects.values_list("id", flat=True)) and Message.objects.count() == 4
    assert all(":" in uid for uid in Message.objects.values_list("uid", flat=True))


def test_message_deleted_elsewhere_is_marked_off_the_server(account, mail_sandbox):
    for n in range(2):
        deliver(mail_sandbox, account, simple(n))
    poll(account)
    maildir = mail_sandbox.maildir(account.address)
    victim = sorted((maildir / "cur").iterdir())[0]
    victim.unlink()  # another client deleted it
    assert poll(account).stored == 0
    assert Message.objects.filter(on_server=False).count() == 1 and Message.objects.count() == 2


def test_pop3_without_uidl_is_keyed_by_content_and_left_on_the_server(account, mail_sandbox, no_uidl_proxy):
    account.incoming_port = no_uidl_proxy.port
    account.delete_after_download = True  # not honoured: without UIDL nothing is deleted
    account.save()
    copy = simple(7, "identical copies")
    for raw in (simple(1), copy, copy):
        deliver(mail_sandbox, account, raw)
    result = poll(account)
    assert no_uidl_proxy.uidl_asked == 0  # CAPA said no UIDL: not even tried
    assert result.stored == 3 and not account.last_poll_error
    assert "no UIDL" in account.poll_notice
    keys = sorted(Message.objects.values_list("uid", flat=True))
    assert all(k.startswith("sha256:") for k in keys) and sum(k.endswith("#2") for k in keys) == 1
    assert poll(account).stored == 0
    assert len(server_uids(account, mail_sandbox)) == 3
    deliver(mail_sandbox, account, simple(2))
    assert poll(account).stored == 1 and Message.objects.count() == 4


# --- limits -----------------------------------------------------------------------------------------------

def test_message_cap_per_poll_and_progress(account, mail_sandbox, settings):
    settings.POLL_MAX_MESSAGES = 3
    for n in range(7):
        deliver(mail_sandbox, account, simple(n))
    result = poll(account)
    assert (result.stored, result.more) == (3, True)
    assert (account.sync_done, account.sync_total) == (3, 7)
    assert account.next_poll_at <= timezone.now()  # due again at once: the next poll continues
    assert poll(account).stored == 3
    result = poll(account)
    assert (result.stored, result.more) == (1, False)
    assert (account.sync_done, account.sync_total) == (7, 7)
    assert Message.objects.count() == 7


def test_time_cap_closes_the_session_cleanly(account, mail_sandbox, settings):
    settings.POLL_TEST_STORE_DELAY_SECONDS = 0.2
    settings.POLL_SESSION_SECONDS = 0.5
    account.delete_after_download = True
    account.save()
    for n in range(10):
        deliver(mail_sandbox, account, simple(n))
    result = poll(account)
    assert result.more and 1 <= result.stored < 10 and not result.error  # stopped by the cap: 10 take 2 s
    # QUIT was sent: the DELEs of what was stored are committed.
    assert len(server_uids(account, mail_sandbox)) == 10 - result.stored
    settings.POLL_TEST_STORE_DELAY_SECONDS = 0
    settings.POLL_SESSION_SECONDS = 60
    assert poll(account).stored == 10 - result.stored
    assert Message.objects.count() == 10


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_over_the_size_cap_is_recorded_not_downloaded_and_never_blocks(account, mail_sandbox, settings, protocol):
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    settings.MAX_MESSAGE_BYTES = 5000
    account.delete_after_download = True
    account.save()
    deliver(mail_sandbox, account, simple(1))
    deliver(mail_sandbox, account, simple(2, "huge", extra=b"X-Pad: " + b"x" * 9000 + b"\r\n"))
    deliver(mail_sandbox, account, simple(3))
    result = poll(account)
    assert result.stored == 2 and not result.error
    big = Message.objects.get(too_large=True)
    assert big.size > 9000 and "not downloaded" in big.subject and big.raw == b""
    assert Message.objects.filter(too_large=False).count() == 2
    assert len(server_uids(account, mail_sandbox)) == 1  # the big one stays: never delete what was not stored
    assert poll(account).stored == 0  # not retried forever
    assert Message.objects.count() == 3
    settings.MAX_MESSAGE_BYTES = 50_000  # the limit is raised: now it is fetched, replacing the placeholder
    assert poll(account).stored == 1
    assert not Message.objects.filter(too_large=True).exists()
    assert Message.objects.get(subject="huge").size > 9000
    assert server_uids(account, mail_sandbox) == []


# --- the lease and scheduling -------------------------------------------------------------------------------

def test_one_poll_per_account_at_a_time(account):
    account.poll_lease_until = timezone.now() + timedelta(minutes=5)
    account.save()
    assert account_poll(account_id=account.id) is None
    account.poll_lease_until = timezone.now() - timedelta(seconds=1)  # the holder died: its lease expired
    account.save()
    assert account_poll(account_id=account.id) is not None


def test_a_poll_that_lost_its_lease_stops_without_touching_the_account(account, mail_sandbox, monkeypatch):
    for n in range(3):
        deliver(mail_sandbox, account, simple(n))
    real = poll_module.Poll.checkpoint
    thief = timezone.now() + timedelta(minutes=9)

    def stolen(self, force=False):
        MailAccount.objects.filter(id=self.account.id).update(poll_lease_until=thief)
        return real(self, force=True)

    monkeypatch.setattr(poll_module.Poll, "checkpoint", stolen)
    poll(account)
    assert account.poll_lease_until == thief and account.last_polled_at is None
    assert Message.objects.count() == 0


def test_due_accounts_are_queued_once(account, settings):
    settings.POLL_INTERVAL_SECONDS = 30
    assert schedule.accounts_due_for_poll() == [account.id]
    assert schedule.accounts_due_for_poll() == []  # queued: not again while it waits
    account.refresh_from_db()
    assert account.poll_queued_at
    MailAccount.objects.filter(id=account.id).update(poll_queued_at=timezone.now() - timedelta(hours=1))
    assert schedule.accounts_due_for_poll() == [account.id]  # the wake-up was lost long ago: queue again


def test_per_account_interval(account, mail_sandbox, settings):
    settings.POLL_INTERVAL_SECONDS = 30
    account.poll_interval = 600
    account.save()
    poll(account)
    assert timedelta(seconds=590) < account.next_poll_at - account.last_polled_at <= timedelta(seconds=600)
    assert schedule.accounts_due_for_poll() == []
    assert account_poll(account_id=account.id, due_only=True) is None  # a stray beat wake-up: not due
    MailAccount.objects.filter(id=account.id).update(next_poll_at=timezone.now() + timedelta(seconds=10))
    assert schedule.accounts_due_for_poll() == [account.id]  # due before the next beat: taken now
    account.poll_interval = None
    account.save()
    poll(account)
    assert account.next_poll_at - account.last_polled_at == timedelta(seconds=30)


def test_wrong_password_backs_off_exponentially_up_to_the_cap(account, settings):
    settings.POLL_RETRY_BASE_SECONDS = 60
    settings.POLL_RETRY_MAX_SECONDS = 200
    settings.POLL_INTERVAL_SECONDS = 30
    account.incoming_password = "wrong"
    account.save()
    gaps = []
    for _ in range(4):
        poll(account)
        gaps.append((account.next_poll_at - account.last_polled_at).total_seconds())
        assert account.last_poll_error == f"Wrong user name or password ({account.incoming_host}:{account.incoming_port})."
    assert gaps == [60, 120, 200, 200]
    assert account.poll_failures == 4
    assert schedule.accounts_due_for_poll() == []  # backing off: beat leaves it alone
    account.incoming_password = "mailbox-secret"
    account.save()
    poll(account)
    assert account.poll_failures == 0 and account.last_poll_error == "" and account.last_poll_error_detail == ""


def test_unreachable_server_is_plain_words(account):
    from tests.fixtures.net import free_port

    account.incoming_port = free_port()
    account.save()
    poll(account)
    assert account.last_poll_error.startswith("The server could not be reached")
    assert "refused" in account.last_poll_error_detail


def test_untrusted_certificate_is_plain_words(account, mail_sandbox):
    account.incoming_port = mail_sandbox.config.pop3s_port
    account.incoming_security = "tls"
    account.save()
    poll(account)
    assert account.last_poll_error.startswith("The server's certificate was not accepted")


@pytest.mark.timeout(60)  # without the timeout this would wait forever
def test_silent_server_times_out_in_plain_words(account, settings):
    import socket
    import threading

    settings.MAIL_TIMEOUT = 0.5
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    account.incoming_port = listener.getsockname()[1]
    account.save()
    poll(account)  # the server holds the connection and never answers: only MAIL_TIMEOUT ends this
    assert account.last_poll_error.startswith("The server did not answer in time")
    listener.close()


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_an_empty_mailbox_is_fine(account, mail_sandbox, protocol):
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    result = poll(account)
    assert result.stored == 0 and not result.error and account.last_poll_error == ""
    assert (account.sync_done, account.sync_total) == (0, 0)


def test_connection_lost_mid_session_keeps_what_was_read(account, mail_sandbox, monkeypatch):
    from spooler.sessions.reading import ReadingPOP3Session
    from spooler.sessions import TransientError

    account.delete_after_download = True
    account.save()
    for n in range(6):
        deliver(mail_sandbox, account, simple(n))
    real = ReadingPOP3Session.retrieve
    calls = []

    def flaky(self, uid):
        calls.append(uid)
        if len(calls) == 4:
            self._lose()
            raise TransientError("connection lost while retrieving message", server=self.server)
        return real(self, uid)

    monkeypatch.setattr(ReadingPOP3Session, "retrieve", flaky)
    result = poll(account)
    assert result.error.startswith("The connection to the server was lost")
    assert Message.objects.count() == 3  # the three read whole are kept, not thrown away
    assert len(server_uids(account, mail_sandbox)) == 6  # no QUIT: nothing deleted
    monkeypatch.setattr(ReadingPOP3Session, "retrieve", real)
    assert poll(account).stored == 3
    assert Message.objects.count() == 6 and server_uids(account, mail_sandbox) == []
