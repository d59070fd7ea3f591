"""How the lists show senders and dates: a display name with the address on hover, dates in the reader's zone,
today's as a time."""
from django import template
from django.utils import timezone
from django.utils.formats import date_format

from mailsite.mailboxes.placement import sender_parts

register = template.Library()


@register.filter
def sender_name(sender: str) -> str:
    return sender_parts(sender)[0] or "(unknown sender)"


@register.filter
def sender_address(sender: str) -> str:
    return sender_parts(sender)[1]


@register.filter
def list_date(value, now=None) -> str:
    """Today: "14:05"; this year: "3 Dec"; before: "3 Dec 2025" (in the active time zone)."""
    if not value:
        return ""
    now = timezone.localtime(now or timezone.now())
    local = timezone.localtime(value)
    if local.date() == now.date():
        return date_format(local, "H:i")
    if local.year == now.year:
        return date_format(local, "j M")
    return date_format(local, "j M Y")


@register.filter
def full_date(value) -> str:
    """The whole date and time with the zone, for a title on hover and the message page."""
    return date_format(timezone.localtime(value), "D j M Y, H:i T") if value else ""
