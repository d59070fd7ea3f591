"""Senders and dates as the lists show them, and the reader's time zone from the browser's cookie."""
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from django.http import HttpResponse

from mailsite.mailboxes.preferences import zone_get as _zone
from mailsite.webmail.templatetags.mail_format import list_date, sender_address, sender_name

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("sender", "name", "address"), [
    ('"Weekly Deals" <news@example.org>', "Weekly Deals", "news@example.org"),
    ("news@example.org", "news@example.org", "news@example.org"),
    ("", "(unknown sender)", ""),
    ("Ünïcode Name <u@example.org>", "Ünïcode Name", "u@example.org"),
])
def test_sender_parts(sender, name, address):
    assert (sender_name(sender), sender_address(sender)) == (name, address)


def test_today_is_a_time_this_year_a_day_before_a_date():
    with timezone.override(UTC):
        assert list_date(datetime(2026, 12, 3, 9, 5, tzinfo=UTC), NOW) == "09:05"
        assert list_date(datetime(2026, 3, 1, 9, 5, tzinfo=UTC), NOW) == "1 Mar"
        assert list_date(datetime(2025, 3, 1, 9, 5, tzinfo=UTC), NOW) == "1 Mar 2025"
        assert list_date(None) == ""


def test_dates_are_in_the_reader_s_zone():
    late = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    with timezone.override(_zone("Asia/Tokyo")):
        assert list_date(late, datetime(2026, 12, 4, 10, 0, tzinfo=UTC)) == "08:30"


@pytest.mark.parametrize("cookie", ["", "Mars/Olympus", "../../etc/passwd", "Europe/Paris; x", "A" * 100, "\x00"])
def test_a_bad_zone_cookie_is_ignored(cookie):
    assert _zone(cookie) is None


def test_the_cookie_zone_is_active_while_the_page_renders(rf):
    from django.contrib.auth.models import AnonymousUser

    from mailsite.middleware import user_preferences

    seen = []
    middleware = user_preferences(lambda request: seen.append(timezone.get_current_timezone_name()) or HttpResponse())
    request = rf.get("/")
    request.user = AnonymousUser()
    request.COOKIES["tz"] = "America%2FNew_York"
    middleware(request)
    request.COOKIES["tz"] = "nonsense"
    middleware(request)
    assert seen == ["America/New_York", "UTC"]
