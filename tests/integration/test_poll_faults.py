"""Fault tests of the poller with real parts: Dovecot (the sandbox), a real Celery worker with beat, Redis.

- the worker is SIGKILLed mid-session in delete mode, twice → every message stored exactly once, server empty;
- Dovecot is stopped mid-poll → the error is recorded, a later poll completes, nothing is lost;
- a wrong password → the status says so, and the retries back off (counted in Dovecot's own log);
- a mailbox of the whole hostile corpus plus normal mail, read after "Check now" → all stored.
"""
import re

import pytest
from django.test import Client
from django.urls import reverse

from mailsite.mailboxes.models import MailAccount, Message
from tests import corpus
from tests.fixtures.inbound import forget_queued_tasks, kill_worker, publish_to_session_redis, start_worker
from tests.fixtures.waiting import wait_for
from tests.fixtures.sandbox import sandbox_dir, start_sandbox
from tests.fixtures.users import make_user
from tests.spooler.inbound.conftest import server_uids, simple, use_imap

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _publisher():
    publish_to_session_redis()


def count(account):
    return Message.objects.filter(account=account).count()


def fresh(account):
    return MailAccount.objects.get(id=account.id)


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_sigkill_mid_session_in_delete_mode_stores_every_message_once(
        mail_sandbox, redis_server, tmp_path, protocol):
    total = 200
    user = make_user(f"killed{protocol}", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    if protocol == "imap":
        use_imap(account, mail_sandbox)
    account.delete_after_download = True
    account.save()
    for n in range(total):
        mail_sandbox.deliver(account.address, simple(n))
    env = dict(POLL_TEST_STORE_DELAY_SECONDS=0.02, POLL_LEASE_SECONDS=3, POLL_MAX_MESSAGES=1000)

    for round_, kill_at in enumerate((30, 100)):
        worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True,
                              name=f"killed-{round_}", **env)
        try:
            assert wait_for(lambda: count(account) >= kill_at, timeout=60), worker.log_text()[-3000:]
        finally:
            kill_worker(worker)
        stored = count(account)
        assert stored < total, "the poll was over before the kill: nothing was tested"
        assert fresh(account).poll_lease_until is not None  # it died holding the lease, mid-session
        # The session died without QUIT/expunge: what was stored (and DELE'd) is still on the server.
        assert len(server_uids(account, mail_sandbox)) > total - stored

    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True, name="survivor", **env)
    try:
        assert wait_for(lambda: count(account) == total and not server_uids(account, mail_sandbox), timeout=60), \
            worker.log_text()[-3000:]
        assert wait_for(lambda: fresh(account).last_poll_error == "" and fresh(account).last_success_at, timeout=20)
    finally:
        worker.stop()
    subjects = list(Message.objects.filter(account=account).values_list("subject", flat=True))
    assert len(subjects) == total and sorted(subjects) == sorted(f"message {n}" for n in range(total))
    assert not Message.objects.filter(account=account, on_server=True).exists()


def test_dovecot_stopped_mid_poll_records_the_error_and_loses_nothing(redis_server, tmp_path):
    total = 120
    with sandbox_dir(tmp_path, "own-sandbox") as base:
        sandbox = start_sandbox(base)
        try:
            user = make_user("stopped", sandbox=sandbox)
            account = user.mail_accounts.get()
            account.delete_after_download = True
            account.save()
            for n in range(total):
                sandbox.deliver(account.address, simple(n))
            worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=sandbox, beat=True, name="stopped",
                                  POLL_TEST_STORE_DELAY_SECONDS=0.03, POLL_RETRY_BASE_SECONDS=1,
                                  POLL_RETRY_MAX_SECONDS=2, MAIL_TIMEOUT=3)
            try:
                assert wait_for(lambda: count(account) >= 20, timeout=60), worker.log_text()[-3000:]
                sandbox.stop()  # Dovecot goes away in the middle of the session
                error = wait_for(lambda: fresh(account).last_poll_error, timeout=30)
                assert error, worker.log_text()[-3000:]
                assert re.match(r"The (connection to the server was lost|server could not be reached)", error)
                assert fresh(account).poll_failures >= 1
                assert count(account) < total
                sandbox.start()
                assert wait_for(lambda: count(account) == total and fresh(account).last_poll_error == "",
                                timeout=60), worker.log_text()[-3000:]
                assert wait_for(lambda: not server_uids(account, sandbox), timeout=30)
            finally:
                worker.stop()
        finally:
            sandbox.stop()
    subjects = sorted(Message.objects.filter(account=account).values_list("subject", flat=True))
    assert subjects == sorted(f"message {n}" for n in range(total))
    assert fresh(account).poll_failures == 0


def test_wrong_password_is_shown_and_retries_back_off(mail_sandbox, redis_server, tmp_path):
    user = make_user("wrongpw", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    account.incoming_password = "not-the-password"
    account.save()
    # Beat runs every second; the backoff is 2 s, 4 s, 4 s...: in 9 s that is 3 or 4 tries, not 9.
    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=True, name="wrongpw",
                          POLL_RETRY_BASE_SECONDS=2, POLL_RETRY_MAX_SECONDS=4)
    try:
        assert wait_for(lambda: fresh(account).poll_failures >= 1, timeout=30), worker.log_text()[-3000:]
        first = fresh(account).last_polled_at
        wait_for(lambda: False, timeout=9)
        latest = fresh(account)
    finally:
        worker.stop()
    tries = latest.poll_failures
    assert 2 <= tries <= 5, tries
    assert (latest.last_polled_at - first).total_seconds() < 10
    log = mail_sandbox.log_path.read_text(errors="replace")
    failures = [line for line in log.splitlines() if f"user=<{account.address}>" in line and "auth failed" in line]
    assert len(failures) == tries  # Dovecot saw exactly as many logins as we recorded: no hammering
    client = Client()
    client.force_login(user)
    status = client.get(reverse("webmail:status")).json()["accounts"][0]
    assert status["state"] == "error"
    assert status["text"].startswith(f"Wrong user name or password ({account.incoming_host}:{account.incoming_port}).")
    assert "Next try in" in status["text"] or "Trying again" in status["text"]
    assert "Wrong user name or password" in client.get(reverse("webmail:inbox")).content.decode()


def test_corpus_mailbox_through_the_worker_after_check_now(mail_sandbox, redis_server, tmp_path):
    files = corpus.require(corpus.all_mail(), at_least=70)
    user = make_user("corpus", sandbox=mail_sandbox)
    account = user.mail_accounts.get()
    use_imap(account, mail_sandbox)
    mail_sandbox.deliver(account.address, simple(0, "normal first"))
    for case in files:
        mail_sandbox.deliver(account.address, case.data)
    mail_sandbox.deliver(account.address, simple(1, "normal last"))
    forget_queued_tasks(redis_server.url)
    worker = start_worker(tmp_path, redis_url=redis_server.url, sandbox=mail_sandbox, beat=False, name="corpus")
    try:
        client = Client()
        client.force_login(user)
        assert client.post(reverse("webmail:check_now"), HTTP_ACCEPT="application/json").json() == {"queued": 1}
        assert wait_for(lambda: count(account) == len(files) + 2, timeout=60), worker.log_text()[-3000:]
    finally:
        worker.stop()
    account = fresh(account)
    assert account.last_poll_error == "" and account.last_poll_fetched == len(files) + 2
    assert Message.objects.filter(account=account, subject__in=["normal first", "normal last"]).count() == 2
