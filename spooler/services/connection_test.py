""""Test connection" of mail account settings: real incoming (POP3/IMAP: log in, list or select) and outgoing (SMTP:
EHLO, STARTTLS or TLS, AUTH, QUIT; no mail is sent) sessions, run by a worker; the page polls the row.

Both sides run at once, each within MAIL_TIMEOUT per step (SMTP: SPOOL_CONNECT_TIMEOUT to connect), so a server that
never answers ends the test in about MAIL_TIMEOUT. A host the user typed is checked against the administrator's rule
(mail_hosts) right before connecting, and the session connects to the very address that was checked. The passwords
are cleared from the row when the test ends; old rows are deleted.
"""
import concurrent.futures
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from mailsite.mailboxes.models import ConnectionTest, MailAccount
from spooler.services import broker
from spooler.services.inbound import errors
from spooler.services.inbound.errors import HostRefused
from spooler.services.mail_hosts import SIDES, account_server_typed, host_normalize, mail_host_check
from spooler.sessions import IMAPSession, POP3Session, SMTPSession

logger = logging.getLogger(__name__)

# What the row keeps of the form (no password).
SETTINGS_KEYS = ("incoming_protocol", "incoming_host", "incoming_port", "incoming_security", "incoming_username",
                 "imap_folders", "smtp_host", "smtp_port", "smtp_security", "smtp_username")


class TooManyTests(Exception):
    """The user already has MAIL_TEST_MAX_WAITING tests waiting or running (each one ties up a worker)."""


@sensitive_variables()
def connection_test_start(*, user, settings_tried: dict, incoming_password: str = "", smtp_password: str = "",
                          account: MailAccount | None = None) -> ConnectionTest:
    """Store a test of `settings_tried` and queue it for a worker once committed. An empty password of an existing
    `account` (the user's) means its stored one, on the same server only. Raises TooManyTests."""
    connection_tests_purge()
    recent = timezone.now() - timedelta(seconds=settings.MAIL_TEST_PICKUP_SECONDS + 3 * settings.MAIL_TIMEOUT)
    unfinished = ConnectionTest.objects.filter(user=user, created_at__gte=recent).exclude(
        status=ConnectionTest.Status.DONE)
    if unfinished.count() >= settings.MAIL_TEST_MAX_WAITING:
        raise TooManyTests
    test = ConnectionTest.objects.create(
        user=user, account=account, settings={key: settings_tried.get(key) for key in SETTINGS_KEYS},
        incoming_password=incoming_password, smtp_password=smtp_password,
    )
    transaction.on_commit(lambda: broker.connection_test_request(test_id=test.id))
    return test


def connection_tests_purge(*, now=None) -> int:
    """Delete tests older than MAIL_TEST_KEEP_SECONDS (with any password a test never picked up still holds)."""
    before = (now or timezone.now()) - timedelta(seconds=settings.MAIL_TEST_KEEP_SECONDS)
    return ConnectionTest.objects.filter(created_at__lt=before).delete()[0]


def connection_test_run(*, test_id: int) -> ConnectionTest | None:
    """Run a queued test (once: a second delivery of the task finds it claimed) and record the result per side."""
    claimed = ConnectionTest.objects.filter(id=test_id, status=ConnectionTest.Status.QUEUED).update(
        status=ConnectionTest.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        return None
    test = ConnectionTest.objects.select_related("account").get(id=test_id)
    # (read here: the threads below touch no database)
    test.typed_sides = {side for side in SIDES
                        if test.account is not None and account_server_typed(account=test.account, side=side)}
    results = {"incoming": (False, errors.UNEXPECTED), "smtp": (False, errors.UNEXPECTED)}
    try:
        # Sessions only in the threads (no database there); both sides at once.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="connection-test") as pool:
            futures = {"incoming": pool.submit(_side, _incoming_check, test),
                       "smtp": pool.submit(_side, _smtp_check, test)}
            results = {side: future.result() for side, future in futures.items()}
    finally:
        ConnectionTest.objects.filter(id=test_id).update(
            status=ConnectionTest.Status.DONE, finished_at=timezone.now(), incoming_password="", smtp_password="",
            incoming_ok=results["incoming"][0], incoming_result=results["incoming"][1],
            smtp_ok=results["smtp"][0], smtp_result=results["smtp"][1],
        )
    test.refresh_from_db()
    return test


def _side(check, test: ConnectionTest) -> tuple[bool, str]:
    """(passed, words) of one side; never raises."""
    try:
        check(test)
        return True, ""
    except HostRefused as exc:
        return False, errors.UNREACHABLE if exc.unresolved else exc.words
    except Exception as exc:  # noqa: BLE001 - any failure is a result to show, in plain words
        logger.info("connection test %s: %s", test.id, errors.detail(exc))
        return False, errors.connection_test_words(exc)


@sensitive_variables("password")
def _target(test: ConnectionTest, side: str) -> tuple[str, int, str | None, str]:
    """(host, port, address to connect to or None, password) of one side. The account's own server as stored and
    set by the administrator is used as it is, as polls do; any other (the user's own included) is checked now."""
    tried = test.settings
    host, port = host_normalize(tried[f"{side}_host"] or ""), int(tried[f"{side}_port"] or 0)
    password = getattr(test, f"{side}_password")
    account = test.account
    if account is not None and (host, port) == (host_normalize(getattr(account, f"{side}_host")),
                                                getattr(account, f"{side}_port")):
        address = mail_host_check(host=host, port=port) if side in test.typed_sides else None
        return host, port, address, password or getattr(account, f"{side}_password")
    return host, port, mail_host_check(host=host, port=port), password


@sensitive_variables("password")
def _incoming_check(test: ConnectionTest) -> None:
    tried = test.settings
    host, port, address, password = _target(test, "incoming")
    common = dict(security=tried["incoming_security"], timeout=settings.MAIL_TIMEOUT, connect_to=address)
    if tried["incoming_protocol"] == "imap":
        folders = [f for f in tried.get("imap_folders") or [] if f] or ["INBOX"]
        with IMAPSession(host, port, tried["incoming_username"], password, folder=folders[0], **common) as session:
            for folder in folders[1:]:
                session.select(folder)
    else:
        with POP3Session(host, port, tried["incoming_username"], password, **common) as session:
            session.uidl()


@sensitive_variables("password")
def _smtp_check(test: ConnectionTest) -> None:
    tried = test.settings
    host, port, address, password = _target(test, "smtp")
    username = tried.get("smtp_username") or None  # none: no authentication
    with SMTPSession(host, port, username, password if username else None, security=tried["smtp_security"],
                     timeout=settings.MAIL_TIMEOUT, connect_timeout=settings.SPOOL_CONNECT_TIMEOUT,
                     connect_to=address):
        pass  # connected: greeted, EHLO, STARTTLS or TLS, AUTH; leaving says QUIT
