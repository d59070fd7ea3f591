"""The queue monitor in the Django admin: staff only, counts, chart, filters, search, attempts, actions."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from spooler.models import DeliveryAttempt, OutboxMessage
from spooler.services.outbound import queue_ops
from tests.fixtures.users import PASSWORD, make_user
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:spooler_outboxmessage_changelist"


@pytest.fixture
def staff_client(client, db):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD)
    client.force_login(admin)
    return client


@pytest.fixture
def queue(db, settings):
    settings.SPOOL_WAKE_COALESCE_SECONDS = 0
    user = make_user("alice")
    rows = {
        "queued": enqueue(user, ["carol@example.test"], subject="Quarterly report"),
        "deferred": enqueue(user, ["dave@example.test"], subject="Deferred one"),
        "sent": enqueue(user, ["erin@example.test"], subject="Sent one"),
        "failed": enqueue(user, ["frank@example.test"], subject="Failed one"),
        "held": enqueue(user, ["grace@example.test"], subject="Held one"),
    }
    now = timezone.now()
    OutboxMessage.objects.filter(id=rows["deferred"].id).update(
        status="deferred", attempts=1, last_code=451, last_text="try later", next_attempt_at=now + timedelta(minutes=5))
    OutboxMessage.objects.filter(id=rows["sent"].id).update(status="sent", sent_at=now, finished_at=now)
    OutboxMessage.objects.filter(id=rows["failed"].id).update(
        status="failed", finished_at=now, last_code=550, outcomes={"frank@example.test": {"status": "failed", "code": 550, "text": "no such user"}})
    OutboxMessage.objects.filter(id=rows["held"].id).update(status="held", not_before=now + timedelta(days=1))
    OutboxMessage.objects.filter(id=rows["queued"].id).update(created_at=now - timedelta(hours=3))
    DeliveryAttempt.objects.create(message_id=rows["deferred"].id, code=451, text="try later", duration_ms=12, outcome="deferred")
    return rows


def test_monitor_is_staff_only(client, queue):
    url = reverse(CHANGELIST)
    assert client.get(url).status_code == 302  # anonymous: to the admin login
    client.force_login(make_user("mallory"))
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_changelist_shows_counts_oldest_age_and_chart(staff_client, queue):
    response = staff_client.get(reverse(CHANGELIST))
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'spool-count spool-queued"><span class="spool-count-n">1<', page)
    assert re.search(r'spool-count spool-deferred"><span class="spool-count-n">1<', page)
    assert "oldest waiting" in page and re.search(r">3 h \d+ min<", page)
    assert "<svg" in page and page.count('class="spool-bar-sent"') == 1 and page.count('class="spool-bar-failed"') == 1
    assert "1 sent" in page and "1 failed" in page
    assert "css/spool-monitor.css" in page
    # The site's CSP forbids inline script and style: the monitor's markup has neither.
    monitor = page[page.index('<section class="spool-monitor"'):page.index("</section>")]
    assert "style=" not in monitor and "<script" not in monitor and "<style" not in monitor
    assert "Content-Security-Policy" in response.headers


def test_filters_and_search(staff_client, queue):
    url = reverse(CHANGELIST)

    def subjects(**params):
        page = staff_client.get(url, params).content.decode()
        return {s for s in ("Quarterly report", "Deferred one", "Sent one", "Failed one", "Held one") if s in page}

    assert subjects(status__exact="deferred") == {"Deferred one"}
    assert subjects(age="1d") == {"Quarterly report"}
    assert subjects(q="dave@example.test") == {"Deferred one"}  # recipient
    assert subjects(q="Quarterly") == {"Quarterly report"}  # subject
    assert subjects(q=queue["sent"].message_id.strip("<>")) == {"Sent one"}  # Message-ID
    assert subjects(relay__id__exact=str(queue["sent"].relay_id)) == {
        "Quarterly report", "Deferred one", "Sent one", "Failed one", "Held one"}


def test_detail_shows_attempts_outcomes_and_not_before(staff_client, queue):
    page = staff_client.get(reverse("admin:spooler_outboxmessage_change", args=[queue["deferred"].id])).content.decode()
    assert "try later" in page and "451" in page and "12" in page  # the attempt inline
    page = staff_client.get(reverse("admin:spooler_outboxmessage_change", args=[queue["failed"].id])).content.decode()
    assert "frank@example.test" in page and "no such user" in page and "spool-outcomes" in page
    assert "Message-ID" in page  # the original headers
    listing = staff_client.get(reverse(CHANGELIST), {"status__exact": "held"}).content.decode()
    assert "Not before" in listing or "not before" in listing.lower()


@pytest.mark.parametrize("action,row,expected", [
    ("hold", "queued", "held"),
    ("release", "held", "queued"),
    ("requeue_now", "deferred", "queued"),
    ("requeue_now", "failed", "queued"),
    ("cancel", "deferred", "cancelled"),
])
def test_actions_go_through_the_services(staff_client, queue, action, row, expected):
    target = queue[row]
    response = staff_client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [target.id]})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == expected
    if action == "requeue_now":
        assert target.next_attempt_at <= timezone.now() and target.not_before is None


def test_delete_action(staff_client, queue):
    ids = [queue["sent"].id, queue["failed"].id]
    staff_client.post(reverse(CHANGELIST), {"action": "delete_messages", "_selected_action": ids})
    assert not OutboxMessage.objects.filter(id__in=ids).exists()
    assert OutboxMessage.objects.count() == 3


def test_staff_without_change_permission_cannot_act(client, queue):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "Quarterly report" in page and 'value="hold"' not in page
    client.post(reverse(CHANGELIST), {"action": "cancel", "_selected_action": [queue["queued"].id]})
    queue["queued"].refresh_from_db()
    assert queue["queued"].status == "queued"


def test_services_leave_a_row_being_sent_alone(queue):
    row = queue["queued"]
    OutboxMessage.objects.filter(id=row.id).update(status="sending")
    assert queue_ops.outbox_hold(ids=[row.id]) == 0
    assert queue_ops.outbox_cancel(ids=[row.id]) == 0
    assert queue_ops.outbox_requeue(ids=[row.id]) == 0
    assert queue_ops.outbox_delete(ids=[row.id]) == 0
