from django.urls import path

from mailsite.webmail.views import accounts, attachments, compose, mail, outbox

app_name = "webmail"
urlpatterns = [
    path("", mail.inbox, name="inbox"),
    path("rows/", mail.inbox_rows, name="inbox_rows"),
    path("message/<int:message_id>/", mail.message_detail, name="message"),
    path("attachment/<int:attachment_id>/", attachments.attachment_download, name="attachment"),
    path("compose/", compose.compose, name="compose"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("check/", accounts.check_now, name="check_now"),
    path("status/", accounts.account_status, name="status"),
    path("mail-accounts/", accounts.account_settings, name="accounts"),
    path("mail-accounts/<int:account_id>/", accounts.account_edit, name="account_edit"),
]
