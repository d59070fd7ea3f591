from django.urls import path

from mailsite.webmail.views import accounts, attachments, compose, mail, outbox
from mailsite.webmail.views import contacts, drafts, reading
from mailsite.webmail.views import search as search_views

app_name = "webmail"
urlpatterns = [
    path("", mail.mailbox, name="inbox"),
    path("box/<slug:box>/", mail.mailbox, name="box"),
    path("folder/<path:folder>/", mail.mailbox, {"box": "folder"}, name="folder"),
    path("rows/", mail.mailbox_rows, name="inbox_rows"),
    path("messages/act/", mail.messages_act, name="act"),
    path("message/<int:message_id>/", reading.message_detail, name="message"),
    path("message/<int:message_id>/part/<str:token>/", reading.message_part, name="message_part"),
    path("message/<int:message_id>/original/", reading.message_original, name="message_original"),
    path("message/<int:message_id>/remote-sender/", reading.remote_sender_allow, name="remote_sender"),
    path("message/<int:message_id>/conversation/", reading.conversation, name="conversation"),
    path("search/", search_views.search_results, name="search"),
    path("attachment/<int:attachment_id>/", attachments.attachment_download, name="attachment"),
    path("compose/", compose.compose, name="compose"),
    path("compose/undo/", compose.compose_undo, name="compose_undo"),
    path("drafts/", drafts.draft_list, name="drafts"),
    path("drafts/save/", drafts.draft_save, name="draft_save"),
    path("drafts/<int:draft_id>/delete/", drafts.draft_delete, name="draft_delete"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/<int:contact_id>/remove/", contacts.contact_remove, name="contact_remove"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/status/", outbox.outbox_status, name="outbox_status"),
    path("outbox/<int:outbox_id>/", outbox.outbox_detail, name="outbox_message"),
    path("check/", accounts.check_now, name="check_now"),
    path("status/", accounts.account_status, name="status"),
    path("mail-accounts/", accounts.account_settings, name="accounts"),
    path("mail-accounts/add/", accounts.account_add, name="account_add"),
    path("mail-accounts/<int:account_id>/", accounts.account_edit, name="account_edit"),
    path("mail-accounts/<int:account_id>/remove/", accounts.account_remove, name="account_remove"),
    path("mail-accounts/test/", accounts.account_test, name="account_test_new"),
    path("mail-accounts/<int:account_id>/test/", accounts.account_test, name="account_test"),
    path("mail-accounts/test/<int:test_id>/", accounts.account_test_status, name="account_test_status"),
]
