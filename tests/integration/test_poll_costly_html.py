"""A mailbox holding HTML that is cheap to send and costly to parse, between normal messages, read by one ordinary
poll through Dovecot and a real Celery worker with the default time limits: every message is stored, the poll
finishes, the account shows nothing wrong, and each costly message is flagged with its raw bytes kept.

Before the HTML guard, one 300 kB message of nested <div> killed a worker five times in 75 s and its account
stored nothing. The outcome is asserted; the only clock is the hang timeout (times are in bench/html_guard.py).
"""
import pytest
from django.test import Client
from django.urls import reverse

from mailsite.mailboxes.models import MailAccount, Message
from spooler.services.inbound.store import HTML_TOO_COMPLEX_NOTE
from tests.fixtures.costly_html import HOSTILE, html_message
from tests.fixtures.inbound import forget_queued_tasks, publish_to_session_redis, start_worker
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for
from tests.spooler.inbound.conftest import simple

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

NOTE_START = HTML_TOO_COMPLEX_NOTE.split("(")[0]


@pytest.fixture(autouse=True)
def _publisher():
    publish_to_session_redis()


def test_costly_html_mailbox_is_stored_whole_by_one_poll(mail_sandbox, redis_server, tmp_path):
    user = make_user("costlyhtml", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    mail_sandbox.deliver(account.address, simple(0, "normal first"))
    for n, (name, markup) in enumerate(HOSTILE.items()):
        mail_sandbox.deliver(account.address, html_message(n, f"costly: {name}", markup))
    mail_sandbox.deliver(account.address, html_message(
        900, "costly with a text part", HOSTILE["80,000 nested div"], text="The plain-text part."))
    mail_sandbox.deliver(account.address, html_message(901, "normal html", "<p>Hello <b>there</b> &amp; welcome</p>"))
    mail_sandbox.deliver(account.address, simple(1, "normal last"))
    total = len(HOSTILE) + 4

    forget_queued_tasks(redis_server.url)
    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=False, name="costly",
                          POLL_MAX_MESSAGES=1000)
    try:
        client = Client()
        client.force_login(user)
        assert client.post(reverse("webmail:check_now"), HTTP_ACCEPT="application/json").json() == {"queued": 1}
        assert wait_for(lambda: Message.objects.filter(account=account).count() == total, timeout=480), \
            worker.log_text()[-3000:]
        assert wait_for(lambda: MailAccount.objects.get(id=account.id).last_poll_fetched == total, timeout=60)
    finally:
        worker.stop()

    account = MailAccount.objects.get(id=account.id)
    assert account.last_poll_error == ""
    assert "Hard time limit" not in worker.log_text() and "SoftTimeLimitExceeded" not in worker.log_text()
    for name in HOSTILE:
        message = Message.objects.get(account=account, subject=f"costly: {name}")
        assert message.parse_error, name
        assert "HTML not shown" in message.defects, name
        assert message.text.startswith(NOTE_START), name
        assert message.html == "" and message.has_html
        assert message.raw.startswith(b"From: Sender"), name
    # Beside a text part nothing parses the HTML when it is stored; the webmail's view checks it when it shows it.
    with_text = Message.objects.get(account=account, subject="costly with a text part")
    assert with_text.text.strip() == "The plain-text part."
    assert with_text.has_html and "HTML not shown" not in with_text.defects
    normal = Message.objects.get(account=account, subject="normal html")
    assert normal.text == "Hello there & welcome" and not normal.parse_error and "<b>there</b>" in normal.html
    assert Message.objects.filter(account=account, subject__in=["normal first", "normal last"],
                                  parse_error=False).count() == 2
    inbox = client.get(reverse("webmail:inbox")).content.decode()
    assert "costly: 80,000 nested div" in inbox and "normal last" in inbox
