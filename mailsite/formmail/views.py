"""The public contact form, and the password reset page with a rate limit. Thin: the form validates,
form_rate_limited counts, form_mail_send spools."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mailsite.formmail.client import client_address
from mailsite.formmail.forms import ContactForm
from mailsite.formmail.ratelimit import form_rate_limited
from mailsite.formmail.services import FormMailError, form_mail_send

TOO_MANY = 429


@login_not_required
@require_http_methods(["GET", "POST"])
def contact(request):
    user = request.user
    known = {"name": user.get_full_name() or user.get_username(), "email": user.email} if user.is_authenticated else {}
    form = ContactForm(request.POST or None, initial=known)
    if request.method == "POST":
        if form.is_bot():
            return redirect("formmail:contact_thanks")  # thanked as anyone is; nothing queued
        if form.is_valid():
            if form_rate_limited(scope="contact", client=client_address(request),
                                 per_client=settings.CONTACT_RATE_PER_IP, overall=settings.CONTACT_RATE_GLOBAL):
                form.add_error(None, _("Too many messages have been sent from here or to us just now. "
                                       "Your message was not sent; please try again later."))
                return render(request, "formmail/contact.html", {"form": form}, status=TOO_MANY)
            data = form.cleaned_data
            try:
                form_mail_send(form=form, to=[settings.CONTACT_EMAIL], template="formmail/email/contact",
                               subject=_("Contact form: %(subject)s") % {"subject": data["subject"]},
                               reply_to=[(data["name"], data["email"])])
            except FormMailError as exc:  # (the form's checks are the same, so not expected)
                form.add_error(None, str(exc))
                return render(request, "formmail/contact.html", {"form": form}, status=400)
            return redirect("formmail:contact_thanks")
    return render(request, "formmail/contact.html", {"form": form})


@login_not_required
def contact_thanks(request):
    return render(request, "formmail/contact_thanks.html")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page (its tokens, its mail through the spool), with our templates and a per-client limit:
    the form mails whoever's address is typed in, so it is counted like the contact form."""

    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        if form_rate_limited(scope="password_reset", client=client_address(self.request),
                             per_client=settings.PASSWORD_RESET_RATE_PER_IP):
            form.add_error(None, _("Too many password resets have been asked for from here just now. "
                                   "No email was sent; please try again later."))
            return self.render_to_response(self.get_context_data(form=form), status=TOO_MANY)
        return super().form_valid(form)
