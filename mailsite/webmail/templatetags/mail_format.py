"""How the lists show senders and dates: a display name with the address on hover, dates in the reader's zone
and language, today's as a time.

The date formats are translated strings (Django's date format characters): each language writes its own order and
words ("3 Dec 2025", "3 dic 2025"); month and day names come from Django's catalogs."""
from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mailsite.mailboxes.display import invisible_strip
from mailsite.mailboxes.placement import sender_parts

register = template.Library()


@register.filter
def sender_name(sender: str) -> str:
    return invisible_strip(sender_parts(sender)[0]) or _("(unknown sender)")


@register.filter
def visible(value: str) -> str:
    """A name or subject without direction overrides (mailsite.mailboxes.display; messages stored before that
    was done at store time still have them)."""
    return invisible_strip(value)


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
        return date_format(local, pgettext("date format: a time today, in a list", "H:i"))
    if local.year == now.year:
        return date_format(local, pgettext("date format: a day this year, in a list", "j M"))
    return date_format(local, pgettext("date format: a day of another year, in a list", "j M Y"))


@register.filter
def full_date(value) -> str:
    """The whole date and time with the zone, for a title on hover and the message page."""
    if not value:
        return ""
    return date_format(timezone.localtime(value), pgettext("date format: a whole date with the time and zone",
                                                           "D j M Y, H:i T"))
