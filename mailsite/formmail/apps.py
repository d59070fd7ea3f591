from django.apps import AppConfig


class FormmailConfig(AppConfig):
    name = "mailsite.formmail"
    label = "formmail"
