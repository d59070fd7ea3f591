"""The form of a mail account a user adds or changes: who they are on it, how mail is read, how it is sent.

Passwords are write-only: never rendered back (PasswordInput without render_value), empty means "keep the stored
one" (on the same server only: a changed server needs the password typed again, so a stored password is never
sent to a server it was not meant for). An empty port is the usual one for the protocol and security. A server the
user typed (new, or changed) must be one the administrator allows (spooler.services.mail_hosts).
"""
import ipaddress
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy as _

from mailsite.mailboxes.models import Identity, MailAccount, Protocol, Security, default_port
from mailsite.webmail.validators import no_line_breaks, one_header_line
from spooler.services.header_input import AddressError, address_parse
from spooler.services.inbound.errors import HostRefused
from spooler.services.mail_hosts import account_server_changed, host_normalize, mail_host_check

MAX_FOLDERS = 20
_FOLDER_FORBIDDEN = set("\r\n\x00")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?", re.I)


class OnServer:
    KEEP, DELETE, DAYS = "keep", "delete", "days"
    choices = [
        (KEEP, _("Leave mail on the server")),
        (DELETE, _("Delete it from the server once it is stored here")),
        (DAYS, _("Delete it from the server some days after it is stored here")),
    ]


class SMTPAuth:
    PASSWORD, NONE = "password", "none"
    choices = [(PASSWORD, _("User name and password")), (NONE, _("No authentication"))]


def _password_input():
    # render_value=False: a stored or typed password never comes back in the page.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


def host_clean(value: str) -> str:
    """A server's name (international names as A-labels) or IP address, as it will be connected to."""
    host = host_normalize(value)
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(_("This is not a server name.")) from None
    if len(host) > 253 or not _HOST_NAME.fullmatch(host):
        raise ValidationError(_("This is not a server name."))
    return host


