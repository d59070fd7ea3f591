"""The queue monitor (staff only). Deepened by the outbound spooler issue."""
from django.contrib import admin

from spooler.models import DeliveryAttempt, OutboxMessage


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "code", "text", "duration_ms", "refused"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "envelope_from", "status", "attempts", "next_attempt_at", "created_at", "sent_at"]
    list_filter = ["status", "relay"]
    search_fields = ["subject", "message_id", "envelope_from", "recipients"]
    exclude = ["raw", "claim_token"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields if f.name not in ("raw", "claim_token")]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False
