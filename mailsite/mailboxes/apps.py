from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    """The stored mail at the bottom: accounts, messages, attachments. The spooler and the webmail both import it;
    it imports neither."""

    name = "mailsite.mailboxes"
    label = "mailboxes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from mailsite.mailboxes import checks  # noqa: F401 - registers the encryption keys' check
