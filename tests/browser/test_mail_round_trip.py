"""Writing and answering mail in a real browser, delivered by the real parts: Chromium → the site → the spool →
a Celery worker over a private Redis → SMTP (aiosmtpd) → Dovecot → the poll → the other user's pages.
Two attachments arrive; reply all and forward carry the thread; send later waits in the Outbox."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from mailsite.mailboxes.models import Message
from spooler.models import OutboxMessage
from tests.fixtures.browser import login
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def arrived(user, subject, timeout=60):
    found = wait_for(lambda: Message.objects.filter(user=user, subject=subject).first(), timeout=timeout, interval=0.3)
    assert found, f"{subject!r} did not reach {user.username}"
    return found


def send(page, live_server, *, to="", cc="", subject=None, text=None, files=(), send_at=None):
    """Fill what is given on the open compose page and press Send."""
    if to:
        page.fill("#id_to", to)
    if cc:
        page.fill("#id_cc", cc)
    if subject is not None:
        page.fill("#id_subject", subject)
    if text is not None:
        page.fill("#id_text", text)
    if files:
        page.set_input_files("#id_attachments", [str(f) for f in files])
    if send_at:
        page.fill("#id_send_at", send_at)
    page.click("#compose-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/outbox/$"))


@pytest.fixture
def people(mail_sandbox, celery_worker, live_server, browser_context, settings, chromium):
    settings.UNDO_SEND_SECONDS = 1
    users = {name: make_user(name, sandbox=mail_sandbox) for name in ("alice", "bob", "carol")}
    pages = {}
    for name in ("alice", "bob"):
        context = chromium.new_context()  # each their own cookies; traffic stays on 127.0.0.1
        login(context, live_server, users[name])
        pages[name] = context.new_page()
    yield users, pages
    for page in pages.values():
        page.context.close()


def address(user):
    return user.mail_accounts.get().address


def test_two_attachments_arrive_then_reply_all_and_forward_keep_the_thread(people, live_server, tmp_path):
    users, pages = people
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    (tmp_path / "plan.txt").write_text("the plan\n")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)

    page = pages["alice"]
    page.goto(f"{live_server.url}/compose/")
    send(page, live_server, to=address(bob), cc=address(carol), subject="Trip plan", text="Both files attached.",
         files=[tmp_path / "plan.txt", tmp_path / "photo.png"])
    original = arrived(bob, "Trip plan")
    assert sorted(a.safe_filename for a in original.attachments.all()) == ["photo.png", "plan.txt"]
    photo = original.attachments.get(filename="photo.png")
    assert photo.size == 8 + 256 * 40

    # Bob sees both files on the message page and answers everyone.
    page = pages["bob"]
    page.goto(f"{live_server.url}/message/{original.id}/")
    assert page.locator("ul.attachments li").count() == 2
    page.get_by_role("link", name="Reply all").click()
    page.wait_for_url(re.compile(r".*/compose/\?reply_all=\d+$"))
    assert address(alice) in page.locator("#id_to").input_value()
    cc = page.locator("#id_cc").input_value()
    assert address(carol) in cc and address(bob) not in cc  # not to himself
    assert page.locator("#id_subject").input_value() == "Re: Trip plan"
    assert "> Both files attached." in page.locator("#id_text").input_value()
    send(page, live_server, text="Count me in.\n\n" + page.locator("#id_text").input_value())
    reply = arrived(alice, "Re: Trip plan")
    assert reply.in_reply_to == original.message_id and original.message_id in reply.references
    assert arrived(carol, "Re: Trip plan").conversation_id == Message.objects.get(
        user=carol, subject="Trip plan").conversation_id

    # Alice's conversation page holds the reply.
    pages["alice"].goto(f"{live_server.url}/message/{reply.id}/conversation/")
    assert "Count me in." in pages["alice"].locator("section.conversation-view").inner_text()

    # Bob forwards the original to Carol, with its files.
    page.goto(f"{live_server.url}/message/{original.id}/")
    page.get_by_role("link", name="Forward").click()
    assert page.locator("#id_subject").input_value() == "Fwd: Trip plan"
    send(page, live_server, to=address(carol))
    forwarded = arrived(carol, "Fwd: Trip plan")
    assert "Both files attached." in forwarded.text


def test_send_later_waits_in_the_outbox_with_its_time(people, live_server, mail_sandbox):
    users, pages = people
    page = pages["alice"]
    page.goto(f"{live_server.url}/compose/")
    later = timezone.localtime(timezone.now() + timedelta(hours=2))  # the browser's zone is the site's (UTC)
    send(page, live_server, to=address(users["bob"]), subject="Later, please", text="Not now.",
         send_at=later.strftime("%Y-%m-%dT%H:%M"))
    row = OutboxMessage.objects.get(subject="Later, please")
    assert row.not_before and abs((row.not_before - later.replace(second=0, microsecond=0)).total_seconds()) < 1
    assert "Later, please" in page.locator("#outbox").inner_text()
    # The worker does not send it before its time (the sweeper runs every second in this worker).
    assert not wait_for(lambda: OutboxMessage.objects.get(id=row.id).status != "queued", timeout=4, interval=0.5)
    assert not Message.objects.filter(subject="Later, please").exists()
