"""The dev mail sandbox as configured by Django settings (DEVMAIL_*)."""
from django.conf import settings

from spooler.sandbox import Sandbox, SandboxConfig


def sandbox_config_from_settings() -> SandboxConfig:
    return SandboxConfig(
        base_dir=settings.DEVMAIL_DIR,
        domain=settings.DEVMAIL_DOMAIN,
        host=settings.DEVMAIL_HOST,
        smtp_port=settings.DEVMAIL_SMTP_PORT,
        pop3_port=settings.DEVMAIL_POP3_PORT,
        imap_port=settings.DEVMAIL_IMAP_PORT,
        pop3s_port=settings.DEVMAIL_POP3S_PORT,
        imaps_port=settings.DEVMAIL_IMAPS_PORT,
    )


def sandbox_from_settings() -> Sandbox:
    return Sandbox(sandbox_config_from_settings())
