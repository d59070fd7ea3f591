"""The contact form, and the single-line fields any form that sends mail can use. Forms only validate."""
from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from spooler.services.header_input import AddressError, address_parse, header_text_problem


def _refuse_line_breaks(value) -> None:
    # Before the field strips its ends, so "Subject\r\n" is refused rather than quietly cut.
    if isinstance(value, str) and header_text_problem(value):
        raise ValidationError(_("Line breaks and control characters are not allowed here."), code="line_break")


class SingleLineField(forms.CharField):
    """Text for one line (a name, a subject): CR, LF and every other control character refused beside the field."""

    def to_python(self, value):
        _refuse_line_breaks(value)
        return super().to_python(value)


class SingleLineEmailField(forms.EmailField):
    """An address the spool can send to and write in a header (quoted only when needed, IDN as A-labels)."""

    def to_python(self, value):
        _refuse_line_breaks(value)
        return super().to_python(value)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return address_parse(value)
        except AddressError:  # (stricter than Django's check in places: no top-level domain, a long local part)
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def limit_length(field: forms.CharField, max_length: int) -> None:
    """Give `field` the limit `max_length` when the form is made (so a changed setting counts at once)."""
    field.max_length = max_length
    field.validators = [v for v in field.validators if not isinstance(v, validators.MaxLengthValidator)]
    field.validators.append(validators.MaxLengthValidator(max_length))
    field.widget.attrs["maxlength"] = str(max_length)


class ContactForm(forms.Form):
    name = SingleLineField(label=_("Your name"))
    email = SingleLineEmailField(label=_("Your email address"), max_length=254,
                                 help_text=_("We answer to this address."))
    subject = SingleLineField(label=_("Subject"))
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))
    # The honeypot: hidden from people (and from screen readers), filled in by bots that fill in every field.
    website = forms.CharField(label=_("Leave this field empty"), required=False, strip=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    HONEYPOT = "website"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self.fields["name"], settings.CONTACT_MAX_NAME_CHARS)
        limit_length(self.fields["subject"], settings.CONTACT_MAX_SUBJECT_CHARS)
        limit_length(self.fields["message"], settings.CONTACT_MAX_MESSAGE_CHARS)

    def is_bot(self) -> bool:
        """The honeypot holds something (looked at before validation: a bot is thanked whatever else it sent)."""
        return bool(self.data.get(self.HONEYPOT))

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != self.HONEYPOT]
