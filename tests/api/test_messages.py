"""POST/GET /api/v1/messages and cancel, with Django's test client: what is spooled, what is answered."""
import base64
import email
import json
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from django.test import override_settings
from django.utils import timezone

from mailsite.api.models import IdempotencyKey
from spooler.models import OutboxMessage, OutboxStatus
from spooler.services.outbound.enqueue import outbox_raw
from tests.fixtures.users import make_user

URL = "/api/v1/messages"
pytestmark = pytest.mark.django_db


def parsed(row):
    return email.message_from_bytes(outbox_raw(row), policy=default_policy)


def test_post_spools_through_the_senders_account_and_answers_202_with_location(api, alice, message):
    response = api.post(URL, {**message, "cc": ["carol@example.test"], "bcc": ["dave@example.test"]})
    assert response.status_code == 202, response.content
    body = response.json()
    row = OutboxMessage.objects.get()
    assert body["id"] == row.id and body["status"] == "queued"
    assert response["Location"] == f"/api/v1/messages/{row.id}"
    assert row.user == alice and row.relay == alice.mail_accounts.get()
    assert row.recipients == ["bob@example.test", "carol@example.test", "dave@example.test"]
    assert row.not_before is None  # the API has no undo window: due at once
    mail = parsed(row)
    assert mail["From"].addresses[0].addr_spec == "alice@example.test" and mail["Bcc"] is None
    assert [r["status"] for r in body["recipients"]] == ["queued"] * 3


def test_html_attachments_and_allowed_headers_are_built_into_the_message(api, message):
    pdf = b"%PDF-1.4 fake\x00\xff" * 10
    response = api.post(URL, {
        **message, "html": "<p>Hi <b>Bob</b></p>",
        "attachments": [{"filename": "report.pdf", "content_type": "application/pdf",
                         "content_base64": base64.b64encode(pdf).decode()}],
        "headers": {"reply-to": "help@example.test", "List-Unsubscribe": "<https://example.test/u/1>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "X-Entity-Ref-ID": "abc-1",
                    "In-Reply-To": "<parent@example.test>", "References": "<root@example.test> <parent@example.test>"},
    })
    assert response.status_code == 202, response.content
    mail = parsed(OutboxMessage.objects.get())
    assert mail["Reply-To"] == "help@example.test"
    assert mail["List-Unsubscribe"] == "<https://example.test/u/1>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and mail["X-Entity-Ref-ID"] == "abc-1"
    assert mail["In-Reply-To"] == "<parent@example.test>"
    assert mail.get_body(("html",)).get_content().strip() == "<p>Hi <b>Bob</b></p>"
    assert mail.get_body(("plain",)).get_content().strip() == "Hi Bob"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "report.pdf" and attachment.get_content() == pdf


def test_an_html_only_message_has_one_html_body(api, message):
    assert api.post(URL, {**message, "text": "", "html": "<h1>Sale</h1>"}).status_code == 202
    mail = parsed(OutboxMessage.objects.get())
    assert mail.get_content_type() == "text/html" and mail.get_content().strip() == "<h1>Sale</h1>"


def test_send_at_schedules_the_message(api, message):
    later = timezone.now() + timedelta(hours=2)
    response = api.post(URL, {**message, "send_at": later.isoformat()})
    assert response.status_code == 202
    row = OutboxMessage.objects.get()
    assert abs((row.not_before - later).total_seconds()) < 1
    assert response.json()["send_at"] is not None


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_bad_json_is_a_400_problem(api):
    problem(api.post(URL, raw="{not json"), 400)
    assert not OutboxMessage.objects.exists()


def test_unknown_field_is_a_400_problem_naming_it(api, message):
    body = problem(api.post(URL, {**message, "priority": "high"}), 400)
    assert any(e["field"].endswith("priority") for e in body["errors"])
    body = problem(api.post(URL, {**message, "attachments": [{"filename": "a", "content_base64": "", "x": 1}]}), 400)
    assert any("x" in e["field"] for e in body["errors"])
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '"x"', "null", "3", "{}"])
def test_a_body_that_is_not_a_message_is_a_400_problem(api, raw):
    problem(api.post(URL, raw=raw), 400)


