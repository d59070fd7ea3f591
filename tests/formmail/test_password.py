"""Password reset by email (Django's views and tokens, our templates, the mail through the spool) and change."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from spooler.models import OutboxMessage
from tests.fixtures.users import PASSWORD, make_user
from tests.formmail.helpers import spooled

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new and long passphrase"


@pytest.fixture
def dora(db):
    return make_user("dora")


def reset_link(message) -> str:
    [link] = re.findall(r"https?://\S+/accounts/reset/\S+/", message.get_body(("plain",)).get_content())
    return link


@pytest.mark.parametrize("name", ["password_reset", "password_reset_done", "password_reset_complete"])
def test_the_reset_pages_are_public(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert '<link rel="stylesheet"' in response.content.decode()  # the site's own page (base.html)


def test_the_login_page_links_to_the_reset_and_the_contact_form(client):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}">Forgot your password?</a>' in html
    assert f'href="{reverse("formmail:contact")}"' in html


def test_a_reset_mail_is_spooled_with_a_text_and_an_html_body_and_its_link_sets_the_password(client, dora):
    assert dora.email == dora.mail_accounts.get().address
    response = client.post(reverse("password_reset"), {"email": dora.email.upper()}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    row = OutboxMessage.objects.get()
    assert row.recipients == [dora.email] and row.status == "queued"
    [message] = spooled()
    assert message["Subject"] == "Reset your password on testserver"
    link = reset_link(message)
    assert link.startswith("http://testserver/accounts/reset/")  # the host the visitor used
    html = message.get_body(("html",)).get_content()
    assert f'<a href="{link}">' in html and "dora" in html
    # The link leads to the form that sets a new password.
    page = client.get(link, follow=True)
    assert page.status_code == 200 and b'id="password-set-form"' in page.content
    done = client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    dora.refresh_from_db()
    assert dora.check_password(NEW_PASSWORD)
    # Used once: the same link is no longer valid.
    assert b"This link is not valid any more" in client.get(link, follow=True).content


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, dora):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.test"}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert OutboxMessage.objects.count() == 0


def test_a_line_break_in_the_address_is_an_error_and_no_mail(client, dora):
    response = client.post(reverse("password_reset"), {"email": dora.email + "\r\nBcc: x@example.com"},
                           REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 200 and b'id="email-error"' in response.content
    assert OutboxMessage.objects.count() == 0


def test_resets_are_limited_per_client(client, dora, settings):
    settings.PASSWORD_RESET_RATE_PER_IP = "2/h"
    codes = [client.post(reverse("password_reset"), {"email": dora.email}, REMOTE_ADDR="192.0.2.5").status_code
             for _ in range(3)]
    assert codes == [302, 302, 429]
    assert OutboxMessage.objects.count() == 2
    response = client.post(reverse("password_reset"), {"email": dora.email}, REMOTE_ADDR="192.0.2.5")
    assert b"Too many password resets" in response.content and dora.email.encode() in response.content


def test_a_bad_link_says_so(client, dora):
    page = client.get(reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "nope-nope"}))
    assert page.status_code == 200 and b"This link is not valid any more" in page.content


def test_change_password_is_linked_from_the_settings_and_needs_the_old_one(client, dora):
    assert client.get(reverse("password_change"))["Location"].startswith(reverse("login"))  # not logged in
    client.force_login(dora)
    page = client.get(reverse("settings")).content.decode()
    assert f'href="{reverse("password_change")}" class="password-change">Change password</a>' in page
    wrong = client.post(reverse("password_change"), {"old_password": "wrong", "new_password1": NEW_PASSWORD,
                                                     "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 200 and b'id="old_password-error"' in wrong.content
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert b"Your password is changed" in client.get(reverse("password_change_done")).content
    assert get_user_model().objects.get(id=dora.id).check_password(NEW_PASSWORD)
