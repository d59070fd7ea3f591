from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "mailsite.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"
