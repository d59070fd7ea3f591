"""Forms only validate. Header values never carry line breaks (no header injection)."""
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_RECIPIENTS = 100


def no_line_breaks(value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValidationError("Line breaks are not allowed here.")


class AddressListField(forms.CharField):
    """A comma-separated list of plain e-mail addresses."""

    def __init__(self, **kwargs):
        super().__init__(validators=[no_line_breaks], **kwargs)

    def clean(self, value):
        no_line_breaks(value or "")
        value = super().clean(value)
        addresses = [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]
        if self.required and not addresses:
            raise ValidationError("Enter at least one address.")
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} recipients.")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"“{address}” is not a valid e-mail address.") from None
        return addresses


class ComposeForm(forms.Form):
    account = forms.ModelChoiceField(queryset=None, empty_label=None, label="From")
    to = AddressListField(label="To", help_text="Separate addresses with commas.")
    cc = AddressListField(label="Cc", required=False)
    subject = forms.CharField(max_length=900, required=False, strip=False, validators=[no_line_breaks])
    text = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 14}), required=False, strip=False)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts

    def clean_subject(self):
        return self.cleaned_data["subject"].strip(" \t")