def test_missing_or_wrong_token_is_a_401_problem_with_a_bearer_challenge(message):
    from tests.api.conftest import ApiClient

    for client in (ApiClient(None), ApiClient("ms_not-a-real-token"), ApiClient("garbage")):
        body = problem(client.post(URL, message), 401)
        assert body["type"] == "about:blank"
        assert client.post(URL, message)["WWW-Authenticate"].startswith("Bearer")
        problem(client.get(URL), 401)
        problem(client.get(f"{URL}/1"), 401)
    assert not OutboxMessage.objects.exists()


def test_a_token_in_another_scheme_is_refused(api, alice_token, message):
    response = api.post(URL, message, headers={"Authorization": f"Basic {alice_token}"})
    problem(response, 401)


def test_a_revoked_token_is_a_401_problem(api, alice, message):
    from mailsite.api.services import api_token_revoke

    assert api.post(URL, message).status_code == 202
    assert api_token_revoke(user=alice, token_id=alice.api_tokens.get().id)
    body = problem(api.post(URL, message), 401)
    assert 'error="invalid_token"' in api.get(URL)["WWW-Authenticate"]
    assert "revoked" in body["detail"]
    assert OutboxMessage.objects.count() == 1


def test_the_api_answers_without_a_session_and_without_csrf(api, message, client, alice):
    # A logged-in browser session is no credential: the API wants its token and never redirects to the login page.
    client.force_login(alice)
    response = client.get(URL)
    problem(response, 401)
    # The test client enforces CSRF (ApiClient): a token-authenticated POST needs none.
    assert api.post(URL, message).status_code == 202


def test_another_users_message_is_a_404_problem(api, db):
    bob = make_user("bob")
    from mailsite.api.services import api_token_create

    bob_api = type(api)(api_token_create(user=bob, name="b")[1])
    bob_row = bob_api.post(URL, {"from": "bob@example.test", "to": ["x@example.test"], "text": "x"}).json()
    problem(api.get(f"{URL}/{bob_row['id']}"), 404)
    problem(api.post(f"{URL}/{bob_row['id']}/cancel"), 404)
    assert api.get(URL).json()["items"] == []
    assert OutboxMessage.objects.get(id=bob_row["id"]).status == "queued"


def test_from_must_be_one_of_the_users_accounts(api, db, message):
    make_user("bob")
    body = problem(api.post(URL, {**message, "from": "bob@example.test"}), 400)
    assert [e["field"] for e in body["errors"]] == ["from"]
    assert "alice@example.test" in body["errors"][0]["detail"]
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("field, value", [
    ("subject", "Hi\r\nBcc: victim@example.test"),
    ("subject", "Hi\nthere"),
    ("to", ["bob@example.test\r\nBcc: victim@example.test"]),
    ("headers", {"List-Unsubscribe": "<https://x.test>\r\nBcc: victim@example.test"}),
    ("headers", {"X-Entity-Ref-ID": "a\rb"}),
    ("attachments", [{"filename": "a\r\nb.txt", "content_base64": "eA=="}]),
])
def test_cr_or_lf_in_a_header_value_is_a_400_problem(api, message, field, value):
    body = problem(api.post(URL, {**message, field: value}), 400)
    assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("change, field", [
    ({"to": ["not an address"]}, "to.0"),
    ({"to": [], "cc": [], "bcc": []}, ""),
    ({"headers": {"X-Mailer": "mine"}}, "headers"),
    ({"headers": {"Subject": "again"}}, "headers"),
    ({"headers": {"In-Reply-To": "no brackets"}}, "headers"),
    ({"headers": {"Reply-To": "not an address"}}, "headers"),
    ({"headers": {"List-Id": "a", "list-id": "b"}}, "headers"),
    ({"attachments": [{"filename": "a.txt", "content_base64": "not base64!"}]}, "attachments.0.content_base64"),
    ({"attachments": [{"filename": "a.txt", "content_type": "text", "content_base64": "eA=="}]}, "attachments.0"),
    ({"send_at": "tomorrow"}, "send_at"),
    ({"send_at": "2030-01-01T09:00:00"}, "send_at"),  # (no offset: which zone?)
    ({"send_at": 1893484800}, "send_at"),
    ({"send_at": "9999-12-31T23:59:59-14:00"}, "send_at"),
    ({"send_at": "2999-01-01T00:00:00Z"}, "send_at"),  # (more than API_MAX_SCHEDULE_DAYS ahead)
    ({"text": "\ud800"}, "text"),
])
def test_invalid_fields_are_400_problems_naming_the_field(api, message, change, field):
    body = problem(api.post(URL, {**message, **change}), 400)
    assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert not OutboxMessage.objects.exists()


