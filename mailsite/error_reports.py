"""Error reports (the DEBUG page, mails to ADMINS) without secrets: the variables and POST fields marked with
sensitive_variables / sensitive_post_parameters hidden with DEBUG on too; besides Django's hiding of settings named
like a password or key, the password of any URL (REDIS_URL, CELERY_BROKER_URL, DATABASE_URL, ... in the settings, the
request's environment or a frame's variables) is replaced by stars."""
import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@ (the user may be empty: redis://:password@host).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<password>[^@/?#\s]*)@", re.I)


def url_password_mask(text: str, substitute: str = "********************") -> str:
    # str(): a lazy setting (django-axes' JSONSerializableLazyObject) passes isinstance(str) but is no str for re.
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{substitute}@", str(text))


class SecretsReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request):
        """Django's filter hides sensitive_variables / sensitive_post_parameters with DEBUG off only; here always:
        DEBUG is `make run`'s default, and its error page is shown to whoever caused the error."""
        return True

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        return url_password_mask(cleansed, self.cleansed_substitute) if isinstance(cleansed, str) else cleansed

    def cleanse_special_types(self, request, value):
        cleansed = super().cleanse_special_types(request, value)
        return url_password_mask(cleansed, self.cleansed_substitute) if isinstance(cleansed, str) else cleansed
