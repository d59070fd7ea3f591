"""Validators of the webmail's forms: header values stay on one line (no header injection)."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from spooler.services.header_input import header_text_problem


def no_line_breaks(value: str) -> None:
    """For values that are not header text (a user name, a password): CR and LF only."""
    if "\r" in value or "\n" in value:
        raise ValidationError(_("Line breaks are not allowed here."))


def one_header_line(value: str) -> None:
    """Text that goes into a header (a subject, a display name, an address list): every line separator
    str.splitlines() knows and every other control character is refused; TAB is allowed."""
    problem = header_text_problem(value)
    if problem:
        raise ValidationError(problem)
