"""form_mail_send: mail from any form of the site, through the spool like all site mail.

It renders `<template>.txt` (plain text, not escaped) and `<template>.html` (autoescaped: what a visitor typed
cannot become markup) with the form's cleaned data, and hands both to Django's EmailMultiAlternatives, whose
EMAIL_BACKEND (spooler.backend) writes one outbox row: the request never waits on SMTP.
"""
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context, loader
from django.utils.translation import gettext as _

from spooler.services.header_input import AddressError, address_parse, header_text_problem


class FormMailError(ValueError):
    """A subject or an address that cannot go into a header: raised before anything is queued."""


def form_mail_send(*, form, to: list[str], template: str, subject: str, reply_to: list | None = None,
                   context: dict | None = None, from_email: str | None = None) -> int:
    """Spool one message rendered from `template` (.txt and .html) for the valid `form`; returns 1.

    The templates see `form`, `data` (its cleaned_data) and `context`. `reply_to` holds addresses or (name, address)
    pairs. Raises FormMailError for a line break or control character in the subject, or an address that is not
    one valid address; nothing is queued then.
    """
    subject = str(subject)
    if header_text_problem(subject):
        raise FormMailError(_("The subject cannot hold line breaks or control characters."))
    recipients = [_address(value) for value in to]
    if not recipients:
        raise FormMailError(_("A message needs at least one recipient."))
    answer_to = [_address(value) for value in reply_to or []]
    values = {"form": form, "data": form.cleaned_data, **(context or {})}
    text = _render(f"{template}.txt", values, autoescape=False)
    html = _render(f"{template}.html", values, autoescape=True)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_email or settings.DEFAULT_FROM_EMAIL,
                                     to=recipients, reply_to=answer_to)
    message.attach_alternative(html, "text/html")
    return message.send(fail_silently=False)


def _address(value) -> str:
    """`value` as one header address: "a@b.example", or '"Name" <a@b.example>' from a (name, address) pair."""
    name, address = value if isinstance(value, tuple) else ("", value)
    if header_text_problem(name) or header_text_problem(address):
        raise FormMailError(_("An address cannot hold line breaks or control characters."))
    try:
        address = address_parse(address.strip())
    except AddressError:
        raise FormMailError(_("“%(address)s” is not a valid email address.") % {"address": address}) from None
    return formataddr((name, address)) if name else address


def _render(name: str, values: dict, *, autoescape: bool) -> str:
    # The engine's template under Django's backend wrapper, rendered with autoescape chosen here: a text body
    # must show "<" and "&" as typed, an HTML body must escape them.
    return loader.get_template(name).template.render(Context(values, autoescape=autoescape))