@override_settings(API_MAX_RECIPIENTS=3)
def test_too_many_recipients_is_a_400_problem(api, message):
    problem(api.post(URL, {**message, "to": [f"r{i}@example.test" for i in range(4)]}), 400)
    assert api.post(URL, {**message, "to": [f"r{i}@example.test" for i in range(3)]}).status_code == 202


@override_settings(API_MAX_BODY_BYTES=2000)
def test_a_body_over_the_limit_is_a_413_problem(api, message):
    problem(api.post(URL, {**message, "text": "x" * 3000}), 413)
    assert not OutboxMessage.objects.exists()
    assert api.post(URL, {**message, "text": "x" * 1000}).status_code == 202


@override_settings(API_MAX_ATTACHMENT_BYTES=100)
def test_attachments_over_the_limit_are_a_413_problem(api, message):
    def attach(n):
        return {**message, "attachments": [{"filename": "a.bin", "content_base64": base64.b64encode(b"x" * n).decode()}]}

    problem(api.post(URL, attach(101)), 413)
    assert not OutboxMessage.objects.exists()
    assert api.post(URL, attach(100)).status_code == 202


def test_wrong_method_is_a_405_problem_with_allow(api):
    body = problem(api.request("DELETE", URL), 405)
    assert "GET" in api.request("PUT", URL)["Allow"] and body["detail"]
    problem(api.request("PATCH", f"{URL}/1"), 405)


def test_an_unknown_api_url_is_a_404_problem_not_the_login_page(api):
    problem(api.get("/api/v1/nothing-here"), 404)
    problem(api.get("/api/v2/messages"), 404)
    problem(api.get("/api/"), 404)
    problem(api.get(f"{URL}/not-a-number"), 400)  # (an id that is not a number: a parameter error)


def test_the_openapi_document_is_public_and_documents_problems():
    from django.test import Client

    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    post = schema["paths"]["/api/v1/messages"]["post"]
    assert "application/problem+json" in post["responses"]["400"]["content"]
    assert {"202", "400", "401", "413", "422"} <= set(post["responses"])
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


# --- status and list ------------------------------------------------------------------------------------------

def test_get_shows_the_outcome_per_recipient(api, message):
    row_id = api.post(URL, {**message, "to": ["a@example.test", "b@example.test", "c@example.test"]}).json()["id"]
    OutboxMessage.objects.filter(id=row_id).update(status=OutboxStatus.DEFERRED, attempts=1, outcomes={
        "a@example.test": {"status": "sent", "code": 250, "text": "2.0.0 OK"},
        "b@example.test": {"status": "deferred", "code": 451, "text": "4.7.1 greylisted"},
    }, last_code=451, last_text="4.7.1 greylisted")
    body = api.get(f"{URL}/{row_id}").json()
    assert body["status"] == "deferred" and body["attempts"] == 1 and body["last_code"] == 451
    assert body["recipients"] == [
        {"address": "a@example.test", "status": "sent", "code": 250, "text": "2.0.0 OK"},
        {"address": "b@example.test", "status": "deferred", "code": 451, "text": "4.7.1 greylisted"},
        {"address": "c@example.test", "status": "queued", "code": None, "text": ""},
    ]
    assert body["created_at"] and body["next_attempt_at"] and body["from"] == message["from"]


