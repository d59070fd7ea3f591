"""spooler.sessions.errors: the one rule that splits reply codes into try-again-later and give-up."""

import pytest

from spooler.sessions import is_temporary


@pytest.mark.parametrize("code", [400, 421, 450, 452, 499])
def test_a_4xx_is_temporary(code):
    assert is_temporary(code) is True


@pytest.mark.parametrize("code", [None, -1, 250, 354, 399, 500, 550, 554, 599])
def test_anything_else_is_not(code):
    # None is no reply at all (a timeout): the exception's class says what to do with it, not this rule.
    assert is_temporary(code) is False
