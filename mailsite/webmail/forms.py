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

from mailsite.webmail.templatetags.mail_format import full_date
from mailsite.webmail.validators import one_header_line
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


class SenderField(forms.ChoiceField):
    """The From list: each account ("5": its own name and address) and its identities ("5:7"). Cleans to
    (account, identity or None); the choices and their signatures come from the user's accounts."""

    def set_accounts(self, accounts) -> None:
        self.senders, choices = {}, []
        for account in accounts.prefetch_related("identities"):
            self.senders[str(account.id)] = (account, None)
            choices.append((str(account.id), str(account)))
            for identity in account.identities.all():
                self.senders[f"{account.id}:{identity.id}"] = (account, identity)
                shown = f"{identity.name} <{identity.address}>" if identity.name else identity.address
                choices.append((f"{account.id}:{identity.id}", shown))
        self.choices = choices

    def signatures(self) -> dict:
        return {value: (identity or account).signature for value, (account, identity) in self.senders.items()}

    def clean(self, value):
        return self.senders[super().clean(value)]


class ComposeForm(forms.Form):
    account = SenderField(label=gettext_lazy("From"))
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
        self.fields["account"].set_accounts(accounts)
        if kept:  # files kept with the draft (undo send): sent again unless unticked
            self.fields["keep"].choices = [(a.id, f"{a.filename} ({filesizeformat(a.size)})") for a in kept]
            self.fields["keep"].initial = [a.id for a in kept]
        else:
            del self.fields["keep"]
        self.uploads_over_limit = uploads_over_limit  # (the upload handler stopped storing them)

    def clean_account(self):
        account, identity = self.cleaned_data["account"]
        address = (identity or account).address
        try:
            address_parse(address)
        except AddressError as exc:
            raise ValidationError(_("This account cannot send: its address %(address)s %(problem)s.")
                                  % {"address": address, "problem": address_error_text(exc)}) from None
        self.cleaned_data["identity"] = identity
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


class OneTimeCodeForm(forms.Form):
    """A code from an authenticator app (6 digits) or a recovery code (10 letters and digits)."""

    code = forms.CharField(
        label=gettext_lazy("Code"), max_length=32, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                                      "autocapitalize": "off"}),
    )
