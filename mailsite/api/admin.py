"""API tokens in the admin (staff): who has which, when last used; a leaked one is revoked here. The secret is not
stored, so nothing of it can be shown but its prefix."""
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, ngettext

from mailsite.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # (a token is made by its user, who alone sees the secret once)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", count) % {"n": count})
