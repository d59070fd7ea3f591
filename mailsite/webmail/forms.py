"""Forms only validate. Header values never carry line breaks or control characters (no header injection)."""
import re
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mailsite.mailboxes.models import Protocol, Security
from mailsite.webmail.validators import no_line_breaks, one_header_line
from mailsite.webmail.templatetags.mail_format import full_date
from spooler.services.header_input import AddressError, address_error_text, address_list_split, address_parse

MAX_RECIPIENTS = 100


def _shown(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _address_input():
    # Suggestions from the user's contacts (the compose page's <datalist>); the browser's own would repeat them.
    return forms.TextInput(attrs={"list": "contact-addresses", "autocomplete": "off"})


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
            raise ValidationError(_("Enter at least one address."))
        if len(items) > MAX_RECIPIENTS:
            raise ValidationError(_("At most %(count)d recipients.") % {"count": MAX_RECIPIENTS})
        addresses = []
        for item in items:
            try:
                addresses.append(address_parse(item))
            except AddressError as exc:
                raise ValidationError(_invalid_address(item, exc)) from None
        return addresses


def _invalid_address(text: str, exc: AddressError) -> str:
    return _("“%(address)s” is not a valid e-mail address: it %(problem)s.") % {
        "address": _shown(text), "problem": address_error_text(exc)}


_MSG_ID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
_CONTENT_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")
_FILENAME_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_ATTACHMENTS = 50
MAX_REFERENCES = 50
SEND_LATER_MAX_DAYS = 365


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files from one <input type=file multiple>: a list of uploads, maybe empty."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(_("At most %(count)d attachments.") % {"count": MAX_ATTACHMENTS})
        return [super(AttachmentsField, self).clean(one, initial) for one in files]


def attachment_parts(files) -> list[tuple[str, str, object]]:
    """(filename, content type, upload) of each upload: the name on one line (a browser may send anything there),
    a content type the builder can write (a multipart or message type from the browser is sent as bytes)."""
    parts = []
    for upload in files:
        name = " ".join(_FILENAME_CONTROLS.sub(" ", upload.name or "").split())[:200] or "attachment"
        ctype = (upload.content_type or "").lower()
        if not _CONTENT_TYPE.match(ctype) or ctype.split("/")[0] in ("multipart", "message"):
            ctype = "application/octet-stream"
        parts.append((name, ctype, upload))
    return parts


class ComposeForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, empty_label=None, label=gettext_lazy("From"))
    to = AddressListField(label=gettext_lazy("To"), required=False,
                          help_text=gettext_lazy("Separate addresses with commas."), widget=_address_input())
    cc = AddressListField(label=gettext_lazy("Cc"), required=False, widget=_address_input())
    bcc = AddressListField(label=gettext_lazy("Bcc"), required=False,
                           help_text=gettext_lazy("Not shown to the other recipients."), widget=_address_input())
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=900, required=False, strip=False,
                              validators=[one_header_line])
    text = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 14}), required=False,
                           strip=False)
    attachments = AttachmentsField(label=gettext_lazy("Attachments"), required=False, allow_empty_file=True)
    keep = forms.TypedMultipleChoiceField(label=gettext_lazy("Kept attachments"), required=False, coerce=int,
                                          widget=forms.CheckboxSelectMultiple)
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send later"), required=False, help_text=gettext_lazy("Empty: now. In your time zone."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # Carried by the page: the draft this is, the message answered, the one forwarded as an attachment.
    draft = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    in_reply_to = forms.CharField(required=False, max_length=998, widget=forms.HiddenInput,
                                  validators=[one_header_line])
    references = forms.CharField(required=False, max_length=998 * 4, widget=forms.HiddenInput,
                                 validators=[one_header_line])
    forward_attached = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, accounts, uploads_over_limit: bool = False, kept=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        if kept:  # files kept with the draft (undo send): sent again unless unticked
            self.fields["keep"].choices = [(a.id, f"{a.filename} ({filesizeformat(a.size)})") for a in kept]
            self.fields["keep"].initial = [a.id for a in kept]
        else:
            del self.fields["keep"]
        self.uploads_over_limit = uploads_over_limit  # (the upload handler stopped storing them)

    def clean_account(self):
        account = self.cleaned_data["account"]
        try:
            address_parse(account.address)
        except AddressError as exc:
            raise ValidationError(_("This account cannot send: its address %(address)s %(problem)s.")
                                  % {"address": account.address, "problem": address_error_text(exc)}) from None
        return account

    def clean_subject(self):
        # TAB is folding white space: legal, but never meant in a subject; it becomes a space.
        return self.cleaned_data["subject"].replace("\t", " ").strip(" ")

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        total, limit = sum(f.size for f in files), settings.COMPOSE_MAX_ATTACHMENT_BYTES
        if self.uploads_over_limit:
            raise ValidationError(_("Attachments may be %(limit)s together; these are more. Nothing was sent.")
                                  % {"limit": filesizeformat(limit)})
        if total > limit:
            raise ValidationError(_("Attachments may be %(limit)s together; these are %(total)s. Nothing was sent.")
                                  % {"limit": filesizeformat(limit), "total": filesizeformat(total)})
        return files

    def clean_send_at(self):
        when = self.cleaned_data["send_at"]
        if when is None:
            return None
        now = timezone.now()
        if when <= now:
            raise ValidationError(_("This time is in the past (it is now %(now)s).") % {"now": full_date(now)})
        if when > now + timedelta(days=SEND_LATER_MAX_DAYS):
            raise ValidationError(_("At most %(count)d days ahead.") % {"count": SEND_LATER_MAX_DAYS})
        return when

    def clean_in_reply_to(self):
        value = self.cleaned_data["in_reply_to"].strip()
        if value and not _MSG_ID.fullmatch(value):
            raise ValidationError(_("This is not a message id."))
        return value

    def clean_references(self):
        value = self.cleaned_data["references"]
        ids = _MSG_ID.findall(value)
        if "".join(ids) != "".join(value.split()) or len(ids) > MAX_REFERENCES:
            raise ValidationError(_("These are not message ids."))
        return ids

    def clean(self):
        data = super().clean()
        # To may be left empty only for a message sent to Bcc recipients alone.
        if "to" not in self.errors and not data.get("to") and not data.get("bcc"):
            self.add_error("to", _("Enter at least one address."))
        return data


class ContactForm(forms.Form):
    address = forms.CharField(label=gettext_lazy("Address"), max_length=320)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False, validators=[one_header_line])

    def clean_address(self):
        value = self.cleaned_data["address"]
        one_header_line(value)
        try:
            return address_parse(value.strip())
        except AddressError as exc:
            raise ValidationError(_invalid_address(value, exc)) from None


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
    signature = forms.CharField(
        label="Signature", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text='Put under new messages from this account, after a "-- " line.',
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
            "signature": account.signature,
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
            "signature": data.get("signature", "").replace("\r\n", "\n").replace("\x00", ""),
        }
