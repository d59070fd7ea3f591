"""The reading session for one account and folder, and how many small IMAP messages to fetch at once.

POP3 servers without UIDL get a session listing message numbers (spooler.sessions.reading): the poller then
keys each message by its content hash and never deletes anything on that server.
"""
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from spooler.services.mail_hosts import account_server_address
from spooler.sessions.reading import MailReader, ReadingIMAPSession, ReadingPOP3Session

# IMAP messages up to this announced size are fetched several per command (one round trip), at most this
# many bytes and messages at a time; a server would have to understate a size many times over to push one
# literal past MAX_MESSAGE_BYTES, and then the session fails as for a single too-large message.
BATCH_FETCH_MAX_MESSAGE = 256 * 1024
BATCH_FETCH_BYTES = 1024 * 1024
BATCH_FETCH_MESSAGES = 50


@sensitive_variables("common")
def incoming_session(account, folder: str = "INBOX") -> MailReader:
    """An unconnected session on ``folder`` of the account's incoming server (POP3 has only the inbox). A server
    the user typed in is checked right now and the session connects to the address checked (HostRefused)."""
    common = dict(
        connect_to=account_server_address(account=account, side="incoming"),
        host=account.incoming_host,
        port=account.incoming_port,
        username=account.incoming_username,
        password=account.incoming_password,
        security=account.incoming_security,
        timeout=settings.MAIL_TIMEOUT,
        max_message_bytes=settings.MAX_MESSAGE_BYTES,
    )
    if account.incoming_protocol == "imap":
        return ReadingIMAPSession(folder=folder, **common)
    return ReadingPOP3Session(**common)


def batch_candidates(upcoming: list[tuple[str, int]]) -> list[str]:
    """The leading run of ``upcoming`` (uid, size) small enough to fetch in one IMAP command."""
    uids, total = [], 0
    for uid, size in upcoming:
        if size > BATCH_FETCH_MAX_MESSAGE or size > settings.MAX_MESSAGE_BYTES // 4 or len(uids) >= BATCH_FETCH_MESSAGES:
            break
        if uids and total + size > BATCH_FETCH_BYTES:
            break
        uids.append(uid)
        total += size
    return uids
