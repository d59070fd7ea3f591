"""Adding a mail account in a real browser, against the real parts: Chromium → the site → a ConnectionTest row →
a Celery worker over a private Redis → the sandbox's Dovecot (POP3) and aiosmtpd (SMTP AUTH). "Test connection"
goes green without a reload, then red with a wrong password; the ports follow the security; the account is saved
and listed (a screenshot of the form under var/screenshots/, to look at). Compose takes an identity's signature."""
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from mailsite.mailboxes.models import ConnectionTest, Identity, MailAccount
from tests.fixtures.browser import login
from tests.fixtures.celery_worker import CeleryWorker, worker_env
from tests.fixtures.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_MS = 60_000  # an upper bound for the worker to answer, not a timing
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def test_worker(django_db_setup, django_db_blocker, redis_server, mail_sandbox, tmp_path_factory):
    """A worker whose administrator allows the sandbox (127.0.0.1, any port) for accounts users set up."""
    tmp = tmp_path_factory.mktemp("account-worker")
    with django_db_blocker.unblock():
        env = worker_env(redis_url=redis_server.url, sandbox=mail_sandbox, MAIL_ALLOWED_HOSTS="127.0.0.1",
                         MAIL_TIMEOUT="5")
    worker = CeleryWorker(env=env, log=tmp / "worker.log", concurrency=1)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def setup_page(test_worker, live_server, browser_context, mail_sandbox, settings):
    settings.MAIL_ALLOWED_HOSTS = ["127.0.0.1"]  # the site's own check, on save
    user = get_user_model().objects.create_user(username="dora", password=PASSWORD)
    address = f"dora@{mail_sandbox.config.domain}"
    mail_sandbox.add_user(address, "dora-mailbox-pw")
    login(browser_context, live_server, user)
    page = browser_context.new_page()
    yield user, address, page
    page.close()


def test_add_an_account_test_it_green_then_red_and_save_it(setup_page, live_server, mail_sandbox):
    user, address, page = setup_page
    c = mail_sandbox.config
    page.goto(f"{live_server.url}/mail-accounts/")
    page.get_by_role("link", name="Add account").click()
    page.wait_for_url(re.compile(r".*/mail-accounts/add/$"))

    # The presets: the usual port follows the protocol and security, until a port of one's own is typed.
    port = page.locator("#id_incoming_port")
    page.select_option("#id_incoming_protocol", "pop3")
    page.select_option("#id_incoming_security", "tls")
    expect(port).to_have_value("995")
    page.select_option("#id_incoming_protocol", "imap")
    expect(port).to_have_value("993")
    page.select_option("#id_incoming_security", "starttls")
    expect(port).to_have_value("143")
    page.select_option("#id_smtp_security", "tls")
    expect(page.locator("#id_smtp_port")).to_have_value("465")
    page.select_option("#id_smtp_security", "none")
    expect(page.locator("#id_smtp_port")).to_have_value("25")

    page.fill("#id_address", address)
    page.fill("#id_display_name", "Dora")
    page.select_option("#id_incoming_protocol", "pop3")
    page.select_option("#id_incoming_security", "none")
    page.fill("#id_incoming_host", c.host)
    port.fill(str(c.pop3_port))
    page.select_option("#id_incoming_security", "starttls")
    expect(port).to_have_value(str(c.pop3_port))  # typed: kept
    page.select_option("#id_incoming_security", "none")
    page.fill("#id_incoming_username", address)
    page.fill("#id_incoming_password", "dora-mailbox-pw")
    page.fill("#id_smtp_host", c.host)
    page.fill("#id_smtp_port", str(c.smtp_port))
    page.fill("#id_smtp_username", address)
    page.fill("#id_smtp_password", "dora-mailbox-pw")

    page.evaluate("window.notReloaded = true")
    page.click("#test-connection")
    incoming, smtp = page.locator("#test-incoming"), page.locator("#test-smtp")
    expect(incoming).to_have_class(re.compile(r"\btest-ok\b"), timeout=WAIT_MS)
    expect(smtp).to_have_class(re.compile(r"\btest-ok\b"), timeout=WAIT_MS)
    expect(incoming).to_have_text("Connected.")
    assert page.evaluate("window.notReloaded === true")
    first = ConnectionTest.objects.get()
    assert (first.status, first.incoming_password, first.smtp_password) == ("done", "", "")

    page.fill("#id_incoming_password", "not-the-password")
    page.fill("#id_smtp_password", "not-the-password")
    page.click("#test-connection")
    expect(incoming).to_have_class(re.compile(r"\btest-bad\b"), timeout=WAIT_MS)
    expect(smtp).to_have_class(re.compile(r"\btest-bad\b"), timeout=WAIT_MS)
    expect(incoming).to_have_text(re.compile("wrong user name or password", re.I))
    expect(smtp).to_have_text(re.compile("wrong user name or password", re.I))
    assert page.evaluate("window.notReloaded === true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "account-setup-1280.png"), full_page=True)  # to look at

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/mail-accounts/$"))
    expect(page.locator("table.accounts-table")).to_contain_text(address)
    account = MailAccount.objects.get(user=user)
    assert (account.incoming_port, account.smtp_port, account.smtp_username) == (c.pop3_port, c.smtp_port, address)
    assert account.incoming_password == "not-the-password"  # saved as typed (the test only tells)
    page.goto(f"{live_server.url}/mail-accounts/{account.id}/")
    assert "not-the-password" not in page.content()


def test_a_test_the_worker_never_picks_up_says_so(setup_page, live_server, mail_sandbox, settings, monkeypatch):
    settings.MAIL_TEST_PICKUP_SECONDS = 0  # every queued test is already "lost"
    from spooler import tasks

    monkeypatch.setattr(tasks.connection_test, "apply_async", lambda *a, **k: None)  # never reaches a worker
    _user, address, page = setup_page
    page.goto(f"{live_server.url}/mail-accounts/add/")
    page.fill("#id_incoming_host", mail_sandbox.config.host)
    page.fill("#id_incoming_username", address)
    page.fill("#id_smtp_host", mail_sandbox.config.host)
    page.fill("#id_smtp_username", address)
    page.click("#test-connection")
    expect(page.locator("#test-incoming")).to_have_text(re.compile("did not pick it up"), timeout=WAIT_MS)
    assert ConnectionTest.objects.get().status == "queued"


def test_compose_switches_to_an_identitys_signature(live_server, browser_context):
    user = make_user("erin")
    account = user.mail_accounts.get()
    MailAccount.objects.filter(id=account.id).update(signature="Erin")
    identity = Identity.objects.create(account=account, name="Erin at work", address="erin@work.example",
                                       signature="Erin, Example Ltd")
    login(browser_context, live_server, user)
    page = browser_context.new_page()
    page.goto(f"{live_server.url}/compose/")
    text = page.locator("#id_text")
    expect(text).to_have_value("\n\n-- \nErin\n")
    page.select_option("#id_account", f"{account.id}:{identity.id}")
    expect(text).to_have_value("\n\n-- \nErin, Example Ltd\n")
    expect(page.locator("#id_account option:checked")).to_have_text("Erin at work <erin@work.example>")
