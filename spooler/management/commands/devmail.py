"""``manage.py devmail``: run the development mail sandbox until Ctrl-C or SIGTERM.

aiosmtpd on DEVMAIL_SMTP_PORT accepts mail for @DEVMAIL_DOMAIN and writes it into
Maildirs under DEVMAIL_DIR, which a private Dovecot serves over POP3/IMAP (and
POP3S/IMAPS). The work is done by spooler.sandbox; this command only wires settings.
"""

import logging

from django.core.management.base import BaseCommand, CommandError

from spooler.devmail import sandbox_from_settings
from spooler.sandbox import PortInUse, SandboxError


class Command(BaseCommand):
    help = "Run the development mail sandbox (SMTP into Maildirs, served by a private Dovecot)."
    # The sandbox needs no models, URLs or apps: start even while the rest of the site
    # has errors, and start fast.
    requires_system_checks = []

    def handle(self, *args, **options):
        # aiosmtpd logs five INFO lines per connection; keep its warnings, and
        # our own one line per delivered message (logger "spooler.sandbox").
        smtp_log = logging.getLogger("mail.log")
        if not smtp_log.isEnabledFor(logging.DEBUG):
            smtp_log.setLevel(logging.WARNING)
        try:
            sandbox = sandbox_from_settings()
            sandbox.start()
        except PortInUse as exc:
            raise CommandError(str(exc), returncode=2) from None
        except (SandboxError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        for name, host, port, note in sandbox.services():
            self.stdout.write(f"devmail: {name:<5} {host}:{port}  ({note})")
        self.stdout.write(f"devmail: CA certificate for the TLS ports: {sandbox.ca_file}")
        self.stdout.write(f"devmail: Maildirs under {sandbox.data_dir / 'mail'}, "
                          f"Dovecot log {sandbox.log_path}; Ctrl-C stops")
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except SandboxError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("devmail: stopped")
