"""SSL contexts: verified by default, a custom CA on request, no verification only when asked."""

import functools
import ssl

SECURITY_CHOICES = ("none", "starttls", "tls")


def check_security(security):
    if security not in SECURITY_CHOICES:
        raise ValueError(f"security must be one of {SECURITY_CHOICES}, not {security!r}")
    return security


def make_context(ssl_context=None, cafile=None, insecure=False):
    """The context a session uses. An explicit ``ssl_context`` wins over ``cafile``/``insecure``."""
    if ssl_context is not None:
        return ssl_context
    return _cached_context(str(cafile) if cafile else None, bool(insecure))


@functools.lru_cache(maxsize=32)
def _cached_context(cafile, insecure):
    # Loading the system CA store costs milliseconds; a context is safe to share between sockets.
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
