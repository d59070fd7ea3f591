"""Demo data for `make run`: users alice and bob with mail accounts on the dev sandbox, and an admin.

Idempotent. Passwords are generated once, kept in var/demo-credentials.json (mode 0600) and printed
at every start, so a browser that saved them keeps working.
"""
import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from mailsite.mailboxes.models import MailAccount
from spooler.devmail import sandbox_from_settings

DEMO_USERS = ("alice", "bob")


class Command(BaseCommand):
    help = "Create the demo users (alice, bob, admin) and their sandbox mail accounts; print their passwords."

    def handle(self, *args, **options):
        creds = self._credentials()
        sandbox = sandbox_from_settings()
        User = get_user_model()
        domain = settings.DEVMAIL_DOMAIN
        for name in DEMO_USERS:
            address = f"{name}@{domain}"
            user, _ = User.objects.get_or_create(username=name, defaults={"email": address})
            user.email = user.email or address  # password reset finds users by this: their sandbox mailbox
            user.set_password(creds[name])
            user.save()
            sandbox.add_user(address, creds[f"{name}-mailbox"])
            MailAccount.objects.update_or_create(
                user=user,
                address=address,
                defaults={
                    "display_name": name.capitalize(),
                    "incoming_protocol": "pop3",
                    "incoming_host": settings.DEVMAIL_HOST,
                    "incoming_port": settings.DEVMAIL_POP3_PORT,
                    "incoming_username": address,
                    "incoming_password": creds[f"{name}-mailbox"],
                    # Plain text on loopback to the private sandbox only.
                    "incoming_security": "none",
                    "smtp_host": settings.DEVMAIL_HOST,
                    "smtp_port": settings.DEVMAIL_SMTP_PORT,
                    "smtp_security": "none",
                },
            )
        admin, _ = User.objects.get_or_create(username="admin", defaults={"email": f"admin@{domain}"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(creds["admin"])
        admin.save()

        self.stdout.write("Demo users (log in at http://127.0.0.1:%s/):" % os.environ.get("WEB_PORT", "8000"))
        for name in (*DEMO_USERS, "admin"):
            self.stdout.write(f"  {name:<6} password: {creds[name]}")

    def _credentials(self) -> dict:
        path = settings.VAR_DIR / "demo-credentials.json"
        names = [*DEMO_USERS, "admin", *(f"{n}-mailbox" for n in DEMO_USERS)]
        creds = json.loads(path.read_text()) if path.exists() else {}
        if any(name not in creds for name in names):
            creds = {name: creds.get(name) or secrets.token_urlsafe(9) for name in names}
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(creds, f, indent=1)
        return creds
