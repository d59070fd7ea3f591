"""`manage.py spool`: list, show (with --json), hold, release, requeue, cancel, flush."""
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from spooler.models import DeliveryAttempt, OutboxMessage
from tests.fixtures.users import make_user
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db


def spool(*args) -> str:
    out = StringIO()
    call_command("spool", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def rows(db, monkeypatch):
    from spooler.services import broker

    monkeypatch.setattr(broker, "publish_wake", lambda: True)
    user = make_user("alice")
    a = enqueue(user, ["carol@example.test"], subject="First")
    b = enqueue(user, ["dave@example.test"], subject="Second")
    c = enqueue(user, ["erin@example.test"], subject="Third")
    OutboxMessage.objects.filter(id=b.id).update(status="deferred", attempts=2, last_code=451, last_text="later",
                                                 next_attempt_at=timezone.now() + timedelta(hours=1))
    OutboxMessage.objects.filter(id=c.id).update(status="sent", sent_at=timezone.now())
    DeliveryAttempt.objects.create(message_id=b.id, code=451, text="later", outcome="deferred")
    return a, b, c


def test_list_shows_waiting_messages(rows):
    a, b, c = rows
    out = spool("list")
    assert "carol@example.test" in out and "dave@example.test" in out and "erin@example.test" not in out
    assert "(mail server" not in out and "(later)" in out
    assert "erin@example.test" in spool("list", "--all")


def test_list_json(rows):
    data = json.loads(spool("list", "--json"))
    assert {m["subject"] for m in data["messages"]} == {"First", "Second"}
    assert data["counts"]["sent"] == 1 and data["counts"]["queued"] == 1 and data["counts"]["deferred"] == 1
    data = json.loads(spool("list", "--json", "--status", "sent"))
    assert [m["subject"] for m in data["messages"]] == ["Third"]


def test_show_and_show_json(rows):
    _a, b, _c = rows
    out = spool("show", str(b.id))
    assert "Second" in out and "451" in out and "later" in out and "Message-ID" in out
    data = json.loads(spool("show", str(b.id), "--json"))
    assert data["id"] == b.id and data["attempt_list"][0]["code"] == 451 and data["recipients"] == ["dave@example.test"]
    assert data["message_id"] in data["headers"]
    with pytest.raises(CommandError):
        spool("show", "999999")


def test_hold_release_requeue_cancel(rows):
    a, b, c = rows
    assert spool("hold", str(a.id), str(b.id), str(c.id)).startswith("2 of 3 messages held")
    assert set(OutboxMessage.objects.filter(status="held").values_list("id", flat=True)) == {a.id, b.id}
    assert spool("release", str(a.id)).startswith("1 of 1 message released")
    assert spool("requeue", str(b.id)).startswith("1 of 1 message requeued")
    b.refresh_from_db()
    assert b.status == "queued" and b.next_attempt_at <= timezone.now()
    assert spool("cancel", str(a.id), str(b.id)).startswith("2 of 2 messages cancelled")
    assert OutboxMessage.objects.filter(status="cancelled").count() == 2


def test_flush_makes_deferred_messages_due_now(rows):
    _a, b, _c = rows
    assert "1 deferred messages due now" in spool("flush")
    b.refresh_from_db()
    assert b.status == "deferred" and b.next_attempt_at <= timezone.now()
