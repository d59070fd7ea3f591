"""Storage housekeeping (spooler/services/storage.py): attachment files and outbox part bodies go once nothing
refers to them, never while a message that uses them is being stored."""
import os
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from mailsite.mailboxes.models import Attachment, Box, Message
from mailsite.webmail.organize import trash_empty
from spooler import tasks
from spooler.models import OutboxBlob, OutboxMessage
from spooler.services.inbound.store import message_prepare, message_store, messages_insert
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.services import storage
from spooler.services.storage import storage_collect
from spooler.sessions import Attachment as Part
from spooler.sessions import Email
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 " + bytes(range(256)) * 40
LATER = timedelta(hours=2)  # past the default grace period of an hour


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def raw_with(data: bytes, n: int) -> bytes:
    return Email(sender="s@example.test", to=["r@example.test"], subject=f"report {n}", text="see attached",
                 attachments=[Part("report.pdf", "application/pdf", data)]).to_bytes()


def store(account, n, data=PDF) -> Message:
    return message_store(account=account, uid=f"u{n}", raw=raw_with(data, n))


def file_of(message: Message) -> str:
    return message.attachments.get().file.name


def delete_for_good(user, messages) -> None:
    Message.objects.filter(id__in=[m.id for m in messages]).update(box=Box.TRASH)
    trash_empty(user=user)


