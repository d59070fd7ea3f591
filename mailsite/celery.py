"""The Celery app. Settings come from Django's, under the CELERY_ namespace."""
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")

app = Celery("mailsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _secrets_ready(**kwargs):
    """A worker without the key of the stored passwords stops at start with the check's words (it could neither
    poll nor send). SystemExit: Celery logs and ignores an exception raised by a signal handler."""
    from django.core.exceptions import ImproperlyConfigured

    from mailsite.mailboxes.checks import secrets_ready
    try:
        secrets_ready()
    except ImproperlyConfigured as exc:
        raise SystemExit(f"mailsite: {exc}") from None


@signals.setup_logging.connect
def use_django_logging(**_kwargs):
    """The worker and beat log through Django's LOGGING (text or JSON lines, LOG_FORMAT) instead of Celery's own
    set-up (with a receiver here, Celery leaves the root logger alone)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