class AccountForm(forms.Form):
    # Who you are on this account (the From field and signature of messages written from it).
    # strip=False: a line break at an end is refused, not silently dropped (as everywhere else on the site).
    address = forms.CharField(label=_("E-mail address"), max_length=254, strip=False, validators=[one_header_line])
    display_name = forms.CharField(label=_("Your name"), max_length=200, required=False, strip=False,
                                   validators=[one_header_line], help_text=_("Shown to recipients beside the address."))
    signature = forms.CharField(
        label=_("Signature"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('Put under new messages from this account, after a "-- " line.'),
    )

    incoming_protocol = forms.ChoiceField(label=_("Protocol"), choices=Protocol.choices)
    incoming_host = forms.CharField(label=_("Server"), max_length=255)
    incoming_security = forms.ChoiceField(label=_("Security"), choices=Security.choices, initial=Security.TLS)
    incoming_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, required=False,
                                       help_text=_("Empty: the usual port for the protocol and security."))
    incoming_username = forms.CharField(label=_("User name"), max_length=255, validators=[no_line_breaks])
    incoming_password = forms.CharField(label=_("Password"), required=False, strip=False, max_length=255,
                                        validators=[no_line_breaks], widget=_password_input())
    poll_interval_minutes = forms.IntegerField(
        label=_("Check every (minutes)"), required=False, min_value=1, max_value=24 * 60,
        help_text=_("Empty: as often as the site checks for new mail."),
    )
    on_server = forms.ChoiceField(label=_("Mail on the server"), choices=OnServer.choices, initial=OnServer.KEEP,
                                  widget=forms.RadioSelect)
    delete_after_days = forms.IntegerField(label=_("Days"), required=False, min_value=1, max_value=3650,
                                           help_text=_("With “some days after”: how many."))
    imap_folders = forms.CharField(
        label=_("IMAP folders"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. INBOX. Empty: INBOX. POP3 always reads the inbox only."),
    )

    smtp_host = forms.CharField(label=_("Server"), max_length=255)
    smtp_security = forms.ChoiceField(label=_("Security"), choices=Security.choices, initial=Security.STARTTLS)
    smtp_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, required=False,
                                   help_text=_("Empty: the usual port for the security."))
    smtp_auth = forms.ChoiceField(label=_("Sign in"), choices=SMTPAuth.choices, initial=SMTPAuth.PASSWORD,
                                  widget=forms.RadioSelect)
    smtp_username = forms.CharField(label=_("User name"), max_length=255, required=False, validators=[no_line_breaks])
    smtp_password = forms.CharField(label=_("Password"), required=False, strip=False, max_length=255,
                                    validators=[no_line_breaks], widget=_password_input())

    INCOMING = ("incoming_protocol", "incoming_host", "incoming_security", "incoming_port", "incoming_username",
                "incoming_password", "poll_interval_minutes", "on_server", "delete_after_days", "imap_folders")
    OUTGOING = ("smtp_host", "smtp_security", "smtp_port", "smtp_auth", "smtp_username", "smtp_password")
    IDENTITY = ("address", "display_name", "signature")

    def __init__(self, data=None, *, account: MailAccount | None = None, check_hosts: bool = True):
        """`account`: the one changed (None: a new one). check_hosts=False: validate the fields only (a connection
        test checks the hosts itself, in the worker, right before connecting)."""
        self.account, self.check_hosts = account, check_hosts
        super().__init__(data, initial=self._initial(account) if account else None)
        stored = _("Leave empty to keep the stored password.")
        if account:
            self.fields["incoming_password"].help_text = stored
            self.fields["smtp_password"].help_text = stored

    @staticmethod
    def _initial(account: MailAccount) -> dict:
        if account.delete_after_download:
            on_server = OnServer.DELETE
        else:
            on_server = OnServer.DAYS if account.delete_after_days else OnServer.KEEP
        return {
            "address": account.address, "display_name": account.display_name, "signature": account.signature,
            "incoming_protocol": account.incoming_protocol, "incoming_host": account.incoming_host,
            "incoming_security": account.incoming_security, "incoming_port": account.incoming_port,
            "incoming_username": account.incoming_username,
            "poll_interval_minutes": account.poll_interval_minutes,
            "on_server": on_server, "delete_after_days": account.delete_after_days,
            "imap_folders": "\n".join(account.imap_folders or []),
            "smtp_host": account.smtp_host, "smtp_security": account.smtp_security, "smtp_port": account.smtp_port,
            "smtp_auth": SMTPAuth.PASSWORD if account.smtp_username else SMTPAuth.NONE,
            "smtp_username": account.smtp_username,
        }

    def sections(self):
        """(title, fields) for the page."""
        return [(_("You"), [self[n] for n in self.IDENTITY]),
                (_("Incoming mail"), [self[n] for n in self.INCOMING]),
                (_("Outgoing mail (SMTP)"), [self[n] for n in self.OUTGOING])]

    def clean_address(self):
        value = self.cleaned_data["address"].strip()
        try:
            return address_parse(value)
        except AddressError as exc:
            raise ValidationError(gettext("This is not a valid e-mail address: it %(problem)s.")
                                  % {"problem": exc}) from None

    def clean_display_name(self):
        return " ".join(self.cleaned_data["display_name"].split())

    def clean_signature(self):
        return self.cleaned_data["signature"].replace("\r\n", "\n").replace("\x00", "")

    def clean_incoming_host(self):
        return host_clean(self.cleaned_data["incoming_host"])

    def clean_smtp_host(self):
        return host_clean(self.cleaned_data["smtp_host"])

    def clean_imap_folders(self):
        folders = []
        for line in self.cleaned_data["imap_folders"].splitlines():
            name = line.strip()
            if not name:
                continue
            if _FOLDER_FORBIDDEN & set(name) or len(name) > 200:
                raise ValidationError(_("A folder name is at most 200 characters, on one line."))
            if name not in folders:
                folders.append(name)
        if len(folders) > MAX_FOLDERS:
            raise ValidationError(gettext("At most %(count)d folders.") % {"count": MAX_FOLDERS})
        return folders or ["INBOX"]

    def clean(self):
        data = super().clean()
        if data.get("on_server") == OnServer.DAYS and not data.get("delete_after_days"):
            self.add_error("delete_after_days", _("How many days?"))
        for side in ("incoming", "smtp"):
            if data.get(f"{side}_security") and not data.get(f"{side}_port"):
                protocol = data.get("incoming_protocol") if side == "incoming" else "smtp"
                if protocol:
                    data[f"{side}_port"] = default_port(protocol=protocol, security=data[f"{side}_security"])
        if data.get("smtp_auth") == SMTPAuth.PASSWORD and not data.get("smtp_username"):
            self.add_error("smtp_username", _("Enter the user name, or choose “No authentication”."))
        self._check_passwords(data)
        if self.check_hosts:
            for side in ("incoming", "smtp"):
                self._check_host(data, side)
        return data

    def server_changed(self, data: dict, side: str) -> bool:
        """Whether this side's server (host and port) differs from the one stored (always, for a new account)."""
        return account_server_changed(account=self.account, side=side, host=data.get(f"{side}_host"),
                                      port=data.get(f"{side}_port"))

    def typed_sides(self) -> list[str]:
        """The sides whose server the user typed in (new or changed, and so checked): checked again at every
        connection from now on. Call it before the account is changed."""
        return [side for side in ("incoming", "smtp") if self.server_changed(self.cleaned_data, side)]

    def _check_passwords(self, data: dict) -> None:
        sides = [("incoming", True), ("smtp", data.get("smtp_auth") == SMTPAuth.PASSWORD)]
        for side, needed in sides:
            if not needed or data.get(f"{side}_password") or f"{side}_host" not in data:
                continue
            if self.account is None or not getattr(self.account, f"{side}_password"):
                self.add_error(f"{side}_password", _("Enter the password."))
            elif self.server_changed(data, side):
                self.add_error(f"{side}_password", _("The server changed: enter the password again."))

    def _check_host(self, data: dict, side: str) -> None:
        # A server kept as it was stored is left alone (the administrator may have set it up on purpose).
        if f"{side}_host" not in data or not data.get(f"{side}_port") or not self.server_changed(data, side):
            return
        try:
            mail_host_check(host=data[f"{side}_host"], port=data[f"{side}_port"])
        except HostRefused as exc:
            self.add_error(f"{side}_host", gettext(exc.words) + ".")

    def account_fields(self) -> dict:
        """The MailAccount fields the (valid) form sets; passwords only when typed."""
        data = self.cleaned_data
        minutes = data.get("poll_interval_minutes")
        auth = data["smtp_auth"] == SMTPAuth.PASSWORD
        fields = {
            "address": data["address"], "display_name": data["display_name"], "signature": data["signature"],
            "incoming_protocol": data["incoming_protocol"], "incoming_host": data["incoming_host"],
            "incoming_security": data["incoming_security"], "incoming_port": data["incoming_port"],
            "incoming_username": data["incoming_username"],
            "poll_interval": minutes * 60 if minutes else None,
            "delete_after_download": data["on_server"] == OnServer.DELETE,
            "delete_after_days": data.get("delete_after_days") if data["on_server"] == OnServer.DAYS else None,
            "imap_folders": data["imap_folders"],
            "smtp_host": data["smtp_host"], "smtp_security": data["smtp_security"], "smtp_port": data["smtp_port"],
            "smtp_username": data["smtp_username"] if auth else "",
        }
        if data.get("incoming_password"):
            fields["incoming_password"] = data["incoming_password"]
        if not auth:
            fields["smtp_password"] = ""
        elif data.get("smtp_password"):
            fields["smtp_password"] = data["smtp_password"]
        return fields

    def test_settings(self) -> dict:
        """What a connection test tries (the fields it needs, no password)."""
        data = self.cleaned_data
        auth = data["smtp_auth"] == SMTPAuth.PASSWORD
        return {
            "incoming_protocol": data["incoming_protocol"], "incoming_host": data["incoming_host"],
            "incoming_port": data["incoming_port"], "incoming_security": data["incoming_security"],
            "incoming_username": data["incoming_username"], "imap_folders": data["imap_folders"],
            "smtp_host": data["smtp_host"], "smtp_port": data["smtp_port"], "smtp_security": data["smtp_security"],
            "smtp_username": data["smtp_username"] if auth else "",
        }


class TestConnectionForm(AccountForm):
    """The account form as a connection test reads it: the fields of the servers only, passwords may be empty
    (an existing account's stored ones are used on its own servers, by the worker)."""

    def __init__(self, data=None, *, account=None):
        super().__init__(data, account=account, check_hosts=False)
        for name in self.IDENTITY:
            del self.fields[name]

    def _check_passwords(self, data):
        pass


MAX_IDENTITIES = 20


class IdentityForm(forms.ModelForm):
    """Another name and address to write from the account (both go into the From header: one line each)."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False, strip=False, validators=[one_header_line])
    address = forms.CharField(label=_("E-mail address"), max_length=254, strip=False, validators=[one_header_line])
    signature = forms.CharField(label=_("Signature"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Identity
        fields = ["name", "address", "signature"]

    clean_address = AccountForm.clean_address
    clean_signature = AccountForm.clean_signature

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


IdentityFormSet = forms.inlineformset_factory(
    MailAccount, Identity, form=IdentityForm, extra=1, can_delete=True, max_num=MAX_IDENTITIES, validate_max=True,
)
