"""The folders in a real browser: star, move to Trash and restore, three shortcuts, no sideways scroll on a phone;
and screenshots of the inbox and a message at 1280 and 375 px under var/screenshots/ (to look at)."""
from pathlib import Path

import pytest

from mailsite.mailboxes.models import Message
from mailsite.mailboxes.placement import Box
from spooler.services.inbound.store import message_store
from tests.fixtures.browser import login
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def mail(n: int) -> bytes:
    headers = (f'From: "Newsletter {n}" <news{n}@example.org>\r\nTo: reader@example.test\r\n'
               f"Subject: Weekly deals number {n} with a long subject line that has to fit\r\n"
               f"Date: Thu, 3 Dec 2026 0{n % 10}:00:00 +0000\r\n\r\n")
    return (headers + f"See the deal at https://example.org/deal/{n} and a long line of words. " * 3 + "\r\n").encode()


HTML_NEWSLETTER = (
    b'From: "Deals" <deals@example.org>\r\nTo: reader@example.test\r\nSubject: This week\'s deals\r\n'
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<table width="600" style="border:1px solid #ccc"><tr><td style="padding:12px;background:#f0f4ff">'
    b"<h2 style=\"color:#1d4ed8\">Weekly deals</h2><p>See <a href=\"https://example.org/deal\">the deal</a>"
    b' and <img src="https://tracker.example/pixel.gif" alt="a remote image"> here.</p>'
    b"<ul><li>One</li><li>Two</li></ul></td></tr></table>\r\n")


@pytest.fixture
def reader_page(live_server, browser_context):
    reader = make_user("reader")
    account = reader.mail_accounts.get()
    stored = [message_store(account=account, uid=str(n), raw=mail(n)) for n in range(6)]
    login(browser_context, live_server, reader)
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, stored, errors
    assert errors == []


def test_star_trash_and_restore(live_server, reader_page):
    page, stored, _ = reader_page
    newest = stored[-1]
    page.goto(live_server.url + "/")
    row = page.locator(f"tr[data-message='{newest.id}']")
    with page.expect_navigation():
        row.locator("button.star").click()
    assert Message.objects.get(id=newest.id).flagged
    assert page.locator(f"tr[data-message='{newest.id}'] button.star.on").count() == 1

    page.locator(f"tr[data-message='{newest.id}'] input[name=ids]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Delete", exact=True).click()
    assert Message.objects.get(id=newest.id).box == Box.TRASH
    assert page.locator(f"tr[data-message='{newest.id}']").count() == 0

    page.get_by_role("link", name="Trash").click()
    page.locator(f"tr[data-message='{newest.id}'] input[name=ids]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Restore").click()
    assert Message.objects.get(id=newest.id).box == Box.INBOX


def test_shortcuts_move_open_and_archive_and_never_fire_in_a_field(live_server, reader_page):
    page, stored, _ = reader_page
    page.set_viewport_size({"width": 1100, "height": 800})  # two panes: "o" opens the message page
    page.goto(live_server.url + "/")
    page.keyboard.press("j")
    page.keyboard.press("j")  # the second row: the second newest
    assert page.locator("tr.current").get_attribute("data-message") == str(stored[-2].id)
    with page.expect_navigation():
        page.keyboard.press("e")  # archive it
    assert Message.objects.get(id=stored[-2].id).box == Box.ARCHIVE
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/message/{stored[-1].id}/")
    page.keyboard.press("u")
    page.wait_for_url(live_server.url + "/")
    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcut-help").is_visible()
    # Typing in a field: "e" is a letter, not "archive".
    page.locator("#sort").focus()
    page.keyboard.press("j")
    page.keyboard.press("e")
    assert Message.objects.filter(box=Box.ARCHIVE).count() == 1


def test_a_wide_screen_reads_in_a_third_pane(live_server, reader_page):
    page, stored, _ = reader_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + "/")
    assert page.locator("#preview-pane").is_visible()
    page.locator(f"tr[data-message='{stored[-2].id}'] td.subject a").click()
    page.locator("#preview-pane article.message").wait_for()
    assert page.url == live_server.url + "/"  # the list stayed
    assert "number 4" in page.locator("#preview-pane h1").inner_text()
    assert Message.objects.get(id=stored[-2].id).seen
    # The message page's own links lead to that page, not to the list ("?headers=1" there).
    headers = page.locator("#preview-pane").get_by_role("link", name="All headers").get_attribute("href")
    assert headers == f"/message/{stored[-2].id}/?headers=1"
    assert "unseen" not in page.locator(f"tr[data-message='{stored[-2].id}']").get_attribute("class")
    # Its buttons act, and come back to the list.
    with page.expect_navigation():
        page.locator("#preview-pane").get_by_role("button", name="Archive").click()
    assert page.url == live_server.url + "/" and Message.objects.get(id=stored[-2].id).box == Box.ARCHIVE
    # The keyboard opens the current row there too.
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.locator(f"#preview-pane h1:has-text('number 5')").wait_for()
    assert page.url == live_server.url + "/"


@pytest.mark.parametrize("width", [1280, 375])
def test_no_sideways_scroll_and_screenshots(live_server, reader_page, width):
    page, stored, _ = reader_page
    page.set_viewport_size({"width": width, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    newsletter = message_store(account=stored[0].account, uid="html", raw=HTML_NEWSLETTER)
    pages = (("inbox", "/"), ("message", f"/message/{stored[-1].id}/"), ("outbox", "/outbox/"),
             ("message-html", f"/message/{newsletter.id}/"),
             ("compose", f"/compose/?reply_all={stored[-1].id}"), ("drafts", "/drafts/"), ("contacts", "/contacts/"),
             ("conversation", f"/message/{stored[-1].id}/conversation/"))
    for name, path in pages:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} at {width} px is {scroll} px wide"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
