from django.apps import AppConfig


class SpoolerConfig(AppConfig):
    name = "spooler"
    default_auto_field = "django.db.models.BigAutoField"
