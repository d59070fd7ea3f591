"""Helpers for the poller's tests: accounts on the sandbox, a POP3 proxy that hides UIDL, the server's view."""
import socket
import threading

import pytest

from spooler.sessions import IMAPSession, POP3Session
from tests.fixtures.net import free_port
from tests.fixtures.users import make_user


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def reader(db, mail_sandbox):
    return make_user("reader", sandbox=mail_sandbox)


@pytest.fixture
def account(reader):
    return reader.mail_accounts.get()


def use_imap(account, sandbox, **changes):
    account.incoming_protocol = "imap"
    account.incoming_port = sandbox.config.imap_port
    for name, value in changes.items():
        setattr(account, name, value)
    account.save()
    return account


def simple(n, subject=None, extra=b""):
    subject = subject or f"message {n}"
    return (f"From: Sender <sender@example.test>\r\nTo: reader@example.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <m{n}-{id(extra)}@example.test>\r\n").encode() + extra + f"\r\nbody {n}\r\n".encode()


def server_uids(account, sandbox, folder="INBOX"):
    """What the server holds now, read with a fresh session (POP3 for POP3 accounts)."""
    if account.incoming_protocol == "imap":
        session = IMAPSession("127.0.0.1", sandbox.config.imap_port, account.incoming_username,
                              account.incoming_password, security="none", folder=folder, timeout=10)
    else:
        session = POP3Session("127.0.0.1", sandbox.config.pop3_port, account.incoming_username,
                              account.incoming_password, security="none", timeout=10)
    with session:
        return [uid for uid, _ in session.uidl()]


class NoUIDLProxy:
    """A TCP proxy in front of Dovecot's POP3 that makes it a server without UIDL: CAPA lists no UIDL line
    and the UIDL command is answered -ERR. Everything else passes through unchanged."""

    def __init__(self, port):
        self.target = port
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.uidl_asked = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client):
        server = socket.create_connection(("127.0.0.1", self.target))
        client_file = client.makefile("rb")
        server_file = server.makefile("rb")
        lock = threading.Lock()

        def downstream():
            in_capa = False
            while line := server_file.readline():
                if in_capa and line.strip().upper() == b"UIDL":
                    continue
                if line == b".\r\n":
                    in_capa = False
                with lock:
                    client.sendall(line)
                if line.startswith(b"+OK") and pending_capa[0]:
                    in_capa, pending_capa[0] = True, False
            client.close()

        pending_capa = [False]
        threading.Thread(target=downstream, daemon=True).start()
        while line := client_file.readline():
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"UIDL":
                self.uidl_asked += 1
                with lock:
                    client.sendall(b"-ERR Unknown command: UIDL\r\n")
                continue
            if verb == b"CAPA":
                pending_capa[0] = True
            server.sendall(line)
        server.close()

    def close(self):
        self.listener.close()


@pytest.fixture
def no_uidl_proxy(mail_sandbox):
    proxy = NoUIDLProxy(mail_sandbox.config.pop3_port)
    yield proxy
    proxy.close()
