from django.urls import path

from mailsite.webmail import views

app_name = "webmail"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("rows/", views.inbox_rows, name="inbox_rows"),
    path("message/<int:message_id>/", views.message_detail, name="message"),
    path("attachment/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("compose/", views.compose, name="compose"),
    path("outbox/", views.outbox, name="outbox"),
    path("check/", views.check_now, name="check_now"),
    path("status/", views.account_status, name="status"),
    path("mail-accounts/", views.account_settings, name="accounts"),
    path("mail-accounts/<int:account_id>/", views.account_edit, name="account_edit"),
]
