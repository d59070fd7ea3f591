"""Each user's language and time zone (UserPreference): read by every page, by the bounce notices, saved by the
settings page, the language switch and the first login."""
import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

from mailsite.mailboxes.models import UserPreference


def zone_get(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of an IANA name (from a cookie or the database), or None for anything else."""
    if not name or len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def language_valid(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def preference_get(*, user) -> UserPreference | None:
    """The user's saved choices, or None when they saved none."""
    if user is None or not user.is_authenticated:
        return None
    return UserPreference.objects.filter(user=user).first()


def preference_locale(*, user_id: int) -> tuple[str, zoneinfo.ZoneInfo | datetime.tzinfo]:
    """The language and time zone to write to this user in (mail put into their inbox): theirs, else the site's."""
    saved = UserPreference.objects.filter(user_id=user_id).values_list("language", "time_zone").first()
    language, zone = saved or ("", "")
    return (language if language_valid(language) else settings.LANGUAGE_CODE,
            zone_get(zone) or timezone.get_default_timezone())


def preference_save(*, user, **changes) -> UserPreference:
    """Save language and/or time_zone (an empty value: follow the browser)."""
    if "language" in changes and changes["language"] and not language_valid(changes["language"]):
        raise ValueError(f"unknown language {changes['language']!r}")
    if "time_zone" in changes and changes["time_zone"] and zone_get(changes["time_zone"]) is None:
        raise ValueError(f"unknown time zone {changes['time_zone']!r}")
    preference, _created = UserPreference.objects.update_or_create(user=user, defaults=changes)
    return preference


def preference_zone_from_browser(*, user, zone_name: str) -> bool:
    """On login: keep the zone the browser reported when the user has none saved yet. True if saved."""
    if zone_get(zone_name) is None:
        return False
    preference, _created = UserPreference.objects.get_or_create(user=user)
    if preference.time_zone:
        return False
    # A conditional UPDATE: two logins at once save one zone, never overwrite a chosen one.
    return UserPreference.objects.filter(id=preference.id, time_zone="").update(time_zone=zone_name) == 1