def test_list_is_newest_first_by_cursor_with_filters(api, message):
    ids = [api.post(URL, {**message, "subject": f"m{i}", "to": [f"r{i % 2}@example.test"]}).json()["id"]
           for i in range(5)]
    OutboxMessage.objects.filter(id=ids[0]).update(status=OutboxStatus.SENT)
    OutboxMessage.objects.filter(id=ids[1]).update(created_at=timezone.now() - timedelta(days=3))

    first = api.get(URL, {"limit": 2}).json()
    assert [m["id"] for m in first["items"]] == [ids[4], ids[3]] and first["next_cursor"]
    second = api.get(URL, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [m["id"] for m in second["items"]] == [ids[2], ids[1]]
    third = api.get(URL, {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [m["id"] for m in third["items"]] == [ids[0]] and third["next_cursor"] is None

    assert [m["id"] for m in api.get(URL, {"status": "sent"}).json()["items"]] == [ids[0]]
    assert len(api.get(f"{URL}?status=sent&status=queued").json()["items"]) == 5
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids[1] not in [m["id"] for m in api.get(URL, {"created_after": since}).json()["items"]]
    assert [m["id"] for m in api.get(URL, {"created_before": since}).json()["items"]] == [ids[1]]
    assert [m["id"] for m in api.get(URL, {"recipient": "R1@example.test"}).json()["items"]] == [ids[3], ids[1]]


@pytest.mark.parametrize("params", [{"status": "lost"}, {"limit": "0"}, {"limit": "1000"}, {"cursor": "-1"},
                                    {"created_after": "yesterday"}, {"cursor": "9" * 40}, {"created_after": "3600"},
                                    {"created_before": "0001-01-01T00:00:00+14:00"}, {"limit": ["1", "2"]},
                                    {"created_after": "9999-12-31T23:59:59-14:00"}, {"page": "2"}])
def test_bad_list_parameters_are_400_problems(api, params):
    problem(api.get(URL, params), 400)


# --- cancel ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [OutboxStatus.QUEUED, OutboxStatus.DEFERRED, OutboxStatus.HELD])
def test_cancel_stops_a_waiting_message(api, message, status):
    row_id = api.post(URL, message).json()["id"]
    OutboxMessage.objects.filter(id=row_id).update(status=status)
    response = api.post(f"{URL}/{row_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert OutboxMessage.objects.get(id=row_id).status == OutboxStatus.CANCELLED
    assert response.json()["recipients"][0]["status"] == "cancelled"


@pytest.mark.parametrize("status", [OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.CANCELLED])
def test_cancel_of_a_message_being_sent_or_done_is_a_409_problem(api, message, status):
    row_id = api.post(URL, message).json()["id"]
    OutboxMessage.objects.filter(id=row_id).update(status=status)
    body = problem(api.post(f"{URL}/{row_id}/cancel"), 409)
    assert status in body["detail"]
    assert OutboxMessage.objects.get(id=row_id).status == status


def test_cancel_is_conditional_a_claim_in_between_wins(api, message, monkeypatch):
    """The worker claims the row between the API's read and its UPDATE: the UPDATE changes nothing, 409."""
    from mailsite.api import selectors

    row_id = api.post(URL, message).json()["id"]
    real = selectors.message_get

    def read_then_claimed(**kwargs):
        row = real(**kwargs)
        OutboxMessage.objects.filter(id=row.id).update(status=OutboxStatus.SENDING)  # the worker's claim
        return row

    monkeypatch.setattr(selectors, "message_get", read_then_claimed)
    problem(api.post(f"{URL}/{row_id}/cancel"), 409)
    assert OutboxMessage.objects.get(id=row_id).status == OutboxStatus.SENDING


# --- Idempotency-Key ------------------------------------------------------------------------------------------

def test_a_retry_with_the_same_key_returns_the_first_message(api, message):
    first = api.post(URL, message, headers={"Idempotency-Key": "order-42"})
    again = api.post(URL, message, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and first["Location"] == again["Location"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert OutboxMessage.objects.count() == 1
    # The same JSON written differently is the same request.
    reordered = json.dumps(dict(reversed(list(message.items()))), indent=2)
    assert api.post(URL, raw=reordered, headers={"Idempotency-Key": "order-42"}).json()["id"] == first.json()["id"]
    assert OutboxMessage.objects.count() == 1
    # Another key is another message.
    assert api.post(URL, message, headers={"Idempotency-Key": "order-43"}).json()["id"] != first.json()["id"]


def test_the_same_key_with_another_body_is_a_422_problem(api, message):
    api.post(URL, message, headers={"Idempotency-Key": "k1"})
    body = problem(api.post(URL, {**message, "subject": "Other"}, headers={"Idempotency-Key": "k1"}), 422)
    assert body["type"].endswith("idempotency-key-reused")
    assert OutboxMessage.objects.count() == 1


def test_keys_are_per_user(api, message, db):
    from mailsite.api.services import api_token_create

    bob = make_user("bob")
    bob_api = type(api)(api_token_create(user=bob, name="b")[1])
    mine = api.post(URL, message, headers={"Idempotency-Key": "same"}).json()["id"]
    theirs = bob_api.post(URL, {**message, "from": "bob@example.test"}, headers={"Idempotency-Key": "same"})
    assert theirs.status_code == 202 and theirs.json()["id"] != mine


def test_a_key_expires_after_its_time(api, message):
    first = api.post(URL, message, headers={"Idempotency-Key": "daily"}).json()["id"]
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    second = api.post(URL, message, headers={"Idempotency-Key": "daily"}).json()["id"]
    assert second != first and OutboxMessage.objects.count() == 2
    assert IdempotencyKey.objects.get().message_id == second


def test_old_keys_are_purged(api, message):
    from mailsite.api.tasks import idempotency_keys_purge  # (beat's task; the service does the work)

    api.post(URL, message, headers={"Idempotency-Key": "old"})
    api.post(URL, message, headers={"Idempotency-Key": "new"})
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_a_failed_request_does_not_spend_its_key(api, message):
    problem(api.post(URL, {**message, "to": ["bad"]}, headers={"Idempotency-Key": "fix-and-retry"}), 400)
    problem(api.post(URL, {**message, "from": "nobody@example.test"}, headers={"Idempotency-Key": "fix-and-retry"}), 400)
    assert api.post(URL, message, headers={"Idempotency-Key": "fix-and-retry"}).status_code == 202


def test_a_key_whose_message_was_deleted_never_sends_again(api, message):
    first = api.post(URL, message, headers={"Idempotency-Key": "gone"}).json()["id"]
    OutboxMessage.objects.filter(id=first).delete()
    problem(api.post(URL, message, headers={"Idempotency-Key": "gone"}), 409)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
def test_a_malformed_key_is_a_400_problem(api, message, key):
    problem(api.post(URL, message, headers={"Idempotency-Key": key}), 400)
    assert not OutboxMessage.objects.exists()


def test_over_the_sending_quota_is_a_429_problem_and_nothing_is_queued(api, message, settings):
    settings.SEND_QUOTA_RECIPIENTS_PER_HOUR = 2
    assert api.post(URL, message).status_code == 202
    keyed = {"Idempotency-Key": "over-quota-1"}
    response = api.post(URL, {**message, "to": ["a@example.test", "b@example.test"]}, headers=keyed)
    body = problem(response, 429)
    assert body["type"] == "urn:mailsite:problem:sending-quota" and "2 recipients per hour" in body["detail"]
    assert 0 < int(response["Retry-After"]) <= 3600
    assert OutboxMessage.objects.count() == 1
    assert not IdempotencyKey.objects.filter(key="over-quota-1").exists()  # the key is not spent
