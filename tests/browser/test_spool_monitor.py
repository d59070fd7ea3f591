"""The admin's spool monitor fits the screen: at 1280 px every column of the change list is readable beside the
filters, without sideways scroll of the page or of the table, in English and in Spanish; long values are cut to one
line with the whole value in their title. A screenshot goes to var/screenshots/ (to look at)."""
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from spooler.models import OutboxMessage
from tests.fixtures.browser import login
from tests.fixtures.users import PASSWORD, make_user
from tests.spooler.outbound.conftest import enqueue

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LONG_SUBJECT = "Quarterly report for the board of directors, with every appendix and a very long subject line " * 2
LONG_SENDER = "a.very.long.sender.name.for.the.monitor@mail.subdomain.example-company.test"


@pytest.fixture
def long_rows():
    user = make_user("alice")
    now = timezone.now()
    statuses = ["queued", "deferred", "held", "sent", "failed", "expired", "cancelled", "sending"]
    for n, status in enumerate(statuses):
        row = enqueue(user, [f"someone.with.a.very.long.name{n}@subdomain.example-company.test",
                             "second@example.test", "third@example.test"], subject=LONG_SUBJECT)
        OutboxMessage.objects.filter(id=row.id).update(
            status=status, attempts=n * 3, last_code=451, envelope_from=LONG_SENDER,
            next_attempt_at=now + timedelta(minutes=5), not_before=now + timedelta(days=2) if status == "held" else None,
            sent_at=now - timedelta(days=3) if status == "sent" else None, created_at=now - timedelta(days=n))


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_change_list_fits_1280_px(live_server, chromium, long_rows, locale):
    staff = get_user_model().objects.create_superuser("boss", "boss@example.test", PASSWORD)
    context = chromium.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    try:
        login(context, live_server, staff)
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/spooler/outboxmessage/")
        assert page.locator("#result_list tbody tr").count() == 8
        sizes = page.evaluate("""() => {
            const results = document.querySelector('#changelist-form .results');
            const box = results.getBoundingClientRect();
            return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                    inner: results.scrollWidth, shown: results.clientWidth, right: box.right,
                    headers: [...document.querySelectorAll('#result_list thead th')].map(
                        th => [th.innerText.trim(), th.getBoundingClientRect().right])};
        }""")
        assert sizes["page"] <= sizes["view"], sizes
        assert sizes["inner"] <= sizes["shown"], f"the table scrolls sideways: {sizes}"
        labels = [label for label, _right in sizes["headers"] if label]
        assert len(labels) == 7, labels  # id, subject, to / from, status, tries, next / done, age
        assert all(right <= sizes["right"] + 0.5 for _label, right in sizes["headers"]), sizes["headers"]
        # The cut subject keeps its whole text in the title; the held row says why it waits.
        subject = page.locator("#result_list .spool-subject").first
        assert subject.get_attribute("title").strip() == LONG_SUBJECT.strip()
        assert page.locator("#result_list td.field-when", has_text="not before" if locale == "en-US" else "").count()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"spool-monitor-1280-{locale}.png"), full_page=True)
    finally:
        context.close()
