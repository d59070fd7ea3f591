"""Beat's schedule names tasks the worker has: the API's purge of old Idempotency-Keys among them."""
from django.conf import settings

from mailsite.celery import app


def test_every_scheduled_task_is_registered():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "mailsite.api.tasks.idempotency_keys_purge" in scheduled
    assert scheduled <= set(app.tasks)
