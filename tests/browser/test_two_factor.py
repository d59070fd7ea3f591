"""Two-factor login in a real browser under the site's CSP: the set-up page's QR code (an SVG data: image) loads,
the first code shows the recovery codes, and the next login asks for a code after the password. Also the lockout
page after too many wrong passwords."""
import base64
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def code_for(key: str, *, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    yield page
    # (a CSP violation is a console error; the lockout page's own 429 is one too, and expected)
    assert [p for p in problems if "status of 429" not in p] == []


def log_in(page, live_server, username, password=PASSWORD):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def test_set_up_then_log_in_with_a_code(live_server, page):
    make_user("erin")
    log_in(page, live_server, "erin")
    page.goto(live_server.url + "/settings/two-factor/")
    with page.expect_navigation():
        page.get_by_role("button", name="Set up two-factor login").click()
    qr = page.locator("#totp-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG loaded under the CSP
    key = page.locator("#totp-key").inner_text()
    page.fill("#id_code", code_for(key))
    with page.expect_navigation():
        page.get_by_role("button", name="Turn two-factor login on").click()
    assert page.locator("#recovery-codes li").count() == 10

    with page.expect_navigation():
        page.locator("form.logout button[type=submit]").click()
    log_in(page, live_server, "erin")
    assert "/accounts/login/code/" in page.url
    page.goto(live_server.url + "/contacts/")
    assert "/accounts/login/code/" in page.url  # no page before the code
    TOTPDevice.objects.filter(user__username="erin").update(last_t=-1)  # (as if the set-up were a while ago)
    page.fill("#id_code", code_for(key))
    with page.expect_navigation():
        page.locator("#login-code-form button[type=submit]").click()
    assert page.url.rstrip("/").endswith("/contacts")


def test_too_many_wrong_passwords_show_the_lockout_page(live_server, page, settings):
    make_user("fred")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(page, live_server, "fred", "wrong password")
    log_in(page, live_server, "fred")
    assert "Too many failed logins" in page.locator("#locked-out").inner_text()
