"""The sandbox's SMTP server: aiosmtpd, delivering into the Maildirs."""

from __future__ import annotations

import logging
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .config import split_address
from .store import MailStore

log = logging.getLogger("spooler.sandbox")


class MaildirHandler:
    """Accepts mail for users of one domain and writes it into their Maildirs.

    Each stored message is ``Return-Path: <envelope sender>\\r\\n`` followed by the
    message bytes exactly as received (after SMTP dot-unstuffing), as a delivering
    MTA would store them.
    """

    def __init__(self, store: MailStore, domain: str, catch_all: bool):
        self.store = store
        self.domain = domain
        self.catch_all = catch_all
        self.delivered = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            local, domain = split_address(address)
        except ValueError:
            return f"550 5.1.3 <{address}>: bad recipient address syntax"
        if domain != self.domain:
            return (f"550 5.7.1 <{address}>: relay access denied; "
                    f"this sandbox only accepts mail for @{self.domain}")
        if not self.catch_all and not self.store.has_user(f"{local}@{domain}"):
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(f"{local}@{domain}")
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        sender = (envelope.mail_from or "").strip("<>").encode("utf-8", "surrogateescape")
        raw = b"Return-Path: <" + sender + b">\r\n" + envelope.original_content
        try:
            for rcpt in envelope.rcpt_tos:
                local, domain = rcpt.split("@")
                path = self.store.deliver(local, domain, raw)
                log.info("delivered %s -> %s", envelope.mail_from, path)
        except OSError as exc:
            log.exception("delivery failed")
            return f"451 4.3.0 could not store the message: {exc.strerror}"
        self.delivered += 1
        return "250 2.0.0 OK: delivered"


class _Authenticator:
    """SMTP AUTH (PLAIN, LOGIN) against the sandbox users; AUTH is optional."""

    def __init__(self, store: MailStore):
        self.store = store

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        try:
            login = auth_data.login.decode("utf-8").lower()
            password = auth_data.password.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False)
        ok = self.store.users().get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


def make_controller(store: MailStore, *, host: str, port: int, domain: str,
                    catch_all: bool, max_size: int,
                    tls_context: ssl.SSLContext | None) -> Controller:
    handler = MaildirHandler(store, domain, catch_all)
    return Controller(
        handler,
        hostname=host,
        port=port,
        ready_timeout=5.0,
        server_hostname=f"smtp.{domain}",  # never socket.getfqdn(): it may wait on DNS
        data_size_limit=max_size,
        tls_context=tls_context,
        require_starttls=False,
        authenticator=_Authenticator(store),
        auth_required=False,
        auth_require_tls=False,
    )
