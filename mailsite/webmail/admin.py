from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from mailsite.webmail import selectors
from mailsite.mailboxes.models import Attachment, MailAccount, Message
from mailsite.webmail.validators import no_line_breaks, one_header_line
from spooler.services.header_input import AddressError, address_error_text, address_parse
from spooler.services.broker import accounts_poll_request
from spooler.services.mail_hosts import SIDES, account_server_changed, account_servers_unmark


PASSWORDS = ("incoming_password", "smtp_password")


def _password_field(label):
    # Write-only: a stored password never goes into the page (no render_value, no initial); empty keeps it.
    return forms.CharField(label=label, required=False, strip=False, max_length=255, validators=[no_line_breaks],
                           widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                           help_text=gettext_lazy("Leave empty to keep the stored password."))


class MailAccountForm(forms.ModelForm):
    incoming_password = _password_field(gettext_lazy("Incoming password"))
    smtp_password = _password_field(gettext_lazy("SMTP password"))

    class Meta:
        model = MailAccount
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PASSWORDS:
            self.initial.pop(name, None)

    def clean(self):
        """An empty password keeps the stored one, on the same server only (as on the user's own form: a stored
        password is never sent to a server it was not meant for); SMTP without a user name has none."""
        data = super().clean()
        for side in ("incoming", "smtp"):
            name = f"{side}_password"
            if data.get(name):
                continue
            data.pop(name, None)  # not in cleaned_data: the instance keeps what it has
            if side == "smtp" and not data.get("smtp_username"):
                data[name] = ""
            elif not getattr(self.instance, name):
                if side == "incoming":
                    self.add_error(name, _("Enter the password."))
            elif account_server_changed(account=self.instance, side=side, host=data.get(f"{side}_host", ""),
                                        port=data.get(f"{side}_port")):
                self.add_error(name, _("The server changed: enter the password again."))
        return data

    def clean_address(self):
        """The account sends from it: it must be an address the spool can send (as compose checks it)."""
        address = self.cleaned_data["address"]
        try:
            address_parse(address)
        except AddressError as exc:
            raise ValidationError(_("Mail cannot be sent from this address: it %(problem)s.")
                                  % {"problem": address_error_text(exc)}) from None
        return address

    def clean_display_name(self):
        """It goes into the From of every message: one line, no control characters (TAB becomes a space)."""
        name = self.cleaned_data["display_name"]
        one_header_line(name)
        return name.replace("\t", " ")


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    form = MailAccountForm
    list_display = ["address", "user", "incoming_protocol", "incoming_host", "poll_status", "last_polled_at",
                    "poll_failures", "next_poll_at"]
    list_filter = ["incoming_protocol", "delete_after_download"]
    search_fields = ["address", "user__username"]
    actions = ["poll_now"]
    readonly_fields = ["poll_status", "last_polled_at", "last_success_at", "last_poll_error", "last_poll_error_detail",
                       "poll_notice", "poll_failures", "next_poll_at", "last_poll_fetched", "sync_done", "sync_total"]
    fieldsets = [
        (None, {"fields": ["user", "address", "display_name"]}),
        (gettext_lazy("Incoming server"), {"fields": ["incoming_protocol", "incoming_host", "incoming_port",
                                                      "incoming_security", "incoming_username", "incoming_password"]}),
        (gettext_lazy("Polling"), {"fields": ["poll_interval", "delete_after_download", "delete_after_days",
                                              "imap_folders"]}),
        (gettext_lazy("Status"), {"fields": readonly_fields}),
        (gettext_lazy("Outgoing server"), {"fields": ["smtp_host", "smtp_port", "smtp_security", "smtp_username",
                                                      "smtp_password"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        """Staff who may only view accounts get no password field at all (not even a stored token)."""
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        return [(title, {**options, "fields": [f for f in options["fields"] if f not in PASSWORDS]})
                for title, options in fieldsets]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A server the administrator sets here is theirs: no longer checked as one its user typed in.
        changed = set(form.changed_data)
        account_servers_unmark(account=obj, sides=[side for side in SIDES
                                                   if {f"{side}_host", f"{side}_port"} & changed])

    @admin.display(description=gettext_lazy("status"))
    def poll_status(self, obj):
        return selectors.account_status(obj)["text"]

    @admin.action(description=gettext_lazy("Poll the selected accounts now"))
    def poll_now(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        queued = accounts_poll_request(account_ids=ids)
        if queued < len(ids):
            self.message_user(request, _("Could not reach the mail worker."), messages.WARNING)
        self.message_user(request, ngettext("%(count)d poll queued.", "%(count)d polls queued.", queued)
                          % {"count": queued})


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ["safe_filename", "filename", "content_type", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "sender", "account", "folder", "fetched_at", "size", "parse_error", "too_large", "on_server"]
    list_filter = ["parse_error", "too_large", "on_server", "has_attachments", "account"]
    search_fields = ["subject", "sender", "message_id", "uid"]
    exclude = ["raw_compressed", "html"]
    inlines = [AttachmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- Two-factor devices (django-otp). Its own admin shows a device's secret key, its QR code and the recovery codes
# to any staff who may view them: enough to log in as the user. Here staff see whose device it is and may delete it
# (a user who lost the app and the codes logs in by password again); no secret is rendered, none can be added.
class _TwoFactorDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
    admin.site.register(_device_model, _TwoFactorDeviceAdmin)
