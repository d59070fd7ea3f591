"""API tokens: the page that makes and revokes them (the secret shown once), and what the database keeps."""
import hashlib
import re

import pytest
from django.test import Client

from mailsite.api.models import ApiToken
from mailsite.api.services import api_token_create
from tests.api.conftest import ApiClient
from tests.fixtures.users import PASSWORD, make_user

PAGE = "/settings/api-tokens/"
pytestmark = pytest.mark.django_db


def created_secret(response) -> str:
    found = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', response.content.decode())
    assert found, response.content.decode()
    return found.group(1)


def test_create_shows_the_token_once_and_it_works(alice_client, alice):
    response = alice_client.post(PAGE, {"name": "billing system"})
    assert response.status_code == 200
    secret = created_secret(response)
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=alice)
    assert token.name == "billing system" and secret.startswith(token.prefix)
    # Shown once: the page never shows it again, only its prefix.
    again = alice_client.get(PAGE).content.decode()
    assert secret not in again and f"{token.prefix}…" in again and "billing system" in again
    # It works, and its use is recorded.
    assert token.last_used_at is None
    assert ApiClient(secret).get("/api/v1/messages").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_database_holds_only_a_hash_of_the_token(alice_client, alice):
    secret = created_secret(alice_client.post(PAGE, {"name": "ci"}))
    row = ApiToken.objects.values().get(user=alice)
    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())
    assert len(secret) > 40  # 256 random bits


def test_revoke_ends_the_token(alice_client, alice):
    secret = created_secret(alice_client.post(PAGE, {"name": "payroll robot"}))
    token = ApiToken.objects.get(user=alice)
    response = alice_client.post(f"{PAGE}{token.id}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiClient(secret).get("/api/v1/messages").status_code == 401
    assert "payroll robot" not in alice_client.get(PAGE).content.decode()


def test_tokens_are_scoped_to_their_user(alice_client, alice):
    bob = make_user("bob")
    bob_client = Client()
    bob_client.force_login(bob)
    created_secret(bob_client.post(PAGE, {"name": "bob's robot"}))
    bobs = ApiToken.objects.get(user=bob)
    assert "bob&#x27;s robot" not in alice_client.get(PAGE).content.decode()
    alice_client.post(f"{PAGE}{bobs.id}/revoke/")
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_the_page_needs_a_login_and_csrf(alice):
    anonymous = Client()
    response = anonymous.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(PAGE, {"name": "x"}).status_code == 403
    token = ApiToken.objects.create(user=alice, name="t", prefix="ms_x", digest="0" * 64)
    assert strict.post(f"{PAGE}{token.id}/revoke/").status_code == 403
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert ApiToken.objects.count() == 1


def test_a_name_with_a_line_break_is_refused(alice_client, alice):
    response = alice_client.post(PAGE, {"name": "a\nb"})
    assert response.status_code == 200 and "Line breaks" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_is_post_only(alice_client, alice):
    secret = created_secret(alice_client.post(PAGE, {"name": "t"}))
    token = ApiToken.objects.get(user=alice)
    assert alice_client.get(f"{PAGE}{token.id}/revoke/").status_code == 405
    assert ApiClient(secret).get("/api/v1/messages").status_code == 200


def test_staff_revoke_a_token_in_the_admin(client, alice):
    from django.contrib.auth import get_user_model

    secret = api_token_create(user=alice, name="admin test")[1]
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD))
    changelist = "/admin/api/apitoken/"
    page = client.get(changelist).content.decode()
    assert ApiToken.objects.get().prefix in page and secret not in page
    token = ApiToken.objects.get()
    response = client.post(changelist, {"action": "revoke", "_selected_action": [token.id]})
    assert response.status_code == 302
    assert ApiClient(secret).get("/api/v1/messages").status_code == 401
