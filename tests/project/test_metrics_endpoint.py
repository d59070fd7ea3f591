"""/metrics: staff signed in, or the bearer token from the environment; anyone else 401/403, never the login page;
never cached."""
import pytest
from django.contrib.auth import get_user_model
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token-0123456789"


@pytest.fixture(autouse=True)
def _settings(settings, redis_server):
    settings.REDIS_URL = redis_server.url
    settings.METRICS_TOKEN = TOKEN


def families(response) -> set[str]:
    return {f.name for f in text_string_to_metric_families(response.content.decode())}


def assert_metrics(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-store" in response["Cache-Control"]
    assert {"mailsite_outbox_messages", "mailsite_outbox_attempts", "mailsite_poll_runs"} <= families(response)


def test_staff_reads_the_metrics(client):
    staff = get_user_model().objects.create_user(username="ops", password="x", is_staff=True)
    client.force_login(staff)
    assert_metrics(client.get("/metrics"))


def test_a_bearer_token_reads_the_metrics(client):
    assert_metrics(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))


def test_anonymous_gets_401_not_the_login_page(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "mailsite_" not in response.content.decode()


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN])
def test_a_wrong_token_gets_401(client, header):
    response = client.get("/metrics", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "mailsite_" not in response.content.decode()


def test_no_token_configured_means_staff_only(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer").status_code == 401


def test_a_user_who_is_not_staff_gets_403(client):
    client.force_login(make_user("alice"))
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "mailsite_" not in response.content.decode()


def test_head_as_get(client):
    assert client.head("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_only_get(client):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code in (403, 405)  # (CSRF refuses a POST first; GET is the only method anyway)


def test_openmetrics_when_the_scraper_asks_for_it(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
                          HTTP_ACCEPT="application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    body = response.content.decode()
    assert body.endswith("# EOF\n") and "# TYPE mailsite_outbox_delivery_latency_seconds gaugehistogram" in body
