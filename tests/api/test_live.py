"""The API against the running site (live_server) and a real Celery worker: ten parallel POSTs with one
Idempotency-Key make one spool row and one message at the relay (an smtp-sink counting by Message-ID)."""
import json
import threading
import urllib.error
import urllib.request

import pytest

from mailsite.api.models import IdempotencyKey
from mailsite.api.services import api_token_create
from spooler.models import OutboxMessage
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
PARALLEL = 10


def call(url: str, *, token: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_ten_parallel_posts_with_one_key_send_one_message(live_server, celery_worker, mail_sandbox, smtp_sink):
    sink = smtp_sink()
    user = make_user("robot", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    account.smtp_host, account.smtp_port = "127.0.0.1", sink.port  # the relay is this test's sink, nothing else
    account.save()
    token = api_token_create(user=user, name="live")[1]
    body = {"from": account.address, "to": ["someone@example.test"], "subject": "Invoice 7", "text": "Paid."}
    url = f"{live_server.url}/api/v1/messages"

    start, answers = threading.Barrier(PARALLEL), [None] * PARALLEL

    def post(i):
        start.wait()
        answers[i] = call(url, token=token, body=body, headers={"Idempotency-Key": "invoice-7"})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _h, _b in answers] == [202] * PARALLEL, answers
    ids = {body["id"] for _s, _h, body in answers}
    assert len(ids) == 1
    assert sum(1 for _s, headers, _b in answers if headers.get("Idempotent-Replayed") == "true") == PARALLEL - 1
    row = OutboxMessage.objects.get()
    assert row.id in ids and IdempotencyKey.objects.get().message_id == row.id

    def sent():
        row.refresh_from_db()
        return row.status == "sent"

    assert wait_for(sent, timeout=45), f"{row.status} {row.last_text}\n{celery_worker.log_text()[-2000:]}"
    assert sink.message_ids() == [row.message_id]
    # The status the API shows now: sent, with the relay's answer per recipient.
    status, _h, shown = call(f"{url}/{row.id}", token=token)
    assert status == 200 and shown["status"] == "sent"
    assert shown["recipients"][0]["status"] == "sent" and shown["recipients"][0]["code"] == 250
    # A retry after delivery is still the same message, and nothing more reaches the relay.
    status, headers, again = call(url, token=token, body=body, headers={"Idempotency-Key": "invoice-7"})
    assert (status, again["id"], headers.get("Idempotent-Replayed")) == (202, row.id, "true")
    assert OutboxMessage.objects.count() == 1 and sink.message_ids() == [row.message_id]
