"""Thin Celery tasks: they take ids and call a service. The database row is the truth.

Published only by spooler.services.broker, which refers to these functions (not to their names)."""
from celery import shared_task
from celery.signals import worker_process_shutdown

from spooler.services import broker
from spooler.services import connection_test as connection_tests
from spooler.services import storage
from spooler.services.inbound import poll, schedule
from spooler.services.outbound import delivery, smtp_connections, sweeper


@shared_task(name="spooler.tasks.deliver_due")
def deliver_due() -> int:
    return delivery.outbox_deliver_due()


@worker_process_shutdown.connect
def _close_smtp_connections(**_kwargs) -> None:
    smtp_connections.close_sessions()  # say QUIT to the relays this process kept connections to


@shared_task(name="spooler.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return sweeper.outbox_sweep()


@shared_task(name="spooler.tasks.poll_account")
def poll_account(account_id: int, due_only: bool = False) -> int | None:
    """Poll one account. due_only (beat): skip it unless due. A poll stopped at its cap queues the next one."""
    result = poll.account_poll(account_id=account_id, due_only=due_only)
    if result is not None and result.more and result.stored and not result.error:
        broker.accounts_poll_request(account_ids=[account_id], due_only=True)
    return result.stored if result is not None else None


@shared_task(name="spooler.tasks.poll_due_accounts")
def poll_due_accounts() -> int:
    ids = schedule.accounts_due_for_poll()
    broker.accounts_poll_request(account_ids=ids, due_only=True)
    return len(ids)


@shared_task(name="spooler.tasks.connection_test")
def connection_test(test_id: int) -> str | None:
    test = connection_tests.connection_test_run(test_id=test_id)
    return test.status if test is not None else None


@shared_task(name="spooler.tasks.storage_collect")
def storage_collect() -> dict:
    collected = storage.storage_collect()
    return {"files": collected.files, "blobs": collected.blobs}
