"""Forms only validate. Header values never carry line breaks or control characters (no header injection)."""
from django import forms
from django.core.exceptions import ValidationError

from mailsite.mailboxes.models import Protocol, Security
from mailsite.webmail.validators import no_line_breaks, one_header_line
from spooler.services.header_input import AddressError, address_list_split, address_parse

MAX_RECIPIENTS = 100


def _shown(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AddressListField(forms.CharField):
    """A list of e-mail addresses separated by commas or semicolons, cleaned to the addresses as they are sent.

    A quoted local part ("john doe"@example.com) and an address literal (bob@[192.0.2.1], bob@[IPv6:2001:db8::1])
    are accepted, an international domain too; a local part outside ASCII (SMTPUTF8) is refused, saying why.
    """

    def clean(self, value):
        one_header_line(value or "")  # before CharField strips the ends: a trailing U+2028 is refused, not dropped
        value = super().clean(value)
        items = address_list_split(value or "")
        if self.required and not items:
            raise ValidationError("Enter at least one address.")
        if len(items) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} recipients.")
        addresses = []
        for item in items:
            try:
                addresses.append(address_parse(item))
            except AddressError as exc:
                raise ValidationError(f"“{_shown(item)}” is not a valid e-mail address: it {exc}.") from None
        return addresses


class ComposeForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, empty_label=None, label="From")
    to = AddressListField(label="To", help_text="Separate addresses with commas.")
    cc = AddressListField(label="Cc", required=False)
    subject = forms.CharField(max_length=900, required=False, strip=False, validators=[one_header_line])
    text = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 14}), required=False, strip=False)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts

    def clean_account(self):
        account = self.cleaned_data["account"]
        try:
            address_parse(account.address)
        except AddressError as exc:
            raise ValidationError(f"This account cannot send: its address {account.address} {exc}.") from None
        return account

    def clean_subject(self):
        # TAB is folding white space: legal, but never meant in a subject; it becomes a space.
        return self.cleaned_data["subject"].replace("\t", " ").strip(" ")


MAX_FOLDERS = 20
_FOLDER_FORBIDDEN = set("\r\n\x00")


class AccountSettingsForm(forms.Form):
    """How one of the user's accounts is read. The server's host is the administrator's to change."""

    incoming_protocol = forms.ChoiceField(label="Protocol", choices=Protocol.choices)
    incoming_security = forms.ChoiceField(label="Security", choices=Security.choices)
    incoming_port = forms.IntegerField(label="Port", min_value=1, max_value=65535)
    incoming_username = forms.CharField(label="User name", max_length=255, validators=[no_line_breaks])
    new_password = forms.CharField(
        label="Password", required=False, strip=False, max_length=255, validators=[no_line_breaks],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current password.",
    )
    poll_interval_minutes = forms.IntegerField(
        label="Check every (minutes)", required=False, min_value=1, max_value=24 * 60,
        help_text="Empty: as often as the site checks (every POLL_INTERVAL_SECONDS).",
    )
    delete_after_download = forms.BooleanField(
        label="Delete messages from the server once they are stored here", required=False,
        help_text="Off (the default): mail is left on the server.",
    )
    delete_after_days = forms.IntegerField(
        label="Or delete them from the server after (days)", required=False, min_value=1, max_value=3650,
        help_text="Only when mail is left on the server. Empty: never.",
    )
    imap_folders = forms.CharField(
        label="IMAP folders", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, e.g. INBOX. Empty: INBOX. POP3 always reads the inbox only.",
    )

    @classmethod
    def for_account(cls, account, data=None):
        initial = {
            "incoming_protocol": account.incoming_protocol,
            "incoming_security": account.incoming_security,
            "incoming_port": account.incoming_port,
            "incoming_username": account.incoming_username,
            "poll_interval_minutes": (account.poll_interval + 59) // 60 if account.poll_interval else None,
            "delete_after_download": account.delete_after_download,
            "delete_after_days": account.delete_after_days,
            "imap_folders": "\n".join(account.imap_folders or []),
        }
        return cls(data, initial=initial)

    def clean_imap_folders(self):
        folders = []
        for line in self.cleaned_data["imap_folders"].splitlines():
            name = line.strip()
            if not name:
                continue
            if _FOLDER_FORBIDDEN & set(name) or len(name) > 200:
                raise ValidationError("A folder name is at most 200 characters, on one line.")
            if name not in folders:
                folders.append(name)
        if len(folders) > MAX_FOLDERS:
            raise ValidationError(f"At most {MAX_FOLDERS} folders.")
        return folders or ["INBOX"]

    def clean(self):
        data = super().clean()
        if data.get("delete_after_download") and data.get("delete_after_days"):
            self.add_error("delete_after_days", "Messages are already deleted right after download.")
        return data

    def changes(self) -> dict:
        """Keyword arguments for services.account_settings_update."""
        data = self.cleaned_data
        minutes = data.get("poll_interval_minutes")
        return {
            "incoming_protocol": data["incoming_protocol"],
            "incoming_security": data["incoming_security"],
            "incoming_port": data["incoming_port"],
            "incoming_username": data["incoming_username"],
            "poll_interval": minutes * 60 if minutes else None,
            "delete_after_download": data["delete_after_download"],
            "delete_after_days": data.get("delete_after_days"),
            "imap_folders": data["imap_folders"],
            "new_password": data.get("new_password") or "",
        }
