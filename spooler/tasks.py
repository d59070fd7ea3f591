"""Thin Celery tasks: they take ids and call a service. The database row is the truth."""
from celery import shared_task

from spooler.services import inbound, outbound


@shared_task(name="spooler.tasks.deliver_due")
def deliver_due() -> int:
    return outbound.outbox_deliver_due()


@shared_task(name="spooler.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return outbound.outbox_sweep()


@shared_task(name="spooler.tasks.poll_account")
def poll_account(account_id: int) -> int | None:
    return inbound.account_poll(account_id=account_id)


@shared_task(name="spooler.tasks.poll_due_accounts")
def poll_due_accounts() -> int:
    ids = inbound.accounts_due_for_poll()
    for account_id in ids:
        poll_account.delay(account_id)
    return len(ids)
