"""Folders and message management: the keyset lists, moves, stars, read/unread, Trash, scoping."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import Box
from mailsite.webmail import listing, organize
from spooler.services.inbound.store import message_store
from spooler.services.sql.messages import insert_messages, message_row

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 1, tzinfo=UTC)


def bulk(user, n, *, box=Box.INBOX, folder="INBOX", sender=lambda i: f"Sender {i % 7} <s{i % 7}@example.test>",
         subject=lambda i: f"Subject {i:04d}"):
    """n messages one minute apart (the newest last), made as the poller's insert makes them."""
    account = user.mail_accounts.get()
    rows = [message_row(account_id=account.id, user_id=user.id, folder=folder, uid=f"{box}-{folder}-{i}",
                        raw_compressed=b"", size=100 + i, sender=sender(i), subject=subject(i),
                        date=START + timedelta(minutes=i), box=box) for i in range(n)]
    insert_messages(rows)
    return list(Message.objects.filter(user=user, box=box).order_by("id"))


def all_pages(user, **kwargs):
    seen, cursor = [], None
    while True:
        page = listing.message_page(user=user, cursor=cursor, **kwargs)
        seen += [m.id for m in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_keyset_pages_walk_every_message_once_newest_first(alice):
    made = bulk(alice, 123)
    ids = all_pages(alice)
    assert ids == [m.id for m in reversed(made)]


def test_ties_in_the_sort_key_are_not_lost_between_pages(alice):
    made = bulk(alice, 120, sender=lambda i: "Same Person <same@example.test>")
    for sort in ("sender", "date", "subject"):
        ids = all_pages(alice, sort=sort)
        assert sorted(ids) == sorted(m.id for m in made) and len(ids) == len(set(ids)), sort


def test_sort_by_sender_and_subject(alice):
    bulk(alice, 10, sender=lambda i: ["Zoe <z@x.test>", "adam <a@x.test>", "Mia <m@x.test>"][i % 3],
         subject=lambda i: f"Re: {'bca'[i % 3]} topic")
    by_sender = listing.message_page(user=alice, sort="sender").rows
    assert [m.sender_key for m in by_sender][:4] == ["adam"] * 3 + ["mia"]
    by_subject = listing.message_page(user=alice, sort="subject").rows
    assert by_subject[0].subject_key == "a topic" and by_subject[-1].subject_key == "c topic"


def test_a_page_is_one_query_without_count_or_offset(alice):
    bulk(alice, 60)
    first = listing.message_page(user=alice)
    with CaptureQueriesContext(connection) as queries:
        listing.message_page(user=alice, cursor=first.next_cursor)
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "COUNT(" not in sql and "OFFSET" not in sql


def test_the_latest_id_follows_new_mail_of_every_account_without_sorting_the_mailbox(alice, bob):
    bulk(alice, 30)
    second = alice.mail_accounts.create(address="alice2@example.test", incoming_host="127.0.0.1", incoming_port=9,
                                        incoming_username="a", incoming_password="a", smtp_host="127.0.0.1",
                                        smtp_port=9)
    bulk(bob, 5)  # newer ids, another user's
    before = listing.message_latest_id(user=alice)
    assert before == Message.objects.filter(user=alice).order_by("-id")[0].id
    stored = insert_messages([message_row(account_id=second.id, user_id=alice.id, folder="INBOX", uid="new",
                                          raw_compressed=b"", size=1, date=START)])  # an old Date, stored now
    assert listing.message_latest_id(user=alice) == stored[0] > before
    if connection.vendor == "sqlite":  # each account's step is an index search, not a sort of its rows
        with CaptureQueriesContext(connection) as queries:
            listing.message_latest_id(user=alice)
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("cursor", ["junk", "|", "2026-13-01|5", "2026-01-01T00:00:00|x", "naive|1",
                                    "2026-01-01T00:00:00|3", "\x00|1"])
def test_a_malformed_cursor_shows_the_first_page(alice, cursor):
    bulk(alice, 3)
    page = listing.message_page(user=alice, cursor=cursor)
    assert page.first and len(page.rows) == 3


def test_a_future_date_does_not_pin_a_message_to_the_top(alice):
    account = alice.mail_accounts.get()
    spam = message_store(account=account, uid="future", raw=b"Date: Fri, 1 Jan 2100 00:00:00 +0000\r\n"
                         b"Subject: forever on top\r\n\r\nx\r\n")
    later = message_store(account=account, uid="now", raw=b"Subject: real\r\n\r\nx\r\n")
    assert spam.sort_at <= spam.fetched_at
    assert [m.id for m in listing.message_page(user=alice).rows] == [later.id, spam.id]


def test_lists_are_scoped_to_the_user_and_the_box(alice, bob):
    mine = bulk(alice, 2)
    bulk(bob, 2)
    archived = bulk(alice, 1, box=Box.ARCHIVE)
    assert {m.id for m in listing.message_page(user=alice).rows} == {m.id for m in mine}
    assert [m.id for m in listing.message_page(user=alice, box=Box.ARCHIVE).rows] == [archived[0].id]


def test_an_imap_folder_is_its_own_list(alice):
    work = bulk(alice, 2, box=Box.FOLDER, folder="Work")
    bulk(alice, 1, box=Box.FOLDER, folder="Other")
    page = listing.message_page(user=alice, box=Box.FOLDER, folder="Work")
    assert {m.id for m in page.rows} == {m.id for m in work}


def test_move_star_read_and_restore(alice):
    inbox = bulk(alice, 3)
    ids = [m.id for m in inbox[:2]]
    assert organize.messages_act(user=alice, ids=ids, action="archive") == 2
    assert set(Message.objects.filter(box=Box.ARCHIVE).values_list("id", flat=True)) == set(ids)
    assert organize.messages_act(user=alice, ids=ids, action="star") == 2
    assert organize.messages_act(user=alice, ids=ids, action="star") == 0  # already starred
    assert organize.messages_act(user=alice, ids=ids, action="read") == 2
    assert organize.messages_act(user=alice, ids=[ids[0]], action="unread") == 1
    assert organize.messages_act(user=alice, ids=ids, action="trash") == 2
    assert organize.messages_act(user=alice, ids=ids, action="restore") == 2
    assert set(Message.objects.filter(id__in=ids).values_list("box", flat=True)) == {Box.INBOX}


def test_restore_puts_an_imap_message_back_in_its_folder(alice):
    work = bulk(alice, 1, box=Box.FOLDER, folder="Work")
    organize.messages_act(user=alice, ids=[work[0].id], action="delete")
    assert Message.objects.get(id=work[0].id).box == Box.TRASH
    organize.messages_act(user=alice, ids=[work[0].id], action="restore")
    assert Message.objects.get(id=work[0].id).box == Box.FOLDER


def test_another_users_ids_are_ignored(alice, bob):
    theirs = bulk(bob, 2)
    assert organize.messages_act(user=alice, ids=[m.id for m in theirs], action="trash") == 0
    assert organize.trash_empty(user=alice) == 0
    assert set(Message.objects.filter(user=bob).values_list("box", flat=True)) == {Box.INBOX}


def test_delete_twice_deletes_for_good_and_keeps_a_tombstone(alice):
    account = alice.mail_accounts.get()
    message = message_store(account=account, uid="u1", raw=b"Subject: bye\r\nMIME-Version: 1.0\r\n"
                            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\n"
                            b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
                            b"%PDF-1\r\n--b--\r\n")
    assert message.attachments.count() == 1
    organize.messages_act(user=alice, ids=[message.id], action="delete")
    organize.messages_act(user=alice, ids=[message.id], action="delete")
    gone = Message.objects.get(id=message.id)
    assert gone.box == Box.DELETED and gone.raw == b"" and gone.text == "" and gone.attachments.count() == 0
    # The poller knows it still: the same identity is not stored again.
    assert message_store(account=account, uid="u1", raw=b"Subject: bye\r\n\r\ntext\r\n") is None
    assert listing.message_page(user=alice, box=Box.TRASH).rows == []


def test_empty_trash(alice):
    bulk(alice, 3, box=Box.TRASH)
    kept = bulk(alice, 1)
    assert organize.trash_empty(user=alice) == 3
    assert list(Message.objects.exclude(box=Box.DELETED).values_list("id", flat=True)) == [kept[0].id]


def test_unknown_action_is_refused(alice):
    with pytest.raises(ValueError):
        organize.messages_act(user=alice, ids=[], action="drop_table")


# --- the pages ------------------------------------------------------------------------------------------------

def test_pages_show_each_box(client, alice):
    bulk(alice, 1, subject=lambda i: "in the archive", box=Box.ARCHIVE)
    bulk(alice, 1, subject=lambda i: "in the inbox")
    client.force_login(alice)
    inbox = client.get(reverse("webmail:inbox")).content.decode()
    archive = client.get(reverse("webmail:box", args=["archive"])).content.decode()
    assert "in the inbox" in inbox and "in the archive" not in inbox
    assert "in the archive" in archive and "in the inbox" not in archive
    assert client.get(reverse("webmail:box", args=["deleted"])).status_code == 404
    assert client.get(reverse("webmail:box", args=["nonsense"])).status_code == 404


def test_the_older_link_walks_the_pages(client, alice):
    bulk(alice, 55)
    client.force_login(alice)
    first = client.get(reverse("webmail:inbox"))
    cursor = first.context["page"].next_cursor
    assert cursor and 'rel="next"' in first.content.decode()
    second = client.get(reverse("webmail:inbox"), {"after": cursor})
    assert len(second.context["page"].rows) == 5 and second.context["page"].next_cursor is None


def test_buttons_act_and_come_back(client, alice):
    made = bulk(alice, 2)
    client.force_login(alice)
    response = client.post(reverse("webmail:act"), {"action": "archive", "ids": [made[0].id], "next": "/?sort=sender"})
    assert response.status_code == 302 and response["Location"] == "/?sort=sender"
    assert Message.objects.get(id=made[0].id).box == Box.ARCHIVE
    star = client.post(reverse("webmail:act") + f"?one={made[1].id}", {"action": "star"})
    assert star.status_code == 302 and Message.objects.get(id=made[1].id).flagged


def test_next_must_be_ours(client, alice):
    client.force_login(alice)
    response = client.post(reverse("webmail:act"), {"action": "read", "next": "https://evil.example/"})
    assert response["Location"] == reverse("webmail:inbox")


def test_actions_need_csrf(alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    made = bulk(alice, 1)
    assert strict.post(reverse("webmail:act"), {"action": "trash", "ids": [made[0].id]}).status_code == 403
    assert Message.objects.get(id=made[0].id).box == Box.INBOX


def test_a_deleted_message_is_not_found(client, alice):
    made = bulk(alice, 1, box=Box.DELETED)
    client.force_login(alice)
    assert client.get(reverse("webmail:message", args=[made[0].id])).status_code == 404


def test_the_list_shows_names_with_the_address_on_hover(client, alice):
    bulk(alice, 1, sender=lambda i: '"Weekly Deals" <news@example.org>')
    client.force_login(alice)
    page = client.get(reverse("webmail:inbox")).content.decode()
    assert 'title="news@example.org">Weekly Deals</span>' in page
    assert "&lt;news@example.org&gt;" not in page
