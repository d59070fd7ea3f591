"""Hostile mail in a real browser: reading it runs no script, opens no dialog, does not navigate the
page and fetches nothing from any other host (watched by a recording proxy outside the browser)."""
from pathlib import Path

import pytest

from spooler.services.inbound import message_store
from tests.fixtures.browser import login
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def test_the_proxy_sees_remote_fetches(browser_context, recording_proxy):
    """The control: a page that does fetch remote content is seen by the proxy."""
    page = browser_context.new_page()
    page.set_content('<img src="http://remote.example/pixel.png">')
    page.wait_for_load_state("networkidle")
    assert any("remote.example" in request for request in recording_proxy.requests)


def test_hostile_corpus_is_inert_in_the_browser(live_server, browser_context, recording_proxy):
    reader = make_user("reader")
    account = reader.mail_accounts.get()
    files = sorted((CORPUS / "eml-html").glob("*.eml")) + sorted((CORPUS / "eml").glob("*.eml"))
    messages = [message_store(account=account, uid=path.name, raw=path.read_bytes()) for path in files]
    login(browser_context, live_server, reader)
    page = browser_context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.messages tbody tr").count() == len(files)

    for message in messages:
        url = f"{live_server.url}/message/{message.id}/"
        page.goto(url, wait_until="load")  # images and frames, remote ones included, finish before "load"
        assert page.url == url, f"{message.uid} navigated the page"
        assert page.locator("pre.body").count() == 1
        assert page.locator("pre.body script, pre.body img, pre.body iframe, pre.body form").count() == 0
    page.wait_for_load_state("networkidle")
    assert dialogs == []
    assert recording_proxy.requests == []
