"""The conversation page: a thread by References, In-Reply-To chains and subject, scoped to the user."""
import pytest
from django.urls import reverse

from mailsite.mailboxes.models import Message
from mailsite.webmail import organize, selectors
from spooler.services.inbound.store import message_store
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db


def store(user, uid, subject, body, *, message_id="", in_reply_to="", references="", date=1):
    headers = [f"From: Someone {uid} <s{uid}@example.test>", "To: alice@example.test", f"Subject: {subject}",
               f"Date: Thu, 0{date} Jan 2026 10:00:00 +0000"]
    headers += [f"Message-ID: {message_id}"] if message_id else []
    headers += [f"In-Reply-To: {in_reply_to}"] if in_reply_to else []
    headers += [f"References: {references}"] if references else []
    raw = ("\r\n".join(headers) + f"\r\n\r\n{body}\r\n").encode()
    message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)
    return Message.objects.get(account__user=user, uid=uid)


@pytest.fixture
def alice(db):
    return make_user("alice")


def subjects(thread):
    return [m.text.strip() for m in thread]


def test_a_thread_by_references(alice):
    root = store(alice, "1", "Plan", "root", message_id="<r@x>", date=1)
    store(alice, "2", "Re: Plan", "reply", message_id="<a@x>", in_reply_to="<r@x>", references="<r@x>", date=2)
    store(alice, "3", "Re: Plan", "deeper", message_id="<b@x>", in_reply_to="<a@x>", references="<r@x> <a@x>", date=3)
    store(alice, "4", "Plan", "another plan", message_id="<z@x>", date=4)
    for member in Message.objects.exclude(uid="4"):
        assert subjects(selectors.message_thread(user=alice, message=member)) == ["root", "reply", "deeper"]
    assert subjects(selectors.message_thread(user=alice, message=root)) == ["root", "reply", "deeper"]


def test_a_chain_of_in_reply_to_without_references_is_one_thread(alice):
    store(alice, "1", "Trip", "a", message_id="<a@x>", date=1)
    store(alice, "2", "Re: Trip", "b", message_id="<b@x>", in_reply_to="<a@x>", date=2)
    store(alice, "3", "Re: Trip", "c", message_id="<c@x>", in_reply_to="<b@x>", date=3)
    store(alice, "4", "Re: Trip", "d", message_id="<d@x>", in_reply_to="<c@x>", date=4)
    for uid in "1234":  # from any of them, down and up the chain
        member = Message.objects.get(uid=uid)
        assert subjects(selectors.message_thread(user=alice, message=member)) == ["a", "b", "c", "d"]


def test_mail_without_ids_is_grouped_by_its_subject(alice):
    first = store(alice, "1", "Quarterly numbers", "one", date=1)
    store(alice, "2", "RE: Fwd: quarterly  NUMBERS", "two", date=2)
    store(alice, "3", "Other", "three", date=3)
    assert subjects(selectors.message_thread(user=alice, message=first)) == ["one", "two"]


def test_the_page_opens_the_unread_and_the_last_and_marks_them_read(client, alice):
    root = store(alice, "1", "Plan", "root text", message_id="<r@x>", date=1)
    reply = store(alice, "2", "Re: Plan", "reply text", message_id="<a@x>", references="<r@x>", date=2)
    third = store(alice, "3", "Re: Plan", "third <b>text</b>", message_id="<c@x>", references="<r@x>", date=3)
    Message.objects.filter(id=root.id).update(seen=True)
    client.force_login(alice)
    page = client.get(reverse("webmail:conversation", args=[root.id])).content.decode()
    assert page.count('<details class="thread-message') == 3
    assert page.count(" open id=") == 3  # the two unread (the last among them) and the one asked for, read
    assert "third &lt;b&gt;text&lt;/b&gt;" in page and "<b>text</b>" not in page
    assert set(Message.objects.filter(id__in=[reply.id, third.id]).values_list("seen", flat=True)) == {True}


def test_read_ones_stay_folded(client, alice):
    root = store(alice, "1", "Plan", "root", message_id="<r@x>", date=1)
    middle = store(alice, "2", "Re: Plan", "middle", message_id="<a@x>", references="<r@x>", date=2)
    last = store(alice, "3", "Re: Plan", "last", message_id="<c@x>", references="<r@x>", date=3)
    Message.objects.update(seen=True)
    client.force_login(alice)
    page = client.get(reverse("webmail:conversation", args=[last.id])).content.decode()
    assert f'open id="m{last.id}"' in page
    assert f' id="m{root.id}"' in page and f'open id="m{root.id}"' not in page
    assert f'open id="m{middle.id}"' not in page


def test_another_users_thread_is_not_found_nor_joined(client, alice):
    bob = make_user("bob")
    mine = store(alice, "1", "Plan", "mine", message_id="<r@x>", date=1)
    store(bob, "1", "Re: Plan", "bob's", message_id="<q@x>", references="<r@x>", date=2)
    assert subjects(selectors.message_thread(user=alice, message=mine)) == ["mine"]
    client.force_login(bob)
    assert client.get(reverse("webmail:conversation", args=[mine.id])).status_code == 404


def test_deleted_messages_are_left_out(alice):
    root = store(alice, "1", "Plan", "root", message_id="<r@x>", date=1)
    reply = store(alice, "2", "Re: Plan", "reply", message_id="<a@x>", references="<r@x>", date=2)
    organize.messages_act(user=alice, ids=[reply.id], action="delete")
    organize.messages_act(user=alice, ids=[reply.id], action="delete")  # for good
    assert subjects(selectors.message_thread(user=alice, message=root)) == ["root"]
