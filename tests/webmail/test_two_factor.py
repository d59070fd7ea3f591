"""Optional two-factor login (django-otp): set up with a QR code and a first code, ten recovery codes shown once;
then the login asks for a code after the password, on every page and the admin's; a recovery code works once; a
code turns it off. Codes are made from the key the page shows, as an authenticator app would."""
import base64
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_code_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # (a test of the throttle sets its own)
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def app_code(key: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for this base32 key (a later step: the next code it will show)."""
    totp = TOTP(base64.b32decode(key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def turn_on(client) -> tuple[str, list[str]]:
    """Set two-factor login up through the pages; (the key, the recovery codes shown)."""
    url = reverse("two_factor")
    assert client.post(url, {"action": "start"}).status_code == 302
    page = client.get(url).content.decode()
    key = re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1)
    response = client.post(url, {"action": "confirm", "code": app_code(key)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    return key, codes


def password_step(username: str, *, url: str | None = None, address: str = "192.0.2.30") -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post(url or reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def dora(db):
    return get_user_model().objects.create_user(username="dora", password=PASSWORD)


@pytest.fixture
def dora_with_2fa(client, dora):
    client.force_login(dora)
    key, codes = turn_on(client)
    client.logout()
    # A code is taken once (replays are refused); as if the set-up had been a while ago, the current one is free.
    TOTPDevice.objects.filter(user=dora).update(last_t=-1)
    return key, codes


def test_setting_up_shows_the_secret_as_a_qr_code_and_text_then_ten_recovery_codes_once(client, dora):
    client.force_login(dora)
    url = reverse("two_factor")
    assert "Two-factor login is off" in client.get(url).content.decode()
    client.post(url, {"action": "start"})
    page = client.get(url).content.decode()
    qr = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page).group(1)
    assert base64.b64decode(qr).lstrip().startswith(b"<?xml") and b"<svg" in base64.b64decode(qr)
    assert not re.search(r"<script(?![^>]*\ssrc=)", page)  # (no inline script: the CSP forbids it)
    key = re.search(r'id="totp-key">([A-Z2-7]+)<', page).group(1)
    assert not TOTPDevice.objects.get(user=dora).confirmed  # not on before a first code
    wrong = client.post(url, {"action": "confirm", "code": "000000" if app_code(key) != "000000" else "111111"})
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=dora, confirmed=True).exists()
    response = client.post(url, {"action": "confirm", "code": app_code(key)})
    assert response["Cache-Control"] == "private, no-store"
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(codes) == len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=dora).confirmed
    page = client.get(url).content.decode()
    assert "Two-factor login is on" in page and not any(code in page for code in codes)  # shown once


def test_the_login_asks_for_a_code_after_the_password_and_no_page_is_served_before(dora_with_2fa, dora):
    key, _codes = dora_with_2fa
    client = password_step("dora")
    for url in (reverse("webmail:inbox"), reverse("settings"), reverse("webmail:contacts"), reverse("two_factor"),
                "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login_code")), url
    page = client.get(reverse("login_code") + "?next=/contacts/")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()
    wrong = client.post(reverse("login_code"), {"code": "12345", "next": "/contacts/"})
    assert "That code is not right" in wrong.content.decode()
    assert client.get(reverse("webmail:inbox")).status_code == 302
    right = client.post(reverse("login_code"), {"code": app_code(key), "next": "/contacts/"})
    assert right.status_code == 302 and right["Location"] == "/contacts/"
    assert client.get(reverse("webmail:inbox")).status_code == 200
    client.logout()
    replay = password_step("dora").post(reverse("login_code"), {"code": app_code(key)})
    assert replay.status_code == 200  # the same code again (someone who watched it typed) is refused


def test_the_code_step_sends_nowhere_off_site(dora_with_2fa):
    key, _codes = dora_with_2fa
    client = password_step("dora")
    response = client.post(reverse("login_code"), {"code": app_code(key), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("webmail:inbox")


def test_a_recovery_code_works_once(dora_with_2fa):
    _key, codes = dora_with_2fa
    client = password_step("dora")
    assert client.post(reverse("login_code"), {"code": codes[0].upper()}).status_code == 302
    assert client.get(reverse("webmail:inbox")).status_code == 200
    client.logout()
    again = password_step("dora")
    refused = again.post(reverse("login_code"), {"code": codes[0]})
    assert refused.status_code == 200 and "That code is not right" in refused.content.decode()
    assert again.post(reverse("login_code"), {"code": codes[1]}).status_code == 302
    assert StaticToken.objects.filter(device__user__username="dora").count() == 8


def test_the_admin_login_asks_for_the_code_too(dora_with_2fa, dora):
    key, _codes = dora_with_2fa
    dora.is_staff = dora.is_superuser = True
    dora.save()
    client = password_step("dora", url=reverse("admin:login") + "?next=/admin/")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login_code"))
    client.post(reverse("login_code"), {"code": app_code(key), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


def test_wrong_codes_slow_the_next_tries_down(settings, dora_with_2fa):
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    key, _codes = dora_with_2fa
    client = password_step("dora")
    client.post(reverse("login_code"), {"code": "000000" if app_code(key) != "000000" else "111111"})
    # the right code straight after a wrong one is refused (the device waits 1 h × 2^(failures-1))
    response = client.post(reverse("login_code"), {"code": app_code(key)})
    assert response.status_code == 200 and "That code is not right" in response.content.decode()


def test_turning_it_off_takes_a_code(client, dora_with_2fa, dora):
    key, _codes = dora_with_2fa
    client = password_step("dora")
    client.post(reverse("login_code"), {"code": app_code(key)})
    url = reverse("two_factor")
    refused = client.post(url, {"action": "disable", "code": "abc"})
    assert "That code is not right" in refused.content.decode() and TOTPDevice.objects.filter(user=dora).exists()
    assert client.post(url, {"action": "disable", "code": app_code(key, steps_ahead=1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=dora).exists()
    client.logout()
    plain = password_step("dora")
    assert plain.get(reverse("webmail:inbox")).status_code == 200


def test_users_without_it_log_in_with_the_password_alone(alice):
    client = password_step("alice")
    assert client.get(reverse("webmail:inbox")).status_code == 200
    assert client.get(reverse("login_code")).status_code == 302  # (nothing to ask: on to the inbox)


def test_a_session_held_at_the_code_step_goes_on_once_it_is_turned_off(dora_with_2fa, dora):
    held = password_step("dora")
    assert held.get(reverse("webmail:inbox")).status_code == 302
    TOTPDevice.objects.filter(user=dora).delete()  # (turned off from another, verified session)
    StaticDevice.objects.filter(user=dora).delete()
    response = held.get(reverse("login_code"))
    assert response.status_code == 302 and response["Location"] == reverse("webmail:inbox")
    assert held.get(reverse("webmail:inbox")).status_code == 200


def test_a_page_of_a_user_without_it_costs_no_device_query(alice_client):
    with CaptureQueriesContext(connection) as queries:
        assert alice_client.get(reverse("settings")).status_code == 200
    assert not [q for q in queries.captured_queries if "otp_" in q["sql"]]


def test_the_admin_shows_whose_device_it_is_and_no_secret(dora_with_2fa, dora):
    key, codes = dora_with_2fa
    root = get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    admin = Client()
    admin.force_login(root)
    device = TOTPDevice.objects.get(user=dora)
    static = StaticDevice.objects.get(user=dora)
    pages = [admin.get(reverse("admin:otp_totp_totpdevice_changelist")),
             admin.get(reverse("admin:otp_totp_totpdevice_change", args=[device.id])),
             admin.get(reverse("admin:otp_static_staticdevice_change", args=[static.id]))]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200 and "dora" in html
        assert device.key not in html and key not in html and "qrcode" not in html
        assert not any(code in html for code in codes)
    delete = admin.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.id]), {"post": "yes"})
    assert delete.status_code == 302 and not TOTPDevice.objects.filter(user=dora).exists()


def test_an_open_session_cannot_swap_the_secret_without_a_code(dora_with_2fa, dora):
    key, _codes = dora_with_2fa
    client = password_step("dora")
    client.post(reverse("login_code"), {"code": app_code(key)})
    before = TOTPDevice.objects.get(user=dora).key
    client.post(reverse("two_factor"), {"action": "start"})
    assert list(TOTPDevice.objects.filter(user=dora).values_list("key", flat=True)) == [before]
