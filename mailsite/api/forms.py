from django import forms
from django.utils.translation import gettext_lazy as _

from spooler.services.header_input import header_text_problem


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. the program that uses it."))

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        problem = header_text_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        return name
