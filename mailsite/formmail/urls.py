from django.urls import path

from mailsite.formmail import views

app_name = "formmail"
urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact_thanks"),
]
