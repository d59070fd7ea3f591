"""Failed logins (django-axes): locked per user name and per client address after LOGIN_FAILURE_LIMIT failures,
with a translated page that says so; unlocked after the cool-off or by a good login; the admin's login the same;
the client address by the rate limits' rule (TRUSTED_PROXY_COUNT)."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.django_db
LIMIT = 3
LOCKED = "Too many failed logins"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_COOLOFF_SECONDS = 600
    settings.AXES_COOLOFF_TIME = timedelta(seconds=600)
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def carol(db):
    return get_user_model().objects.create_user(username="carol", password=PASSWORD)


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(client, username, password, *, url=None, **extra):
    return client.post(url or reverse("login"), {"username": username, "password": password}, **extra)


def fail(client, username, times, **kwargs):
    for _ in range(times):
        response = log_in(client, username, "wrong password", **kwargs)
        assert response.status_code in (200, 429)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def move_time_back(seconds: int) -> None:
    """The failures happened this long ago (as if the clock had moved on)."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(seconds=seconds)
        attempt.save(update_fields=["attempt_time"])


def test_wrong_passwords_then_the_right_one_is_refused_with_the_lockout_message(carol):
    client = client_from("192.0.2.10")
    for attempt in range(LIMIT - 1):
        response = log_in(client, "carol", "wrong password")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    response = log_in(client, "carol", "wrong password")
    assert response.status_code == 429
    response = log_in(client, "carol", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page and "Try again in 10 minutes." in page
    assert not signed_in(client)


def test_the_lockout_page_is_in_the_readers_language(carol):
    client = client_from("192.0.2.11")
    fail(client, "carol", LIMIT)
    response = log_in(client, "carol", PASSWORD, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 429
    assert "Demasiados inicios de sesión fallidos" in response.content.decode()


def test_after_the_cool_off_the_right_password_works(carol):
    client = client_from("192.0.2.12")
    fail(client, "carol", LIMIT)
    assert log_in(client, "carol", PASSWORD).status_code == 429
    move_time_back(601)
    response = log_in(client, "carol", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_a_good_login_resets_the_count(carol):
    client = client_from("192.0.2.13")
    fail(client, "carol", LIMIT - 1)
    assert log_in(client, "carol", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    fail(client, "carol", LIMIT - 1)  # counted from zero again: not locked yet
    assert log_in(client, "carol", PASSWORD).status_code == 302


def test_the_admin_login_is_counted_and_locked_the_same(carol):
    get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    client = client_from("192.0.2.14")
    url = reverse("admin:login")
    for _ in range(LIMIT):
        log_in(client, "root", "wrong password", url=url)
    response = log_in(client, "root", PASSWORD, url=url)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert not signed_in(client)
    # and the site's own login page knows: the same user name is locked there too
    assert log_in(client_from("198.51.100.1"), "root", PASSWORD).status_code == 429
    move_time_back(601)
    response = log_in(client, "root", PASSWORD, url=url)
    assert response.status_code == 302 and signed_in(client)


def test_a_locked_user_name_is_locked_from_every_address(carol):
    """Per user: a password guessed from many addresses (a botnet) still counts against the one account."""
    for n in range(LIMIT):
        log_in(client_from(f"203.0.113.{n + 1}"), "carol", "wrong password")
    response = log_in(client_from("198.51.100.7"), "carol", PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()


def test_a_locked_address_is_locked_for_every_user_name_but_another_address_is_not(carol, alice):
    """Per address: one client trying many user names is stopped; a client elsewhere is not (alice logs in)."""
    sprayer = client_from("203.0.113.50")
    for n in range(LIMIT):
        log_in(sprayer, f"nobody{n}", "wrong password")
    assert log_in(sprayer, "alice", PASSWORD).status_code == 429
    elsewhere = client_from("198.51.100.8")
    response = log_in(elsewhere, "alice", PASSWORD)
    assert response.status_code == 302 and signed_in(elsewhere)


def test_behind_a_proxy_the_address_is_the_one_the_trusted_proxy_saw(settings, carol, alice):
    """TRUSTED_PROXY_COUNT=1: every request comes from the proxy's address; the client is the last
    X-Forwarded-For entry, and what the client wrote further left is not believed."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = client_from("10.0.0.1")
    for n in range(LIMIT):
        log_in(proxy, f"nobody{n}", "wrong password", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.60")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.60"}
    locked = log_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.60")
    assert locked.status_code == 429
    other = log_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.60, 203.0.113.61")
    assert other.status_code == 302


def test_an_ipv6_client_is_counted_by_its_64(alice):
    for n in range(LIMIT):
        log_in(client_from(f"2001:db8:1:2::{n + 1}"), f"nobody{n}", "wrong password")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"2001:db8:1:2::"}
    assert log_in(client_from("2001:db8:1:2::ff"), "alice", PASSWORD).status_code == 429
    assert log_in(client_from("2001:db8:1:3::1"), "alice", PASSWORD).status_code == 302