def age(name: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(default_storage.path(name), (then, then))


def test_deleted_messages_file_goes_after_the_task(alice, settings):
    account = alice.mail_accounts.get()
    message = store(account, 1)
    name = file_of(message)
    delete_for_good(alice, [message])
    assert default_storage.exists(name)  # deleting the message leaves the shared file
    settings.STORAGE_COLLECT_GRACE_SECONDS = 0
    assert tasks.storage_collect() == {"files": 1, "blobs": 0}
    assert not default_storage.exists(name)


def test_shared_file_stays_while_one_message_refers_to_it(alice):
    account = alice.mail_accounts.get()
    first, second = store(account, 1), store(account, 2)
    name = file_of(first)
    assert file_of(second) == name  # stored once by content hash
    delete_for_good(alice, [first])
    assert storage_collect(now=timezone.now() + LATER).files == 0
    assert default_storage.exists(name) and default_storage.open(name).read() == PDF
    delete_for_good(alice, [second])
    assert storage_collect(now=timezone.now() + LATER).files == 1
    assert not default_storage.exists(name)


def test_file_written_just_now_without_its_row_is_kept(alice):
    """The race: a poll has written the file (message_prepare) and not yet committed the row."""
    account = alice.mail_accounts.get()
    prepared = message_prepare(account=account, folder="INBOX", uid="u1", raw=raw_with(PDF, 1))
    name = prepared.attachments[0].file.name
    assert storage_collect().files == 0
    assert default_storage.exists(name)
    messages_insert([prepared])
    assert storage_collect(now=timezone.now() + LATER).files == 0  # referenced now
    assert Attachment.objects.get().file.name == name


def test_reused_old_file_is_refreshed_and_kept(alice):
    """An old file nothing refers to, taken up again by a new message: its time is its last use."""
    account = alice.mail_accounts.get()
    message = store(account, 1)
    name = file_of(message)
    delete_for_good(alice, [message])
    age(name, 3 * 3600)
    prepared = message_prepare(account=account, folder="INBOX", uid="u2", raw=raw_with(PDF, 2))
    assert prepared.attachments[0].file.name == name
    assert storage_collect().files == 0
    assert default_storage.exists(name)


def test_file_removed_between_prepare_and_insert_is_stored_again(alice):
    """A collector that deleted the file after message_prepare reused it: the insert, under the files lock,
    stores it again from the message's bytes before it commits."""
    account = alice.mail_accounts.get()
    prepared = message_prepare(account=account, folder="INBOX", uid="u1", raw=raw_with(PDF, 1))
    name = prepared.attachments[0].file.name
    default_storage.delete(name)
    messages_insert([prepared])
    stored = Attachment.objects.get()
    assert default_storage.exists(stored.file.name) and default_storage.open(stored.file.name).read() == PDF


def test_other_files_are_left_alone(alice):
    default_storage.save("elsewhere/notes.txt", ContentFile(b"mine"))
    assert storage_collect(now=timezone.now() + LATER).files == 0
    assert default_storage.exists("elsewhere/notes.txt")


# --- outbox part bodies -------------------------------------------------------------------------------

def enqueue(account, n, data=PDF) -> OutboxMessage:
    email = Email(sender=account.from_header, to=[f"r{n}@example.test"], subject=f"out {n}", text="x",
                  attachments=[Part("report.pdf", "application/pdf", data)])
    return outbox_enqueue(email=email, relay=account, user=account.user)


def test_outbox_body_goes_with_its_last_message(alice):
    account = alice.mail_accounts.get()
    first, second = enqueue(account, 1), enqueue(account, 2)
    assert OutboxBlob.objects.count() == 1
    first.delete()
    assert storage_collect(now=timezone.now() + LATER).blobs == 0  # the second still uses it
    assert OutboxBlob.objects.count() == 1
    second.delete()
    assert storage_collect().blobs == 0  # within the grace period
    assert storage_collect(now=timezone.now() + LATER).blobs == 1
    assert not OutboxBlob.objects.exists()


def test_old_outbox_body_taken_up_again_is_refreshed_and_kept(alice):
    account = alice.mail_accounts.get()
    enqueue(account, 1).delete()
    OutboxBlob.objects.update(created_at=timezone.now() - LATER)
    row = enqueue(account, 2)  # the same attachment: the stored body is reused
    assert storage_collect().blobs == 0
    assert row.parts.get().blob.created_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_collector_running_during_an_insert_waits_for_its_commit(alice, monkeypatch):
    """The race with real concurrency: an old file, unreferenced, reused by a message whose insert is open; a
    collector starts meanwhile. It must wait for the files lock (held by the insert) and then see the row."""
    account = alice.mail_accounts.get()
    prepared = message_prepare(account=account, folder="INBOX", uid="u1", raw=raw_with(PDF, 1))
    name = prepared.attachments[0].file.name
    inserting, release, locking = threading.Event(), threading.Event(), threading.Event()
    real_bulk_create, real_listing = Attachment.objects.bulk_create, storage._attachment_files

    def paused_bulk_create(rows, *args, **kwargs):
        created = real_bulk_create(rows, *args, **kwargs)
        inserting.set()  # the rows are written, not committed; the files lock is held
        release.wait(60)
        return created

    def noted_listing():
        names = real_listing()
        locking.set()  # next: its transaction, which takes the files lock
        return names

    monkeypatch.setattr(Attachment.objects, "bulk_create", paused_bulk_create)
    monkeypatch.setattr(storage, "_attachment_files", noted_listing)

    def in_thread(work, results):
        try:
            results.append(work())
        finally:
            connection.close()

    inserted, collected = [], []
    insert = threading.Thread(target=in_thread, args=(lambda: messages_insert([prepared]), inserted))
    insert.start()
    assert inserting.wait(60)
    age(name, 3 * 3600)  # old enough for the collector, and no committed row names it yet
    collect = threading.Thread(target=in_thread,
                               args=(lambda: storage_collect(now=timezone.now() + LATER), collected))
    collect.start()
    assert locking.wait(60)
    wait_for(lambda: not collect.is_alive(), timeout=3)  # (a collector that did not wait would finish here)
    release.set()
    insert.join(60)
    collect.join(60)
    assert inserted and inserted[0][0] is not None and collected, (inserted, collected)
    assert collected[0].files == 0
    assert default_storage.exists(name) and Attachment.objects.get().file.name == name
