"""The settings page's form (language, time zone) and the first login's time zone, taken from the browser."""
import zoneinfo
from urllib.parse import unquote

from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mailsite.mailboxes.preferences import preference_zone_from_browser
from mailsite.middleware import TIME_ZONE_COOKIE


def _language_choices():
    # Each language in its own name, as the switch shows them.
    return [("", pgettext_lazy("language", "Your browser's"))] + list(settings.LANGUAGES)


def _zone_choices():
    # Computed per form: the list of zones is read from the system's tz data (about 600 names).
    return [("", pgettext_lazy("time zone", "Your browser's"))] + [
        (name, name) for name in sorted(zoneinfo.available_timezones())]


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_language_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=_zone_choices,
                                  help_text=_("Every date on the site is shown in it."))


@receiver(user_logged_in, dispatch_uid="webmail-preference-zone")
def preference_zone_on_login(sender, request, user, **kwargs):
    """The first login that reports the browser's zone (static/js/site.js sets the cookie) saves it."""
    if request is not None:
        preference_zone_from_browser(user=user, zone_name=unquote(request.COOKIES.get(TIME_ZONE_COOKIE, "")))
