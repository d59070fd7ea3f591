import pytest


@pytest.fixture(autouse=True)
def _spool_and_rate_limits(settings, rate_limit_redis):
    """Site mail goes to the spool, as in the site (pytest-django swaps in a memory backend for tests); every test
    counts rate limits in a private Redis database, emptied first."""
    settings.EMAIL_BACKEND = "spooler.backend.EmailBackend"
    return rate_limit_redis
