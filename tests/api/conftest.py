"""The API tests' parts: a token for alice, and a client that sends it."""
import json

import pytest
from django.test import Client

from mailsite.api.services import api_token_create


class ApiClient:
    """Django's test client speaking JSON with a bearer token (no session, no cookie)."""

    def __init__(self, token: str | None):
        self.client = Client(enforce_csrf_checks=True)
        self.token = token

    def _headers(self, headers):
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, url, params=None, headers=None):
        return self.client.get(url, params or {}, headers=self._headers(headers))

    def post(self, url, data=None, *, raw: bytes | str | None = None, headers=None):
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(url, body, content_type="application/json", headers=self._headers(headers))

    def request(self, method, url, headers=None):
        return self.client.generic(method, url, headers=self._headers(headers))


@pytest.fixture
def alice_token(alice):
    return api_token_create(user=alice, name="tests")[1]


@pytest.fixture
def api(alice_token):
    return ApiClient(alice_token)


@pytest.fixture
def message(alice):
    """A valid request body from alice's account."""
    return {"from": alice.mail_accounts.get().address, "to": ["bob@example.test"], "subject": "Hello",
            "text": "Hi Bob"}
