"""Development mail sandbox: aiosmtpd writing into Maildirs that a private Dovecot
serves over POP3/IMAP (plain with STLS/STARTTLS, and implicit TLS).

Plain Python, no Django: ``spooler/management/commands/devmail.py`` and the test
fixtures (tests/fixtures/sandbox.py) both drive it.

    with Sandbox(SandboxConfig(base_dir=Path("var/devmail"))) as sandbox:
        sandbox.add_user("alice@example.test", "secret")
        ...
"""

from .config import PortInUse, SandboxConfig, SandboxError, split_address
from .sandbox import Sandbox

__all__ = ["PortInUse", "Sandbox", "SandboxConfig", "SandboxError", "split_address"]
