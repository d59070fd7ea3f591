"""Error reports hide secrets, the DEBUG page included: the password of any URL in the settings or the request's
environment (REDIS_URL, CELERY_BROKER_URL, RATE_LIMIT_REDIS_URL, DATABASE_URL...), and the passwords posted to or
handled by the views and services marked sensitive (mail accounts, login, password change, API tokens)."""
import re
import sys
import uuid

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views.debug import technical_500_response

from mailsite.error_reports import url_password_mask
from mailsite.mailboxes.models import MailAccount
from tests.fixtures.users import PASSWORD
from tests.webmail.account_helpers import account_form_data


def _failing():
    url = settings.SOME_URLS[1]  # noqa: F841 - a frame's variable holding a URL
    raise RuntimeError("the broker is down")


def _error_page(request) -> str:
    """The DEBUG page of an error (this frame and _failing's in its traceback; not the test's, which made the
    passwords)."""
    try:
        _failing()
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_the_debug_page_masks_the_password_of_every_url():
    # Made now: the page also shows this file's source around the failing lines.
    pw = {name: uuid.uuid4().hex for name in ("broker", "limits", "list", "db", "frame")}
    broker = f"redis://:{pw['broker']}@redis.internal:6379/0"
    with override_settings(DEBUG=True, REDIS_URL=broker, CELERY_BROKER_URL=broker,
                           RATE_LIMIT_REDIS_URL=f"rediss://limits:{pw['limits']}@redis.internal:6380/1",
                           SOME_URLS=[f"amqp://guest:{pw['list']}@rabbit.internal//",
                                      f"redis://:{pw['frame']}@redis.internal:6379/0"]):
        html = _error_page(RequestFactory().get(
            "/", DATABASE_URL=f"postgres://mailsite:{pw['db']}@db.internal:5432/mailsite"))
    assert "the broker is down" in html and "redis.internal:6379/0" in html and "db.internal:5432" in html
    assert [name for name, password in pw.items() if password in html] == []
    assert "redis://:********************@redis.internal:6379/0" in html


@pytest.mark.parametrize("text,masked", [
    ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
    ("postgres://user:p%40ss@db/x", "postgres://user:***@db/x"),
    ("go to http://example.test:8000/a@b", "go to http://example.test:8000/a@b"),  # a port, not a password
    ("redis://h:6379/0", "redis://h:6379/0"),
])
def test_url_passwords_are_found_and_nothing_else(text, masked):
    assert url_password_mask(text, "***") == masked


def _technical_500(client, monkeypatch, target, url, data):
    """POST `data` with `target` raising, on the DEBUG page Django shows for an error."""
    def boom(*args, **kwargs):
        raise RuntimeError("failed on purpose")
    monkeypatch.setattr(target[0], target[1], boom)
    with override_settings(DEBUG=True):
        response = client.post(url, data)
    assert response.status_code == 500 and "failed on purpose" in response.content.decode()
    return response


@pytest.mark.django_db
def test_a_mail_account_password_posted_is_not_on_the_error_page(monkeypatch, alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    account = alice.mail_accounts.get()
    data = account_form_data(account, incoming_password="typed-pop-secret", smtp_auth="password",
                             smtp_username="alice", smtp_password="typed-smtp-secret")
    response = _technical_500(client, monkeypatch, (MailAccount, "save"),
                              reverse("webmail:account_edit", args=[account.id]), data)
    html = response.content.decode()
    assert "incoming_password" in html  # the POST is listed, its value hidden
    assert "typed-pop-secret" not in html and "typed-smtp-secret" not in html and "mailbox-secret" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("url_name,fields", [
    ("login", {"username": "alice", "password": PASSWORD}),
    ("password_change", {"old_password": PASSWORD, "new_password1": "n3w-Secret-pw", "new_password2": "n3w-Secret-pw"}),
])
def test_login_and_password_change_posts_are_marked_sensitive(client, alice, url_name, fields):
    if url_name != "login":
        client.force_login(alice)
    request = client.post(reverse(url_name), fields).wsgi_request
    assert set(fields) - {"username"} <= set(request.sensitive_post_parameters) or \
        request.sensitive_post_parameters == "__ALL__"


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["account_add", "account_test_new"])
def test_the_account_views_mark_the_passwords_sensitive(alice_client, view):
    request = alice_client.post(reverse(f"webmail:{view}"), {"incoming_password": "x"}).wsgi_request
    assert set(request.sensitive_post_parameters) == {"incoming_password", "smtp_password"}


@pytest.mark.django_db
def test_a_new_api_token_is_not_on_the_error_page(monkeypatch, alice):
    from mailsite.api import views
    from mailsite.api.models import ApiToken
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    # The page that shows the new secret fails: the view's frame holds it.
    response = _technical_500(client, monkeypatch, (views, "render"), reverse("api_tokens"), {"name": "ci"})
    token = ApiToken.objects.get(user=alice)
    html = response.content.decode()
    # The secret is the prefix (which may be shown: it names the token) and 40 more characters.
    assert not re.search(re.escape(token.prefix) + "[A-Za-z0-9_-]{8}", html)
