from django.apps import AppConfig


class WebmailConfig(AppConfig):
    name = "mailsite.webmail"
    label = "webmail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mailsite.webmail import preferences  # noqa: F401 - connects the login signal's receiver
        from mailsite.webmail import two_factor  # noqa: F401 - the same: marks a password step for a second one
