"""Real servers for the sessions tests: aiosmtpd with trustme certificates, and scripted TCP servers
that misbehave on purpose. Dovecot comes from the shared ``mail_sandbox`` fixture (tests/fixtures)."""

import socketserver
import ssl
import threading

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.fixtures.net import free_port

SMTP_USER, SMTP_PASSWORD = "sender@example.test", "s3cret"


# --- certificates -------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def ca():
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls(ca):
    """A server-side context with a certificate for 127.0.0.1 signed by the test CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


# --- aiosmtpd -------------------------------------------------------------------------------------------

class RecordingHandler:
    """Keeps every message; refuses RCPT for reject*@ (550) and defer*@ (450)."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        if address.startswith("defer"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued as Q%d" % len(self.messages)


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture(scope="module")
def smtpd(server_tls):
    """Start aiosmtpd servers on demand: smtpd(mode) -> (port, handler); mode in plain|starttls|tls|notls."""
    controllers = {}

    def start(mode):
        if mode in controllers:
            return controllers[mode].port, controllers[mode].handler
        handler = RecordingHandler()
        options = dict(hostname="127.0.0.1", port=free_port(), authenticator=_authenticator)
        if mode == "tls":
            options.update(ssl_context=server_tls, auth_require_tls=False)
        elif mode == "starttls":
            options.update(tls_context=server_tls, require_starttls=True)
        else:  # plain: AUTH without TLS; notls: neither STARTTLS nor AUTH-over-plain
            options.update(auth_require_tls=mode == "notls")
        controller = Controller(handler, **options)
        controller.start()
        controllers[mode] = controller
        return controller.port, handler

    yield start
    for controller in controllers.values():
        controller.stop()


# --- scripted misbehaving servers ------------------------------------------------------------------------

class ScriptedServer:
    """A TCP server on 127.0.0.1 that runs ``script(rfile, wfile)`` for each connection."""

    def __init__(self, script):
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                outer.connections += 1
                try:
                    script(self.rfile, self.wfile)
                except OSError:
                    pass

        self.connections = 0
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def start(script):
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def smtp_script(on_data, extension=b"8BITMIME"):
    """A minimal SMTP dialogue announcing one extension; ``on_data(rfile, wfile)`` takes over after the DATA
    command's 354, and returns True to go on with the dialogue (anything else ends the connection)."""

    def script(rfile, wfile):
        wfile.write(b"220 scripted ESMTP\r\n")
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                wfile.write(b"250-scripted\r\n250 " + extension + b"\r\n")
            elif verb == b"DATA":
                wfile.write(b"354 go ahead\r\n")
                if on_data(rfile, wfile) is not True:
                    return
            elif verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            else:
                wfile.write(b"250 OK\r\n")

    return script
