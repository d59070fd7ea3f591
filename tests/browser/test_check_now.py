""""Check now" in the browser: asked too often, the inbox says so (the server's words, with JavaScript)."""
import pytest

from mailsite.celery import app as celery_app
from mailsite.mailboxes.models import MailAccount
from tests.fixtures.browser import login
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_asked_too_often_the_inbox_says_so(live_server, browser_context, settings, monkeypatch):
    settings.MAIL_CHECK_NOW_PER_MINUTE = 1
    published = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, kwargs, retry, **options: published.append(args))
    reader = make_user("reader")
    login(browser_context, live_server, reader)
    page = browser_context.new_page()
    page.goto(live_server.url + "/")
    button = page.locator("#check-now button")
    button.click()
    page.wait_for_function("() => !document.querySelector('#check-now button').disabled", timeout=10_000)
    assert len(published) == 1
    MailAccount.objects.update(poll_queued_at=None)  # (as if that poll ran: only the per-minute limit is left)
    button.click()
    note = page.locator("#check-now-note")
    note.wait_for(timeout=10_000)
    assert note.inner_text() == ("You asked to check for new mail too often; wait a minute. Mail is also checked "
                                 "periodically.")
    assert len(published) == 1
