"""The poll lease with real parts (Dovecot, Celery worker processes with beat, Redis): a poll slower than its
lease keeps the account, and a killed poller gives it up within the lease, so the next poll starts soon."""
import re

import pytest

from mailsite.mailboxes.models import MailAccount, Message
from tests.fixtures.inbound import kill_worker, publish_to_session_redis, start_worker
from tests.fixtures.users import make_user
from tests.fixtures.waiting import wait_for
from tests.spooler.inbound.conftest import simple

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 1.5  # seconds: a heartbeat every 0.5 s
SLOW = 2.5  # seconds per message (POLL_TEST_STORE_DELAY_SECONDS): each one outlasts the lease by itself


@pytest.fixture(autouse=True)
def _publisher():
    publish_to_session_redis()


def stored(account) -> int:
    return Message.objects.filter(account=account).count()


def logins(sandbox, account) -> int:
    """POP3 logins of this account in Dovecot's own log: one per poll that got as far as the server."""
    log = sandbox.log_path.read_text(errors="replace")
    return len(re.findall(rf"pop3-login: Info: Login: user=<{re.escape(account.address)}>", log))


def test_a_poll_slower_than_its_lease_keeps_the_account(mail_sandbox, redis_server, tmp_path):
    user = make_user("slowpoll", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    for n in range(3):
        mail_sandbox.deliver(account.address, simple(n))
    # Beat asks every second, and two pool processes could poll: only the heartbeat keeps the second one out.
    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True, name="slow",
                          POLL_LEASE_SECONDS=LEASE, POLL_TEST_STORE_DELAY_SECONDS=SLOW)
    try:
        assert wait_for(lambda: stored(account) == 3 and not MailAccount.objects.get(id=account.id).polling,
                        timeout=60), worker.log_text()[-3000:]
        log = worker.log_text()
    finally:
        worker.stop()
    assert "lost its lease" not in log
    assert logins(mail_sandbox, account) == 1  # one poll did it all, its lease renewed through every slow message


def test_after_a_killed_poll_the_next_one_starts_within_the_lease(mail_sandbox, redis_server, tmp_path, fault_counts):
    user = make_user("killedpoll", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    for n in range(4):
        mail_sandbox.deliver(account.address, simple(n))
    env = dict(POLL_LEASE_SECONDS=LEASE, POLL_TEST_STORE_DELAY_SECONDS=SLOW)
    first = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True, name="first", **env)
    try:
        assert wait_for(lambda: stored(account) >= 1, timeout=60), first.log_text()[-3000:]
    finally:
        kill_worker(first)
    assert stored(account) < 4, "the poll was over before the kill: nothing was tested"
    assert MailAccount.objects.get(id=account.id).poll_lease_until is not None  # it died holding the lease
    second = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True, name="second",
                          POLL_LEASE_SECONDS=LEASE)
    try:
        # The dead poll's lease ends 1.5 s after its last heartbeat; a lease of the old 600 s would hold the
        # account for ten minutes, far past this wait.
        assert wait_for(lambda: stored(account) == 4, timeout=45), second.log_text()[-3000:]
    finally:
        second.stop()
    subjects = list(Message.objects.filter(account=account).values_list("subject", flat=True))
    fault_counts(f"poll-lease: on-server=4 stored={len(subjects)} distinct={len(set(subjects))} killed=1 "
                 f"polls={logins(mail_sandbox, account)}")
    assert sorted(subjects) == [f"message {n}" for n in range(4)]
    assert logins(mail_sandbox, account) == 2
