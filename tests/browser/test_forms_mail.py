"""Forms that send mail, in a real browser, delivered by the real parts: Chromium → the site → the spool → a Celery
worker over a private Redis → SMTP (aiosmtpd) → Dovecot, read back over POP3.

The contact form as an anonymous visitor (errors beside the fields and the rate limit's message at the top on the
way); password reset from the login page to logging in with the new password; change password when logged in;
the pages at 1280 and 375 px without sideways scroll (screenshots under var/screenshots/)."""
import email
import email.policy
import poplib
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.fixtures.browser import login
from tests.fixtures.users import PASSWORD
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a new and long passphrase"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def pop3_messages(sandbox, user) -> list[email.message.EmailMessage]:
    """Every message in the sandbox mailbox of `user` (a SandboxUser), read over POP3 and left there."""
    pop = poplib.POP3(sandbox.config.host, sandbox.config.pop3_port, timeout=10)
    try:
        pop.user(user.address)
        pop.pass_(user.password)
        count, _size = pop.stat()
        return [email.message_from_bytes(b"\r\n".join(pop.retr(n + 1)[1]), policy=email.policy.default)
                for n in range(count)]
    finally:
        pop.quit()


def arrived(sandbox, user, subject):
    found = wait_for(lambda: [m for m in pop3_messages(sandbox, user) if m["Subject"] == subject], timeout=60,
                     interval=0.5)
    assert found, f"{subject!r} did not reach {user.address}"
    return found


@pytest.fixture
def site(settings, celery_worker, live_server, rate_limit_redis):
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"  # (pytest-django's default keeps mail in memory)
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    return live_server


def test_the_contact_form_reaches_the_contact_mailbox_with_reply_to_the_visitor(
        site, settings, mail_sandbox, sandbox_user, browser_context):
    settings.CONTACT_EMAIL = sandbox_user.address
    settings.CONTACT_RATE_PER_IP = "1/h"
    page = browser_context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_role("link", name="Contact us").click()
    page.wait_for_url(re.compile(r".*/contact/$"))
    # The honeypot is not for people: nothing of it shows (where it lies, what shows is not the field).
    assert page.locator("#id_website").evaluate(
        "f => { f.scrollIntoView({block: 'center'}); const r = f.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        " return hit !== null && hit !== f; }")
    page.fill("#id_name", "Vera Visitor")
    page.fill("#id_email", "vera@visitor")
    page.fill("#id_subject", "Opening hours")
    page.fill("#id_message", "When are you open? <b>Thanks</b>")
    page.click("#contact-form button[type=submit]")
    # A bad address: the error beside the field, what was typed kept.
    assert page.locator("#email-error").inner_text() == "Enter a valid email address."
    assert page.locator("#id_message").input_value() == "When are you open? <b>Thanks</b>"
    page.fill("#id_email", "vera@visitor.example")
    page.click("#contact-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/contact/thanks/$"))
    assert "Your message is on its way" in page.locator("main").inner_text()

    [message] = arrived(mail_sandbox, sandbox_user, "Contact form: Opening hours")
    assert message["Reply-To"].addresses[0].addr_spec == "vera@visitor.example"
    assert message["Reply-To"].addresses[0].display_name == "Vera Visitor"
    assert "When are you open? <b>Thanks</b>" in message.get_body(("plain",)).get_content()
    assert "When are you open? &lt;b&gt;Thanks&lt;/b&gt;" in message.get_body(("html",)).get_content()

    # A second message from the same visitor is over CONTACT_RATE_PER_IP: the message at the top, the text kept.
    page.goto(f"{site.url}/contact/")
    page.fill("#id_name", "Vera Visitor")
    page.fill("#id_email", "vera@visitor.example")
    page.fill("#id_subject", "Once more")
    page.fill("#id_message", "Did you get my message?")
    page.click("#contact-form button[type=submit]")
    assert "Too many messages" in page.locator("#contact-form [role=alert]").inner_text()
    assert page.locator("#id_message").input_value() == "Did you get my message?"
    assert not [m for m in pop3_messages(mail_sandbox, sandbox_user) if m["Subject"] == "Contact form: Once more"]


def test_password_reset_from_the_login_page_to_logging_in_with_the_new_password(
        site, mail_sandbox, sandbox_user, browser_context):
    get_user_model().objects.create_user(username="dora", email=sandbox_user.address, password=PASSWORD)
    page = browser_context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.fill("#id_email", sandbox_user.address)
    page.click("#password-reset-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/password_reset/done/$"))

    [message] = arrived(mail_sandbox, sandbox_user, f"Reset your password on {site.url.split('://')[1]}")
    [link] = re.findall(r"http://\S+/accounts/reset/\S+/", message.get_body(("plain",)).get_content())
    assert link.startswith(f"{site.url}/accounts/reset/")  # the site the visitor used
    page.goto(link)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("#password-set-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/reset/done/$"))

    page.get_by_role("link", name="Log in").click()
    page.fill("#id_username", "dora")
    page.fill("#id_password", NEW_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{site.url}/")
    assert page.locator("header .who").inner_text() == "dora"


def test_change_password_when_logged_in(site, browser_context):
    user = get_user_model().objects.create_user(username="erin", email="erin@example.test", password=PASSWORD)
    login(browser_context, site, user)
    page = browser_context.new_page()
    page.goto(f"{site.url}/")
    page.locator("header").get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Change password").click()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD + "typo")
    page.click("#password-change-form button[type=submit]")
    assert page.locator("#new_password2-error").is_visible()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("#password-change-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/password_change/done/$"))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)


@pytest.mark.parametrize("width", [1280, 375])
def test_the_pages_do_not_scroll_sideways_and_screenshots(live_server, browser_context, width):
    user = get_user_model().objects.create_user(username="fred", email="fred@example.test", password=PASSWORD)
    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = [("login", "/accounts/login/"), ("contact", "/contact/"), ("contact-thanks", "/contact/thanks/"),
             ("password-reset", "/accounts/password_reset/"), ("password-reset-done", "/accounts/password_reset/done/")]
    for name, path in pages:
        page.goto(live_server.url + path)
        if name == "contact":  # with its errors beside the fields
            page.fill("#id_email", "not an address")
            page.click("#contact-form button[type=submit]")
            page.locator("#email-error").wait_for()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} at {width} px is {scroll} px wide"
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    login(browser_context, live_server, user)
    page.goto(live_server.url + "/accounts/password_change/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"password-change-{width}.png"), full_page=True)
