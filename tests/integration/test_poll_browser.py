"""In a real browser (Chromium), against the live server and a real worker (no beat: only "Check now" polls):
the new messages and the account's status appear in the inbox without a reload; an attachment downloads
under a safe name."""
import os
import re
from pathlib import Path

import pytest

from spooler.sessions import Attachment, Email
from tests.fixtures.browser import login
from tests.fixtures.inbound import publish_to_session_redis, start_worker
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _publisher():
    publish_to_session_redis()
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name):
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def context(chromium):
    # No proxy here: Chromium sends downloads from localhost through a configured proxy (the shared
    # browser_context's recording proxy answers 502), and this test is about the inbox, not remote content.
    context = chromium.new_context(accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def worker(mail_sandbox, redis_server, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # the web side reads the attachments the worker stores
    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=False, name="browser")
    yield worker
    worker.stop()


def test_check_now_shows_new_mail_without_reloading(live_server, context, mail_sandbox, worker):
    user = make_user("browsing", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    login(context, live_server, user)
    page = context.new_page()
    page.set_viewport_size({"width": 1100, "height": 800})  # two panes: a message opens on its own page
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: response.status >= 500 and problems.append(f"{response.status} {response.url}"))
    page.goto(f"{live_server.url}/")
    assert page.locator("#message-rows").inner_text().strip() == "No messages."
    assert "Not checked yet." in page.locator("#account-status").inner_text()

    mail_sandbox.deliver(account.address, Email(
        sender="Carol <carol@example.test>", to=[account.address], subject="Minutes of Monday",
        text="See the minutes attached.",
        attachments=[Attachment("../Mïnutes \u202etxt.html", "text/html", b"<script>alert(1)</script>")],
    ).to_bytes())
    mail_sandbox.deliver(account.address, b"Subject: A second one\r\nFrom: dan@example.test\r\n\r\nhello\r\n")
    page.evaluate("window.__notReloaded = true")  # a reload would drop this
    page.get_by_role("button", name="Check now").click()
    page.locator("#message-rows tr", has_text="Minutes of Monday").wait_for(timeout=30_000)
    page.locator("#message-rows tr", has_text="A second one").wait_for(timeout=10_000)
    page.locator("#account-status", has_text="2 new").wait_for(timeout=10_000)
    assert page.evaluate("window.__notReloaded") is True
    assert page.url == f"{live_server.url}/"
    status = page.locator("#account-status").inner_text()
    assert "Checked just now, 2 new." in status, status
    shot(page, "inbox-after-check-now")

    page.get_by_role("link", name="Minutes of Monday").click()
    link = page.locator("ul.attachments a")
    assert link.inner_text() == "Mïnutes txt.html"
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "Mïnutes txt.html"
    assert Path(download.path()).read_bytes() == b"<script>alert(1)</script>"
    assert page.url.startswith(f"{live_server.url}/message/")  # downloaded, not opened
    shot(page, "message-with-attachment")
    assert problems == []  # no CSP violation, no script error


def test_first_sync_progress_is_shown_live(live_server, context, mail_sandbox, redis_server, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = make_user("bigbox", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    total = 300
    for n in range(total):
        mail_sandbox.deliver(account.address, f"Subject: old mail {n}\r\nFrom: a@example.test\r\n\r\n{n}\r\n".encode())
    slow = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=False, name="slow",
                        POLL_TEST_STORE_DELAY_SECONDS=0.02)
    try:
        login(context, live_server, user)
        page = context.new_page()
        problems = []
        page.on("response", lambda response: response.status >= 500 and problems.append(f"{response.status} {response.url}"))
        page.goto(f"{live_server.url}/")
        page.evaluate("window.__notReloaded = true")
        page.get_by_role("button", name="Check now").click()
        status = page.locator("#account-status .status-text")
        status.filter(has_text=re.compile(r"Downloading: [1-9][0-9]* of 300")).wait_for(timeout=30_000)
        shot(page, "inbox-first-sync-progress")
        page.locator("#message-rows tr", has_text="old mail 299").wait_for(timeout=30_000)  # rows came in live
        status.filter(has_text="Checked just now, 300 new.").wait_for(timeout=30_000)
        assert page.evaluate("window.__notReloaded") is True
        assert page.locator("#message-rows tr").count() == 50  # the first page of the inbox
        assert page.locator("#inbox-pager a[rel=next]").inner_text().strip() == "Older"  # the pager came too
        assert problems == []
    finally:
        slow.stop()
