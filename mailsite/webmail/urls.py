from django.urls import path

from mailsite.webmail import views

app_name = "webmail"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("message/<int:message_id>/", views.message_detail, name="message"),
    path("compose/", views.compose, name="compose"),
    path("outbox/", views.outbox, name="outbox"),
    path("check/", views.check_now, name="check_now"),
    path("status/", views.account_status, name="status"),
]
