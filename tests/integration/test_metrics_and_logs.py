"""/metrics and the JSON log lines with real parts: a Celery worker process (LOG_FORMAT=json, with beat polling every
second) delivers alice's message to the sandbox's SMTP server and polls it into bob's inbox over POP3; then /metrics,
served by this process, shows the worker's delivery, its latency and its polls, and the worker's log has one JSON
line for the delivery attempt and one per poll, without a password or the message's text."""
import json
import time

import pytest
import redis
from django.db import transaction
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from mailsite.mailboxes.models import Message
from spooler.models import OutboxMessage
from spooler.services.metrics import poll_counters
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.sessions import Email
from tests.fixtures.celery_worker import CeleryWorker, worker_env
from tests.fixtures.users import PASSWORD, make_user
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-token-for-the-integration-test"
MAILBOX_PASSWORD = "Pop3-Secret-Never-Logged-7f3a"
BODY = "The plans for the launch are in the safe: 4 8 15 16 23 42, never in a log."


@pytest.fixture(scope="module")
def json_worker(django_db_setup, django_db_blocker, redis_server, mail_sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("json-worker")
    redis.Redis.from_url(redis_server.url).delete(poll_counters.KEY)
    with django_db_blocker.unblock():
        env = worker_env(redis_url=redis_server.url, sandbox=mail_sandbox, LOG_FORMAT="json")
    worker = CeleryWorker(env=env, log=tmp / "worker.log", beat_schedule=tmp / "beat-schedule")
    worker.start()
    yield worker
    worker.stop()


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.content.decode()) for s in family.samples}


def json_lines(text: str) -> list[dict]:
    """Every log line the worker wrote as JSON (each must parse); the banner Celery prints is not a log line."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_worker_delivery_and_polls_show_in_metrics_and_json_logs(json_worker, mail_sandbox, settings):
    settings.REDIS_URL = json_worker.env["REDIS_URL"]
    settings.METRICS_TOKEN = TOKEN
    alice = make_user("alice", sandbox=mail_sandbox, mailbox_password=MAILBOX_PASSWORD)
    bob = make_user("bob", sandbox=mail_sandbox, mailbox_password=MAILBOX_PASSWORD)
    relay = alice.mail_accounts.get()
    inbox = bob.mail_accounts.get()
    subject = f"Metrics {time.time_ns()}"
    with transaction.atomic():
        row = outbox_enqueue(email=Email(sender=relay.from_header, to=[inbox.address], subject=subject, text=BODY),
                             relay=relay, user=alice)

    assert wait_for(lambda: OutboxMessage.objects.get(id=row.id).status == "sent", timeout=45), \
        json_worker.log_text()[-3000:]
    assert wait_for(lambda: Message.objects.filter(account=inbox, subject=subject).exists(), timeout=45), \
        json_worker.log_text()[-3000:]

    client = Client()
    label = f"{relay.smtp_host}:{relay.smtp_port}"
    metrics = scrape(client)
    assert metrics[("mailsite_outbox_attempts_total", frozenset({("relay", label), ("outcome", "sent")}))] == 1
    assert metrics[("mailsite_outbox_delivery_latency_seconds_gcount", frozenset())] == 1
    assert metrics[("mailsite_outbox_delivery_latency_seconds_bucket", frozenset({("le", "+Inf")}))] == 1
    assert metrics[("mailsite_outbox_delivery_latency_seconds_gsum", frozenset())] > 0
    assert metrics[("mailsite_poll_runs_total", frozenset({("state", "ok")}))] >= 2  # alice's and bob's at least
    assert metrics[("mailsite_poll_messages_stored_total", frozenset())] >= 1
    assert metrics[("mailsite_poll_duration_seconds_count", frozenset({("state", "ok")}))] >= 2
    assert metrics[("mailsite_outbox_messages", frozenset({("status", "queued")}))] == 0

    # The poll that stored the message logged its line once it finished: wait for it in the file.
    def logged():
        lines = json_lines(json_worker.log_text())
        polls = [x for x in lines if x.get("event") == "poll" and x["account_id"] == inbox.id and x["stored"] >= 1]
        return polls and lines

    lines = wait_for(logged, timeout=15)
    assert lines, json_worker.log_text()[-3000:]
    [attempt] = [x for x in lines if x.get("event") == "delivery_attempt" and x["outbox_id"] == row.id]
    assert attempt["relay"] == label and attempt["recipients"] == 1 and attempt["code"] == 250
    assert attempt["outcome"] == "sent" and isinstance(attempt["duration_ms"], int)
    assert attempt["logger"] == "spooler.delivery" and attempt["level"] == "INFO" and attempt["time"]
    poll = next(x for x in lines if x.get("event") == "poll" and x["account_id"] == inbox.id and x["stored"] >= 1)
    assert poll["outcome"] == "ok" and poll["state"] == "ok" and poll["error"] == ""
    assert isinstance(poll["duration_ms"], int) and poll["logger"] == "spooler.poll"
    log = json_worker.log_text()
    assert MAILBOX_PASSWORD not in log and PASSWORD not in log
    assert BODY not in log and "4 8 15 16 23 42" not in log
