"""Inbound mail: poll an account's POP3/IMAP server into the database, with no loss and no duplicates.

Order, per message: retrieve → store and commit → only then DELE (POP3) or flag \\Deleted (IMAP, expunged at
LOGOUT) → QUIT/LOGOUT. Messages are committed in small batches; nothing of a batch is deleted on the server
before the batch is committed. A crash anywhere therefore loses nothing: what was not committed is still on
the server, and what was committed is known by its identity, so the next poll stores nothing twice (and, in
delete mode, deletes what was stored but not yet deleted).

Identity, unique per (account, folder, uid) in the database:
- POP3: the UIDL. A server without UIDL (CAPA checked) is read in leave-on-server mode only, each message
  keyed by the SHA-256 of its bytes ("sha256:<hex>", "#2", "#3"... for identical copies).
- IMAP: "UIDVALIDITY:UID" per folder. When UIDVALIDITY changes (or a POP3 server renumbers its UIDLs),
  the old keys vanish from the listing: a new key whose bytes hash to a stored message that is no longer
  listed re-keys that row instead of storing a copy; only truly new messages are stored.

One poll per account at a time: a short lease kept alive by a heartbeat while the poll runs (lease.py), so
a dead poller holds its account for less than a minute. Each poll is capped in messages (POLL_MAX_MESSAGES) and seconds
(POLL_SESSION_SECONDS), then closes the session cleanly; the next poll continues. A failing account backs off
exponentially (POLL_RETRY_BASE_SECONDS doubling up to POLL_RETRY_MAX_SECONDS); errors are kept in plain words.
"""
import dataclasses
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mailsite.mailboxes.models import MailAccount
from spooler.services import rules
from spooler.services.inbound import errors as poll_errors
from spooler.services.inbound.folder_sync import FolderSync
from spooler.services.inbound.lease import LeaseLost, PollLease
from spooler.services.inbound.writeback import account_write_back
from spooler.services.mail_hosts import account_server_typed
from spooler.services.metrics import poll_counters
from spooler.sessions import SessionError

logger = logging.getLogger(__name__)
poll_logger = logging.getLogger("spooler.poll")


@dataclasses.dataclass
class PollResult:
    stored: int = 0
    more: bool = False  # stopped at a cap: the next poll continues
    error: str = ""


# --- public services -------------------------------------------------------------------------------------

def account_poll(*, account_id: int, due_only: bool = False) -> PollResult | None:
    """Fetch new mail of one account. None if another poll holds the lease (or, with due_only, it is not due)."""
    lease = PollLease.take(account_id, due_only=due_only)
    if lease is None:
        return None
    started = time.monotonic()
    account = MailAccount.objects.get(id=account_id)
    state = poll_counters.account_state(poll_failures=account.poll_failures)
    poll = Poll(account, lease)
    error = detail = ""
    outcome = "ok"
    lease.start_heartbeat()
    try:
        poll.run()
    except LeaseLost:
        logger.warning("poll of %s lost its lease; another poll continues", account.address)
        outcome = "lease_lost"
        return poll.result
    except Exception as exc:  # noqa: BLE001 - recorded for the user and the admin; the next poll retries
        typed = account_server_typed(account=account, side="incoming")
        error, detail = poll_errors.describe(exc, network=not typed), poll_errors.detail(exc)
        outcome = "error"
        if isinstance(exc, SessionError):
            logger.warning("poll of %s failed: %s", account.address, detail)
        else:
            logger.exception("poll of %s failed", account.address)
    finally:
        poll.result.error = error
        _finish(account, poll, error=error, detail=detail)
        _count(account, poll, state=state, outcome=outcome, seconds=time.monotonic() - started)
    return poll.result


# --- the outcome ---------------------------------------------------------------------------------------------

def _finish(account: MailAccount, poll: "Poll", *, error: str, detail: str) -> None:
    """Release the lease (ours only) and record the outcome."""
    now = timezone.now()
    interval = account.poll_interval or settings.POLL_INTERVAL_SECONDS
    fields = dict(
        last_polled_at=now,
        last_poll_fetched=poll.result.stored,
        last_poll_error=error,
        last_poll_error_detail=detail,
        poll_notice=poll.notice,
    )
    if poll.total is not None:
        fields.update(sync_done=poll.done, sync_total=poll.total)
    if error:
        failures = account.poll_failures + 1
        fields.update(poll_failures=failures,
                      next_poll_at=now + max(timedelta(seconds=interval), rules.poll_retry_delay(failures)))
    else:
        fields.update(poll_failures=0, last_success_at=now,
                      next_poll_at=now if poll.result.more else now + timedelta(seconds=interval))
    poll.lease.release(**fields)


def _count(account: MailAccount, poll: "Poll", *, state: str, outcome: str, seconds: float) -> None:
    """One log line (logger "spooler.poll", its facts as `extra` fields: one JSON object with LOG_FORMAT=json) and
    the counters of /metrics. Ids, counts and plain-words errors only: never a password or a message."""
    stored = poll.result.stored
    fields = {"event": "poll", "account_id": account.id, "state": state, "stored": stored,
              "duration_ms": int(seconds * 1000), "outcome": outcome, "error": poll.result.error}
    poll_logger.info("poll account=%s state=%s stored=%s duration_ms=%s outcome=%s%s", account.id, state, stored,
                     fields["duration_ms"], outcome, f": {poll.result.error}" if poll.result.error else "",
                     extra=fields)
    poll_counters.poll_count(state=state, error=outcome == "error", stored=stored, seconds=seconds)


# --- one poll ----------------------------------------------------------------------------------------------


class Poll:
    def __init__(self, account: MailAccount, lease: PollLease):
        self.account = account
        self.lease = lease
        self.result = PollResult()
        self.notice = ""
        # Limits read once per poll (settings are a lazy object: costly in a loop of thousands).
        self.deadline = time.monotonic() + settings.POLL_SESSION_SECONDS
        self.max_messages = settings.POLL_MAX_MESSAGES
        self.max_bytes = settings.MAX_MESSAGE_BYTES
        self.test_delay = settings.POLL_TEST_STORE_DELAY_SECONDS
        self.total: int | None = None  # messages on the server (listed so far), for the progress line
        self.done = 0  # of those, how many are stored
        self.last_checkpoint = time.monotonic()
        self.taken = 0  # messages fetched for storing (committed or in the open batch), against the cap

    def budget_left(self) -> bool:
        return self.taken < self.max_messages and time.monotonic() < self.deadline

    def run(self) -> None:
        account_write_back(self.account)  # the user's changes first: a sync then sees the server as they left it
        for folder in self.account.folders:
            if not self.budget_left():
                self.result.more = True
                return
            FolderSync(self, folder).run()

    def checkpoint(self, force: bool = False) -> None:
        """Publish progress and renew the lease (one UPDATE). LeaseLost if another poll holds it now."""
        now_m = time.monotonic()
        if not force and now_m - self.last_checkpoint < 1.0:
            return
        self.last_checkpoint = now_m
        self.lease.renew(**({} if self.total is None else {"sync_done": self.done, "sync_total": self.total}))
