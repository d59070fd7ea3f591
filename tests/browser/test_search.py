"""Search in a real browser: "/" focuses the box in the header, type, Enter, see the result with the word marked;
no sideways scroll, and screenshots of the results at 1280 and 375 px under var/screenshots/."""
from pathlib import Path

import pytest

from spooler.services.inbound.store import message_store
from tests.fixtures.browser import login
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def mail(n: int, word: str = "") -> bytes:
    return (f'From: "Sender {n}" <sender{n}@example.org>\r\nTo: reader@example.test\r\n'
            f"Subject: Message number {n} with a fairly long subject line\r\n\r\n"
            + "Some ordinary words about the week. " * 5 + word + " and more words after it. " * 5 + "\r\n").encode()


@pytest.fixture
def search_page(live_server, browser_context):
    reader = make_user("reader")
    account = reader.mail_accounts.get()
    for n in range(5):
        message_store(account=account, uid=str(n), raw=mail(n))
    wanted = message_store(account=account, uid="z", raw=mail(9, "zeppelin"))
    login(browser_context, live_server, reader)
    page = browser_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, wanted
    assert errors == []


def test_type_in_the_box_press_enter_and_see_the_result(live_server, search_page):
    page, wanted = search_page
    page.goto(live_server.url + "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.type("zeppelin")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/search/?q=zeppelin" in page.url
    rows = page.locator("tr[data-message]")
    assert rows.count() == 1 and rows.first.get_attribute("data-message") == str(wanted.id)
    assert page.locator("tr[data-message] .snippet mark").first.inner_text() == "zeppelin"
    assert page.locator("#search-q").input_value() == "zeppelin"
    page.locator("tr[data-message] td.subject a").click()
    page.wait_for_url(f"**/message/{wanted.id}/")


@pytest.mark.parametrize("width", [1280, 375])
def test_results_fit_and_screenshots(live_server, search_page, width):
    page, _ = search_page
    page.set_viewport_size({"width": width, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server.url + "/search/?q=words")
    page.wait_for_load_state("networkidle")
    assert page.locator("tr[data-message]").count() == 6
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"search at {width} px is {scroll} px wide"
    page.screenshot(path=str(SHOTS / f"search-{width}.png"), full_page=True)
