from django.contrib import admin

from mailsite.webmail.models import MailAccount, Message


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    list_display = ["address", "user", "incoming_protocol", "incoming_host", "last_polled_at", "last_poll_error"]
    search_fields = ["address", "user__username"]
    exclude = ["poll_lease_until"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "sender", "account", "fetched_at", "parse_error"]
    list_filter = ["parse_error", "account"]
    search_fields = ["subject", "sender", "message_id"]
    exclude = ["raw_compressed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
