"""The Celery app. Settings come from Django's, under the CELERY_ namespace."""
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")

app = Celery("mailsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**_kwargs):
    """The worker and beat log through Django's LOGGING (text or JSON lines, LOG_FORMAT) instead of Celery's own
    set-up (with a receiver here, Celery leaves the root logger alone)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
