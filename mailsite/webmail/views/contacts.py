"""Contacts: the addresses the user wrote to or got mail from; they add, rename and remove them."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mailsite.webmail.compose import contacts
from mailsite.webmail.forms import ContactForm


def contact_list(request):
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = contacts.contact_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("%(address)s saved.") % {"address": contact.address})
        return redirect("webmail:contacts")
    contacts.contacts_collect(user=request.user)
    return render(request, "webmail/contacts.html", {"form": form,
                                                      "contacts": contacts.contact_list(user=request.user)[:1000]})


@require_POST
def contact_remove(request, contact_id: int):
    if contacts.contact_remove(user=request.user, contact_id=contact_id):
        messages.success(request, _("Contact removed."))
    return redirect("webmail:contacts")
