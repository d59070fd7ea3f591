"""The development mail sandbox: aiosmtpd in a thread and a private Dovecot."""

from __future__ import annotations

import atexit
import errno
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import tempfile
import threading
import time
from pathlib import Path

from . import certs
from .config import SERVICES, PortInUse, SandboxConfig, SandboxError, split_address
from .dovecot import (DovecotProcess, conf_root, find_dovecot, kill_stale, render_conf,
                      runtime_dir)
from .smtp import make_controller
from .store import Accounts, MailStore, unreachable_part

log = logging.getLogger("spooler.sandbox")

_BIND_FAILED = re.compile(r"(?:bind|listen)\(([^,]+), (\d+)\) failed: Address already in use")


def ports_in_use(config: SandboxConfig, keys=None) -> list[tuple[int, str, str | None]]:
    """(port, service, env var) for each of the config's ports something listens on."""
    taken = []
    for key, port in config.ports().items():
        if keys is not None and key not in keys:
            continue
        if not port_is_free(config.host, port):
            taken.append((port, SERVICES[key], config.port_env.get(key)))
    return taken


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the servers do: a TIME_WAIT left by an earlier run does not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise SandboxError(f"cannot bind {host}:{port}: {exc.strerror}") from exc
    return True


class Sandbox:
    """SMTP (aiosmtpd) -> Maildirs <- POP3/IMAP (private Dovecot), all under base_dir.

    Layout of base_dir: dovecot.conf, dovecot.log, run/ (Dovecot's sockets and
    master.pid), state/, tls/ (generated CA and certificate), users/<address>
    (one passwd-file each), mail/<domain>/<local>/Maildir.
    """

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.base_dir = config.base_dir
        self._store: MailStore | None = None
        self._dovecot: DovecotProcess | None = None
        self._smtp = None
        self._lock = threading.RLock()
        self._log_offset = 0
        self._conf_link: Path | None = None
        self._outside_run_dir: Path | None = None
        self.started = False
        self.start_seconds: float | None = None

    # -- paths and helpers ----------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self.base_dir / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "dovecot.log"

    @property
    def store(self) -> MailStore:
        if self._store is None:
            accounts = Accounts.detect()
            self._store = MailStore(self._data_dir(accounts), self.config.domain, accounts)
        return self._store

    @property
    def data_dir(self) -> Path:
        """Where mail/ and users/ live: base_dir, unless Dovecot's user cannot reach it.

        Run as root, Dovecot reads mail and passwords as the dovecot user. If a
        parent of base_dir is closed to it (a checkout under /root, mode 0700),
        they go to a 0755 dir of their own under the temp dir instead, and
        base_dir/mail and base_dir/users are symlinks to it.
        """
        return self.store.data_dir

    def _data_dir(self, accounts: Accounts) -> Path:
        if not accounts.chown:
            return self.base_dir
        self.base_dir.mkdir(parents=True, exist_ok=True)
        blocker = unreachable_part(self.base_dir, accounts)
        if blocker is None:
            return self.base_dir
        digest = hashlib.sha256(str(self.base_dir).encode()).hexdigest()[:16]
        data_dir = Path(tempfile.gettempdir()) / f"devmail-0-{digest}.data"
        try:
            data_dir.mkdir(mode=0o755)
        except FileExistsError:
            st = os.lstat(data_dir)
            if st.st_uid != 0 or not stat.S_ISDIR(st.st_mode):
                raise SandboxError(f"{data_dir} exists and is not ours; remove it") from None
        os.chmod(data_dir, 0o755)
        if unreachable_part(data_dir / "x", accounts) is not None:
            raise SandboxError(
                f"the dovecot user cannot reach {self.base_dir} ({blocker} is closed to "
                f"other users) nor {data_dir}; choose a DEVMAIL_DIR every user can traverse"
            )
        for name in ("mail", "users"):
            link = self.base_dir / name
            if not os.path.lexists(link):
                link.symlink_to(data_dir / name)
        log.info("%s is closed to the dovecot user: mail and users live in %s", blocker, data_dir)
        return data_dir

    def _tls_files(self) -> tuple[Path, Path, Path]:
        cfg = self.config
        if cfg.tls_cert is not None:
            return cfg.tls_cert, cfg.tls_key, cfg.tls_ca or cfg.tls_cert
        return certs.ensure_self_signed(self.base_dir / "tls", cfg.host)

    @property
    def ca_file(self) -> Path:
        """The certificate a client must trust to verify the TLS ports."""
        if self.config.tls_cert is not None:
            return self.config.tls_ca or self.config.tls_cert
        self._make_base_dir()
        return self._tls_files()[2]

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly the sandbox's CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _address(self, address: str) -> tuple[str, str]:
        local, domain = split_address(address)
        if domain != self.config.domain:
            raise ValueError(f"{address!r} is not in the sandbox domain @{self.config.domain}")
        return local, domain

    def services(self) -> list[tuple[str, str, int, str]]:
        """(name, host, port, note) of each service, for printing."""
        c = self.config
        return [
            ("SMTP", c.host, c.smtp_port,
             f"mail for @{c.domain}; STARTTLS and AUTH offered, not required"),
            ("POP3", c.host, c.pop3_port, "STLS offered"),
            ("IMAP", c.host, c.imap_port, "STARTTLS offered"),
            ("POP3S", c.host, c.pop3s_port, "implicit TLS"),
            ("IMAPS", c.host, c.imaps_port, "implicit TLS"),
        ]

    # -- users and mail ---------------------------------------------------------------

    def add_user(self, address: str, password: str) -> Path:
        """Create the user (or set a new password) and their Maildir; returns the Maildir.

        Works whether or not the sandbox is running, from any process: Dovecot
        reads the user's passwd-file on their next login.
        """
        local, domain = self._address(address)
        self._make_base_dir()
        self.store.set_password(f"{local}@{domain}", password)
        return self.store.ensure_maildir(local, domain)

    def deliver(self, address: str, raw: bytes) -> Path:
        """Drop ``raw`` (stored byte for byte) into the address's Maildir/new."""
        local, domain = self._address(address)
        self._make_base_dir()
        return self.store.deliver(local, domain, raw)

    def maildir(self, address: str) -> Path:
        local, domain = self._address(address)
        return self.store.maildir(local, domain)

    def users(self) -> dict[str, str]:
        return self.store.users()

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot and the SMTP server; return once every port answers.

        Raises PortInUse before starting anything if a port is taken, and
        SandboxError (with the tail of dovecot.log) if Dovecot does not come up;
        either way nothing is left running.
        """
        with self._lock:
            if self.started:
                raise SandboxError("the sandbox is already running")
            t0 = time.monotonic()
            binary = find_dovecot(self.config.dovecot_binary)
            self._make_base_dir()
            self.started = True
            atexit.register(self.stop)
            try:
                run_dir = runtime_dir(self.base_dir)
                if run_dir != self.base_dir / "run":
                    self._outside_run_dir = run_dir
                # A Dovecot left behind by a killed earlier run in this base_dir
                # would hold our ports.
                kill_stale(run_dir / "master.pid", self.conf_path)
                taken = ports_in_use(self.config)
                if taken:
                    raise PortInUse(self.config.host, taken)
                cert, key = self._write_files(run_dir)
                self._dovecot = DovecotProcess(binary, self.conf_path, self.log_path,
                                               run_dir / "master.pid")
                self._dovecot.start()
                self._start_smtp(cert, key)
                self._wait_for_dovecot(t0 + self.config.start_timeout)
            except BaseException:
                self.stop()
                raise
            self.start_seconds = time.monotonic() - t0
            log.info("mail sandbox started in %.2fs under %s", self.start_seconds, self.base_dir)

    def _write_files(self, run_dir: Path) -> tuple[Path, Path]:
        """Certificate, users dir, mail root and dovecot.conf; returns (cert, key)."""
        cert, key, _ca = self._tls_files()
        self.store.ensure_users_dir()
        mail_root = self.store.mail_root
        if not mail_root.exists():
            mail_root.mkdir(mode=0o700)
            self.store.accounts.give(mail_root)
        root = conf_root(self.base_dir)
        if root != self.base_dir:
            self._conf_link = root
        data_root = root if self.store.data_dir == self.base_dir else self.store.data_dir
        cert_in_conf, key_in_conf = (
            root / p.relative_to(self.base_dir) if p.is_relative_to(self.base_dir) else p
            for p in (cert, key)
        )
        self.conf_path.write_text(render_conf(
            self.config, self.store.accounts, root, run_dir, data_root, cert_in_conf, key_in_conf))
        try:
            self._log_offset = self.log_path.stat().st_size
        except FileNotFoundError:
            self._log_offset = 0
        return cert, key

    def stop(self) -> None:
        """Stop SMTP and Dovecot; safe to call any number of times."""
        with self._lock:
            smtp, self._smtp = self._smtp, None
            dovecot, self._dovecot = self._dovecot, None
            try:
                if smtp is not None:
                    smtp.stop()
            finally:
                if dovecot is not None:
                    dovecot.stop()
                link, self._conf_link = self._conf_link, None
                if link is not None and os.path.islink(link) and \
                        os.readlink(link) == str(self.base_dir):
                    os.unlink(link)
                run_dir, self._outside_run_dir = self._outside_run_dir, None
                if run_dir is not None:
                    shutil.rmtree(run_dir, ignore_errors=True)
                self.started = False
                atexit.unregister(self.stop)

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run until SIGINT, SIGTERM or SIGHUP (main thread only), then stop()."""
        stop_requested = threading.Event()

        def on_signal(signum, frame):
            stop_requested.set()

        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, on_signal) for sig in handled}
        try:
            if not self.started:
                self.start()
            while not stop_requested.wait(0.5):
                dovecot = self._dovecot
                if dovecot is None or not dovecot.running():
                    raise SandboxError("dovecot exited unexpectedly:\n" + self.log_tail())
        finally:
            self.stop()
            for sig, old in previous.items():
                signal.signal(sig, old)

    @property
    def dovecot_pid(self) -> int | None:
        return self._dovecot.pid if self._dovecot else None

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(self._log_offset)
                text = fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no dovecot log)"
        return "\n".join(text.splitlines()[-lines:]) or "(dovecot log is empty)"

    # -- internals --------------------------------------------------------------------

    def _make_base_dir(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.store.accounts.chown:
            mode = stat.S_IMODE(self.base_dir.stat().st_mode)
            if mode & 0o055 != 0o055:
                os.chmod(self.base_dir, mode | 0o755)

    def _start_smtp(self, cert: Path, key: Path) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(str(cert), str(key))
        controller = make_controller(
            self.store, host=self.config.host, port=self.config.smtp_port,
            domain=self.config.domain, catch_all=self.config.catch_all,
            max_size=self.config.max_message_size, tls_context=tls,
        )
        try:
            controller.start()
        except Exception as exc:
            _discard(controller)
            if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.config.host, [(
                    self.config.smtp_port, "SMTP", self.config.port_env.get("smtp_port"),
                )]) from None
            raise SandboxError(f"the SMTP server could not start: {exc}") from exc
        self._smtp = controller

    def _wait_for_dovecot(self, deadline: float) -> None:
        c = self.config
        pending = [(c.pop3_port, False), (c.imap_port, False),
                   (c.pop3s_port, True), (c.imaps_port, True)]
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE  # readiness only; clients verify against ca_file
        last_error: Exception | None = None
        while pending:
            if not self._dovecot.running():
                self._raise_dovecot_failed()
            port, implicit_tls = pending[0]
            try:
                _read_greeting(c.host, port, tls if implicit_tls else None, 1.0)
                pending.pop(0)
                continue
            except (OSError, ssl.SSLError) as exc:
                last_error = exc
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"dovecot did not answer on {c.host}:{port} within "
                    f"{c.start_timeout:g}s ({last_error}); log:\n{self.log_tail()}"
                )
            time.sleep(0.02)

    def _raise_dovecot_failed(self) -> None:
        tail = self.log_tail()
        taken = []
        for _host, port in _BIND_FAILED.findall(tail):
            for key, value in self.config.ports().items():
                entry = (value, SERVICES[key], self.config.port_env.get(key))
                if value == int(port) and entry not in taken:
                    taken.append(entry)
        if taken:
            raise PortInUse(self.config.host, taken)
        raise SandboxError(f"dovecot failed to start (config {self.conf_path}):\n{tail}")


def _discard(controller) -> None:
    """Tidy up an aiosmtpd Controller whose start() failed."""
    try:
        if controller._thread is not None:
            controller.stop(no_assert=True)
    except Exception:  # noqa: BLE001 - best effort on an already failed start
        pass
    if not controller.loop.is_running() and not controller.loop.is_closed():
        controller.loop.close()


def _read_greeting(host: str, port: int, tls: ssl.SSLContext | None, timeout: float) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = tls.wrap_socket(raw) if tls is not None else raw
        try:
            greeting = sock.recv(512)
        finally:
            if sock is not raw:
                sock.close()
    if not (greeting.startswith(b"+OK") or greeting.startswith(b"* OK")):
        raise ConnectionError(f"unexpected greeting {greeting[:60]!r}")
    return greeting
