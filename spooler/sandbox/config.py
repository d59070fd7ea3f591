"""Configuration, errors and address rules of the development mail sandbox."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: Service key -> label used in messages.
SERVICES = {
    "smtp_port": "SMTP",
    "pop3_port": "POP3",
    "imap_port": "IMAP",
    "pop3s_port": "POP3S",
    "imaps_port": "IMAPS",
}

DEFAULT_PORT_ENV = {key: f"DEVMAIL_{label}_PORT" for key, label in SERVICES.items()}


class SandboxError(Exception):
    """The sandbox could not start or do what was asked; the message says why."""


class PortInUse(SandboxError):
    """One or more of the sandbox's ports are taken by another process.

    ``port``, ``service`` and ``env_var`` describe the first taken port; ``taken``
    lists all of them as (port, service, env_var) tuples.
    """

    def __init__(self, host: str, taken: list[tuple[int, str, str | None]]):
        self.host = host
        self.taken = list(taken)
        self.port, self.service, self.env_var = self.taken[0]
        super().__init__("; ".join(_port_message(host, *t) for t in self.taken))


def _port_message(host: str, port: int, service: str, env_var: str | None) -> str:
    text = f"port {port} ({service}) is already in use on {host}"
    if env_var:
        text += f"; set {env_var} to another port"
    return text


@dataclass
class SandboxConfig:
    base_dir: Path
    domain: str = "example.test"
    host: str = "127.0.0.1"
    smtp_port: int = 2525
    pop3_port: int = 2110
    imap_port: int = 2143
    pop3s_port: int = 2995
    imaps_port: int = 2993
    #: Certificate and key for the TLS ports. If both are None, a private CA and a
    #: server certificate for 127.0.0.1/localhost (and ``host``) are generated under
    #: base_dir/tls once and reused.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: The CA a client must trust when tls_cert is given; None means tls_cert is
    #: self-signed and is itself what clients trust.
    tls_ca: Path | None = None
    #: Names of the environment variables that set each port, for error messages.
    port_env: dict = field(default_factory=lambda: dict(DEFAULT_PORT_ENV))
    #: Accept SMTP mail for any local part of ``domain`` (creating its Maildir),
    #: instead of refusing addresses that have no user with 550 5.1.1.
    catch_all: bool = False
    #: Largest message the SMTP server accepts (SIZE), in bytes.
    max_message_size: int = 32 * 1024 * 1024
    #: How long start() waits for every port to answer.
    start_timeout: float = 10.0
    #: The dovecot binary; None looks in PATH, /usr/sbin and /usr/local/sbin.
    dovecot_binary: Path | None = None

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir).absolute()
        self.domain = self.domain.strip().lower()
        if not _DOMAIN_RE.fullmatch(self.domain):
            raise ValueError(f"invalid sandbox domain {self.domain!r}")
        for name in ("tls_cert", "tls_key", "tls_ca", "dovecot_binary"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, Path(value).absolute())
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        ports = self.ports()
        for key, port in ports.items():
            if not isinstance(port, int) or not 0 < port < 65536:
                raise ValueError(f"{key} must be a port number 1-65535, not {port!r}")
        seen: dict[int, str] = {}
        for key, port in ports.items():
            if port in seen:
                raise ValueError(
                    f"{SERVICES[key]} and {SERVICES[seen[port]]} both use port {port}; "
                    "every sandbox service needs its own port"
                )
            seen[port] = key

    def ports(self) -> dict[str, int]:
        """{"smtp_port": 2525, ...} in a fixed order."""
        return {key: getattr(self, key) for key in SERVICES}


_DOMAIN_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
# Local parts become directory names and passwd-file keys: keep them boring.
_LOCAL_RE = re.compile(r"[a-z0-9_]([a-z0-9._+=-]*[a-z0-9_+=-])?")


def split_address(address: str) -> tuple[str, str]:
    """Lower-case ``local@domain`` and return (local, domain).

    Raises ValueError for anything that is not a plain address usable as a
    Maildir directory name (no "..", "/", ":", whitespace, quotes or non-ASCII).
    """
    if not isinstance(address, str):
        raise ValueError(f"not an address: {address!r}")
    local, sep, domain = address.strip().lower().rpartition("@")
    if not sep or not _LOCAL_RE.fullmatch(local) or ".." in local or len(local) > 64:
        raise ValueError(f"invalid sandbox address {address!r}")
    if not _DOMAIN_RE.fullmatch(domain):
        raise ValueError(f"invalid sandbox address {address!r}")
    return local, domain
