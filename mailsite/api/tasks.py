"""Thin Celery tasks of the API."""
from celery import shared_task

from mailsite.api import services


@shared_task(name="mailsite.api.tasks.idempotency_keys_purge")
def idempotency_keys_purge() -> int:
    return services.idempotency_keys_purge()
