from django.apps import AppConfig


class WebmailConfig(AppConfig):
    name = "mailsite.webmail"
    label = "webmail"
    default_auto_field = "django.db.models.BigAutoField"
