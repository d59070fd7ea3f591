"""The queue monitor (Django admin, staff only): the outbox with its counts, chart, attempts and actions.

Every action goes through a service function of spooler.services.outbound.queue_ops, the same ones `manage.py spool`
uses. Pages carry no inline script or style (the site's CSP forbids them): the chart is server-rendered SVG
styled by static/css/spool-monitor.css.
"""
from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from spooler.models import (FINAL_STATUSES, DeliveryAttempt, OutboxBody, OutboxMessage, OutboxStatus, RecipientStatus,
                            RelayLimit, SendingQuota)
from spooler.services.outbound import monitor, queue_ops
from spooler.services.outbound.bounce import original_headers


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["at", "outcome", "code", "text", "duration_ms", "refused"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"
    BUCKETS = {
        "5m": (_("less than 5 minutes"), timedelta(0), timedelta(minutes=5)),
        "1h": (_("5 to 60 minutes"), timedelta(minutes=5), timedelta(hours=1)),
        "1d": (_("1 to 24 hours"), timedelta(hours=1), timedelta(days=1)),
        "old": (_("more than a day"), timedelta(days=1), None),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _lo, _hi) in self.BUCKETS.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        _label, younger, older = self.BUCKETS[self.value()]
        now = timezone.now()
        queryset = queryset.filter(created_at__lte=now - younger)
        if older is not None:
            queryset = queryset.filter(created_at__gt=now - older)
        return queryset


def _cut(text: str, css: str, *, title: str | None = None) -> str:
    """One line, cut with an ellipsis by CSS (static/css/spool-monitor.css); the whole value on hover."""
    return format_html('<span class="spool-cut {}" title="{}">{}</span>', css, title if title is not None else text, text)


def _outcome_label(status: str | None) -> str:
    return RecipientStatus(status).label if status in RecipientStatus.values else _("pending")


def _short_time(moment) -> str:
    """The time if today, else the date, in the reader's zone and language (both in the title): a narrow column."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    shown = date_format(local, "TIME_FORMAT" if local.date() == timezone.localdate() else "SHORT_DATE_FORMAT")
    return format_html('<span class="spool-nowrap" title="{}">{}</span>', date_format(local, "DATETIME_FORMAT"), shown)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    # Seven short columns, long values cut to one line (the whole value in the cell's title): every column fits
    # beside the filters at 1280 px. The relay is a filter; the detail page has every field.
    list_display = ["id", "subject_display", "addresses", "status_badge", "tries", "when", "age"]
    list_display_links = ["id", "subject_display"]
    list_filter = ["status", "relay", AgeFilter]
    search_fields = ["recipients", "subject", "message_id"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["hold", "release", "requeue_now", "cancel", "delete_messages"]
    fields = ["status", "subject", "message_id", "envelope_from", "recipients", "relay", "user", "priority",
              "not_before", "next_attempt_at", "lease_until", "attempts", "last_code", "last_text", "expires_at",
              "created_at", "sent_at", "finished_at", "bounced_at", "recipient_outcomes", "headers"]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]

    class Media:
        css = {"all": ["css/spool-monitor.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("relay")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting goes through the service (delete_messages)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand: the actions change the queue. Viewing needs the view permission.
        return False

    def has_operate_permission(self, request):
        """Hold, release, requeue, cancel: staff with the change permission on outbox messages."""
        return request.user.has_perm("spooler.change_outboxmessage")

    # --- the page ---------------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        counts = monitor.status_counts()
        extra_context = {
            **(extra_context or {}),
            "spool_counts": [(OutboxStatus(s).label, s, n) for s, n in counts.items()],
            "spool_oldest": monitor.human_age(monitor.oldest_waiting_age()),
            "spool_chart": monitor.chart(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    # --- columns ----------------------------------------------------------------------------------

    @admin.display(description=_("subject"), ordering="subject")
    def subject_display(self, obj):
        return _cut(obj.subject or _("(no subject)"), "spool-subject")

    @admin.display(description=_("to / from"))
    def addresses(self, obj):
        """The first recipient (and how many more) over the sender, each on one line."""
        more = len(obj.recipients) - 1
        shown = (obj.recipients or [""])[0] + (f" (+{more})" if more > 0 else "")
        return format_html("{}{}", _cut(shown, "spool-rcpt", title=", ".join(obj.recipients)),
                           _cut(obj.envelope_from, "spool-from spool-note"))

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="spool-status spool-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("tries"), ordering="attempts")
    def tries(self, obj):
        return f"{obj.attempts} · {obj.last_code}" if obj.last_code else str(obj.attempts)

    @admin.display(description=_("next / done"), ordering="next_attempt_at")
    def when(self, obj):
        """A waiting row's next try (held back by "not before" said so), a finished row's end."""
        if obj.status in FINAL_STATUSES:
            return _short_time(obj.sent_at or obj.finished_at)
        now = timezone.now()
        if obj.not_before and obj.not_before > now and obj.not_before >= (obj.next_attempt_at or now):
            return format_html('<span class="spool-note">{}</span> {}', _("not before"), _short_time(obj.not_before))
        return _short_time(obj.next_attempt_at)

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj):
        return monitor.human_age(timezone.now() - obj.created_at)

    @admin.display(description=_("per-recipient outcome"))
    def recipient_outcomes(self, obj):
        if not obj.recipients:
            return "—"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (rcpt, _outcome_label((obj.outcomes.get(rcpt) or {}).get("status")),
                 (obj.outcomes.get(rcpt) or {}).get("code") or "", (obj.outcomes.get(rcpt) or {}).get("text", ""))
                for rcpt in obj.recipients
            ),
        )
        return format_html(
            '<table class="spool-outcomes"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>", _("recipient"), _("outcome"), _("code"), _("server's words"), rows)

    @admin.display(description=_("headers"))
    def headers(self, obj):
        raw = OutboxBody.objects.filter(message_id=obj.id).values_list("raw", flat=True).first() or b""
        return format_html('<pre class="spool-headers">{}</pre>',
                           original_headers(bytes(raw)).decode("utf-8", "replace"))

    # --- actions: each one calls a service --------------------------------------------------------

    def _done(self, request, count, text):
        self.message_user(request, text % {"count": count}, messages.SUCCESS if count else messages.WARNING)

    @admin.action(description=_("Hold selected messages"), permissions=["operate"])
    def hold(self, request, queryset):
        count = queue_ops.outbox_hold(ids=queryset.values_list("id", flat=True))
        self._done(request, count, ngettext("%(count)d message held.", "%(count)d messages held.", count))

    @admin.action(description=_("Release selected held messages"), permissions=["operate"])
    def release(self, request, queryset):
        count = queue_ops.outbox_release(ids=queryset.values_list("id", flat=True))
        self._done(request, count, ngettext("%(count)d message released.", "%(count)d messages released.", count))

    @admin.action(description=_("Requeue selected messages now"), permissions=["operate"])
    def requeue_now(self, request, queryset):
        count = queue_ops.outbox_requeue(ids=queryset.values_list("id", flat=True))
        self._done(request, count, ngettext("%(count)d message requeued.", "%(count)d messages requeued.", count))

    @admin.action(description=_("Cancel selected messages"), permissions=["operate"])
    def cancel(self, request, queryset):
        count = queue_ops.outbox_cancel(ids=queryset.values_list("id", flat=True))
        self._done(request, count, ngettext("%(count)d message cancelled.", "%(count)d messages cancelled.", count))

    @admin.action(description=_("Delete selected messages"), permissions=["delete"])
    def delete_messages(self, request, queryset):
        count = queue_ops.outbox_delete(ids=queryset.values_list("id", flat=True))
        self._done(request, count, ngettext("%(count)d message deleted.", "%(count)d messages deleted.", count))

    def delete_model(self, request, obj):
        queue_ops.outbox_delete(ids=[obj.id])

    def delete_queryset(self, request, queryset):
        queue_ops.outbox_delete(ids=queryset.values_list("id", flat=True))


@admin.register(RelayLimit)
class RelayLimitAdmin(admin.ModelAdmin):
    list_display = ["host", "port", "messages_per_minute", "max_connections"]


@admin.register(SendingQuota)
class SendingQuotaAdmin(admin.ModelAdmin):
    """Per-user exceptions to the SEND_QUOTA_* settings: other limits (empty: the site's), or none at all."""
    list_display = ["user", "unlimited", "messages_per_hour", "recipients_per_hour", "messages_per_day",
                    "recipients_per_day"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
