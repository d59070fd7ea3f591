"""The site in Spanish for an es-ES browser in Europe/Madrid: the login page, the inbox and a message in Spanish with
Madrid's time (taken from the browser at the first login), and the language switch to English and back."""
import pytest

from mailsite.mailboxes.models import UserPreference
from spooler.services.inbound.store import message_store
from tests.fixtures.users import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)

# 12:00 UTC on a winter day: 13:00 in Madrid (CET).
RAW = (b"From: Ana <ana@example.test>\r\nTo: lector@example.test\r\nSubject: Cifras del trimestre\r\n"
       b"Date: Wed, 15 Jan 2025 12:00:00 +0000\r\nMessage-ID: <cifras@example.test>\r\n\r\nHola.\r\n")


@pytest.fixture
def spanish_page(chromium, recording_proxy):
    context = chromium.new_context(locale="es-ES", timezone_id="Europe/Madrid",
                                   proxy={"server": recording_proxy.url, "bypass": "127.0.0.1"})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_an_es_browser_in_madrid_gets_spanish_and_madrid_time(live_server, spanish_page):
    page = spanish_page
    reader = make_user("lector")
    message = message_store(account=reader.mail_accounts.get(), uid="1", raw=RAW)

    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "es"  # the login page, from Accept-Language
    assert page.locator("form.language-switch button").inner_text() == "English"
    page.fill("#id_username", "lector")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    # The inbox: Spanish, and the zone the browser reported saved as the user's.
    assert page.locator("h1#list-title").inner_text() == "Recibidos"
    assert page.locator("nav.folders").get_by_role("link", name="Enviados").count() == 1
    assert UserPreference.objects.get(user=reader).time_zone == "Europe/Madrid"
    row_date = page.locator(f"tr[data-message='{message.id}'] time")
    assert row_date.get_attribute("title") == "mié 15 de enero de 2025, 13:00 CET"
    assert row_date.inner_text() == "15 ene 2025"

    page.goto(f"{live_server.url}/message/{message.id}/")
    assert page.get_by_role("link", name="Responder a todos").count() == 1
    assert page.locator("dl.headers").inner_text().count("mié 15 de enero de 2025, 13:00 CET") == 1

    # The switch: English on the same page, saved for the user; then back.
    with page.expect_navigation():
        page.locator("form.language-switch").get_by_role("button", name="English").click()
    assert page.url == f"{live_server.url}/message/{message.id}/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Reply all").count() == 1
    assert "Wed 15 Jan 2025, 13:00 CET" in page.locator("dl.headers").inner_text()
    assert UserPreference.objects.get(user=reader).language == "en"

    with page.expect_navigation():
        page.locator("form.language-switch").get_by_role("button", name="Español").click()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("link", name="Responder a todos").count() == 1
    assert UserPreference.objects.get(user=reader).language == "es"
