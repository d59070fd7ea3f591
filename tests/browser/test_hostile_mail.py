"""Hostile mail in a real browser: reading it runs no script, opens no dialog, does not navigate the
page and fetches nothing from any other host (watched by a recording proxy outside the browser)."""
import pytest

from spooler.services.inbound.store import message_store
from tests import corpus
from tests.fixtures.browser import login
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_proxy_sees_remote_fetches(browser_context, recording_proxy):
    """The control: a page that does fetch remote content is seen by the proxy."""
    page = browser_context.new_page()
    page.set_content('<img src="http://remote.example/pixel.png">')
    page.wait_for_load_state("networkidle")
    assert any("remote.example" in request for request in recording_proxy.requests)


def test_hostile_corpus_is_inert_in_the_browser(live_server, browser_context, recording_proxy):
    reader = make_user("reader")
    account = reader.mail_accounts.get()
    files = corpus.require(corpus.all_mail(), at_least=70)
    messages = [message_store(account=account, uid=case.name, raw=case.data) for case in files]
    login(browser_context, live_server, reader)
    page = browser_context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    listed, url = 0, f"{live_server.url}/"
    while url:  # every page of the inbox lists its part of the corpus, hostile subjects and senders included
        page.goto(url)
        page.wait_for_load_state("networkidle")
        listed += page.locator("table.messages tbody tr").count()
        older = page.locator("nav.pager a[rel=next]")
        url = older.get_attribute("href") and live_server.url + "/" + older.get_attribute("href") if older.count() else None
    assert listed == len(files)

    for message in messages:
        url = f"{live_server.url}/message/{message.id}/"
        page.goto(url, wait_until="load")  # images and frames, remote ones included, finish before "load"
        assert page.url == url, f"{message.uid} navigated the page"
        # The text part as escaped text, or the HTML part in the sandboxed frame (tests/browser/test_reading.py).
        assert page.locator(".body.text, iframe.html-body").count() == 1
        assert page.locator(".body.text :is(script, img, iframe, form, svg)").count() == 0
    page.wait_for_load_state("networkidle")
    assert dialogs == []
    assert recording_proxy.requests == []
